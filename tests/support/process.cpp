#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;  // NOLINT(readability-redundant-declaration)

namespace postwire::testing {
namespace {

// Writing to the stdin of a child that already exited must not kill the test
// binary; the child gets default dispositions back in posix_spawn below.
void ignore_sigpipe_once() {
  static const bool done = [] {
    struct sigaction action {};
    action.sa_handler = SIG_IGN;
    sigemptyset(&action.sa_mask);
    sigaction(SIGPIPE, &action, nullptr);
    return true;
  }();
  (void)done;
}

void make_pipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  ignore_sigpipe_once();
  for (const auto& arg : argv) {
    if (!command_line_.empty()) command_line_ += ' ';
    command_line_ += arg;
  }

  // Environment: the parent's, with the extra variables added or replaced.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos && options.env.count(entry.substr(0, eq)) != 0) continue;
    env_strings.push_back(std::move(entry));
  }
  for (const auto& [key, value] : options.env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  argp.reserve(args.size() + 1);
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  int in_pipe[2];
  int out_pipe[2];
  int err_pipe[2];
  int stop_pipe[2];
  make_pipe(stop_pipe);
  stop_read_fd_ = stop_pipe[0];
  stop_write_fd_ = stop_pipe[1];
  make_pipe(in_pipe);
  make_pipe(out_pipe);
  make_pipe(err_pipe);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears FD_CLOEXEC on the target; every other pipe end is O_CLOEXEC.
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!options.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_dir.c_str());
  }

  // The child starts with no blocked signals and default dispositions, whatever
  // this process (or the thread spawning it) did.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  const int rc = posix_spawnp(&pid_, argp[0], &actions, &attr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    close_fd(stop_read_fd_);
    close_fd(stop_write_fd_);
    pid_ = -1;
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  stdin_fd_ = in_pipe[1];
  out_thread_ = std::thread([this, fd = out_pipe[0]] { reader(fd, &out_); });
  err_thread_ = std::thread([this, fd = err_pipe[0]] { reader(fd, &err_); });
}

Subprocess::~Subprocess() {
  close_stdin();
  if (pid_ > 0) {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      reap(true);
    }
  }
  // The child is gone; its pipes close unless a grandchild inherited them, in
  // which case the readers are told to stop.
  join_readers(std::chrono::seconds(5));
  if (stop_write_fd_ >= 0) {
    const char byte = 0;
    (void)::write(stop_write_fd_, &byte, 1);
  }
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
  close_fd(stop_read_fd_);
  close_fd(stop_write_fd_);
}

void Subprocess::reader(int fd, Stream* stream) {
  char buffer[8192];
  while (true) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_read_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    ssize_t n = 0;
    if (ready < 0) {
      n = -1;
    } else if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
    } else if (fds[1].revents == 0) {
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (n <= 0) {
      stream->eof = true;
      cv_.notify_all();
      break;
    }
    stream->text.append(buffer, static_cast<std::size_t>(n));
    cv_.notify_all();
  }
  ::close(fd);
}

void Subprocess::join_readers(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  const bool drained = cv_.wait_for(lock, timeout, [this] { return out_.eof && err_.eof; });
  lock.unlock();
  if (drained) {
    if (out_thread_.joinable()) out_thread_.join();
    if (err_thread_.joinable()) err_thread_.join();
  }
}

bool Subprocess::write_stdin(const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    if (stdin_fd_ < 0) return false;
    const ssize_t n = ::write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

void Subprocess::close_stdin() { close_fd(stdin_fd_); }

void Subprocess::reap(bool block) {
  if (pid_ <= 0 || status_) return;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r < 0 && errno == EINTR) continue;
    if (r == pid_) {
      std::lock_guard<std::mutex> lock(mu_);
      status_ = status;
      cv_.notify_all();
    }
    return;
  }
}

bool Subprocess::running() {
  reap(false);
  return pid_ > 0 && !status_;
}

std::optional<int> Subprocess::exit_code() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!status_) return std::nullopt;
  if (WIFEXITED(*status_)) return WEXITSTATUS(*status_);
  if (WIFSIGNALED(*status_)) return 128 + WTERMSIG(*status_);
  return std::nullopt;
}

std::optional<int> Subprocess::term_signal() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_ && WIFSIGNALED(*status_)) return WTERMSIG(*status_);
  return std::nullopt;
}

std::optional<int> Subprocess::wait(std::chrono::milliseconds timeout) {
  const bool exited = wait_until([this] { return !running(); }, timeout, std::chrono::milliseconds(10));
  if (!exited) return std::nullopt;
  join_readers(std::chrono::seconds(5));
  return exit_code();
}

void Subprocess::signal(int signo) {
  if (running()) ::kill(pid_, signo);
}

void Subprocess::kill() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
}

std::string Subprocess::stdout_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return out_.text;
}

std::string Subprocess::stderr_text() const {
  std::lock_guard<std::mutex> lock(mu_);
  return err_.text;
}

std::optional<std::string> Subprocess::read_line_stdout(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  std::size_t newline = std::string::npos;
  cv_.wait_for(lock, timeout, [&] {
    newline = out_.text.find('\n', line_cursor_);
    return newline != std::string::npos || out_.eof;
  });
  if (newline == std::string::npos) newline = out_.text.find('\n', line_cursor_);
  if (newline == std::string::npos) return std::nullopt;
  std::string line = out_.text.substr(line_cursor_, newline - line_cursor_);
  line_cursor_ = newline + 1;
  return line;
}

bool Subprocess::wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] {
    return err_.text.find(needle) != std::string::npos || err_.eof;
  }) && err_.text.find(needle) != std::string::npos;
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const SpawnOptions& options, const std::string& stdin_text) {
  Subprocess process(argv, options);
  if (!stdin_text.empty()) process.write_stdin(stdin_text);
  process.close_stdin();
  RunResult result;
  result.exit_code = process.wait(timeout);
  if (!result.exit_code) process.kill();
  result.out = process.stdout_text();
  result.err = process.stderr_text();
  return result;
}

}  // namespace postwire::testing
