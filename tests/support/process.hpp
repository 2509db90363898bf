// Child processes for tests: spawn, capture stdout/stderr, talk on stdin, wait
// with a deadline, and always kill and reap on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace postwire::testing {

using namespace std::chrono_literals;

struct SpawnOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the parent's environment
  std::string working_dir;                 // empty: the parent's
};

class Subprocess {
 public:
  // Starts argv[0] (looked up in PATH when it has no slash). Throws
  // std::runtime_error if the program cannot be started.
  explicit Subprocess(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  ~Subprocess();  // SIGKILL if still running, then reap; joins the reader threads
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // Writes to the child's stdin; false if the pipe is closed (child gone).
  bool write_stdin(const std::string& data);
  void close_stdin();

  // Waits until the child exits or the timeout passes. Returns the exit code,
  // 128+N if it died of signal N, nullopt on timeout. Once exited, also waits
  // (briefly) for the output pipes to drain, so stdout_text() is complete.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::optional<int> exit_code() const;    // nullopt while running
  std::optional<int> term_signal() const;  // the signal that ended it, if any

  void signal(int signo);
  void kill();  // SIGKILL and reap

  std::string stdout_text() const;
  std::string stderr_text() const;
  // The next complete line of stdout (without '\n') not yet returned by this
  // function; nullopt at the deadline or when stdout ended without another line.
  std::optional<std::string> read_line_stdout(std::chrono::milliseconds timeout);
  // Waits until stderr contains `needle` (or the process exited / deadline).
  bool wait_for_stderr(const std::string& needle, std::chrono::milliseconds timeout);

  // "argv0 arg1 ..." for messages.
  const std::string& command_line() const { return command_line_; }

 private:
  struct Stream {
    std::string text;
    bool eof = false;
  };
  void reader(int fd, Stream* stream);
  void reap(bool block);
  void join_readers(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  std::string command_line_;
  int stdin_fd_ = -1;
  int stop_read_fd_ = -1;  // readable once the destructor gives up on the pipes
  int stop_write_fd_ = -1;
  std::optional<int> status_;  // raw waitpid status once reaped
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Stream out_;
  Stream err_;
  std::size_t line_cursor_ = 0;
  std::thread out_thread_;
  std::thread err_thread_;
};

struct RunResult {
  std::optional<int> exit_code;  // nullopt: killed at the timeout
  std::string out;
  std::string err;
};

// Runs argv to completion (killing it at the timeout), stdin closed at once.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 120s,
              const SpawnOptions& options = {}, const std::string& stdin_text = {});

// A deadline-bounded wait on a condition, polled every `every`.
template <class Pred>
bool wait_until(Pred&& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds every = std::chrono::milliseconds(25)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(every);
  }
}

}  // namespace postwire::testing
