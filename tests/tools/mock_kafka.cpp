// postwire-mock-kafka: hosts librdkafka's Kafka-protocol mock cluster in its own
// process for the integration tests (and for poking at by hand).
//
//   postwire-mock-kafka [--brokers N] [--partitions N] [--topics a,b,c]
//
// Prints the bootstrap servers as one line on stdout, then serves until stdin
// reaches EOF or SIGTERM/SIGINT arrives, and exits 0. Line commands on stdin:
//   down <id>   take broker <id> (1..N) down      -> "ok"
//   up <id>     bring it back                      -> "ok"
// Anything else is answered with "error: ..." on stdout.
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <csignal>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "postwire/daemon/embedded_broker.hpp"

namespace {

void usage() { std::cerr << "usage: postwire-mock-kafka [--brokers N] [--partitions N] [--topics a,b,c]\n"; }

bool parse_positive(const char* text, int& out) {
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < 1 || value > 1000) return false;
  out = static_cast<int>(value);
  return true;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

void answer(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// Handles one command line; returns the answer.
std::string handle(postwire::EmbeddedBroker& broker, int brokers, const std::string& line) {
  std::istringstream words(line);
  std::string verb;
  std::string id_text;
  std::string extra;
  words >> verb >> id_text >> extra;
  if (verb.empty()) return {};
  int id = 0;
  if ((verb != "down" && verb != "up") || !extra.empty() || !parse_positive(id_text.c_str(), id) ||
      id > brokers) {
    return "error: expected 'down <id>' or 'up <id>' with id in 1.." + std::to_string(brokers);
  }
  broker.set_broker_down(id, verb == "down");
  return "ok";
}

// Reads stdin line by line until EOF (then raises SIGUSR1 for the main thread)
// or until stop_fd becomes readable.
void stdin_loop(postwire::EmbeddedBroker& broker, int brokers, int stop_fd) {
  std::string pending;
  char buffer[1024];
  while (true) {
    pollfd fds[2] = {{0, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) return;
    const ssize_t n = ::read(0, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline = 0;
    while ((newline = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const std::string reply = handle(broker, brokers, line);
      if (!reply.empty()) answer(reply);
    }
  }
  ::kill(::getpid(), SIGUSR1);
}

}  // namespace

int main(int argc, char** argv) {
  postwire::EmbeddedBroker::Options options;
  options.topics = {"postwire.posts", "postwire.comments", "postwire.deadletter"};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    }
    if (i + 1 >= argc) {
      usage();
      return 64;
    }
    const char* value = argv[++i];
    if (arg == "--brokers") {
      if (!parse_positive(value, options.brokers)) {
        std::cerr << "postwire-mock-kafka: bad --brokers " << value << "\n";
        return 64;
      }
    } else if (arg == "--partitions") {
      if (!parse_positive(value, options.partitions)) {
        std::cerr << "postwire-mock-kafka: bad --partitions " << value << "\n";
        return 64;
      }
    } else if (arg == "--topics") {
      options.topics = split_commas(value);
    } else {
      usage();
      return 64;
    }
  }

  // Block the signals we wait for before any thread exists (librdkafka's
  // threads inherit the mask), so sigwait() below is the only taker.
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGTERM);
  sigaddset(&waited, SIGINT);
  sigaddset(&waited, SIGUSR1);
  sigaddset(&waited, SIGPIPE);  // a reader that went away must not kill us mid-shutdown
  if (pthread_sigmask(SIG_BLOCK, &waited, nullptr) != 0) {
    std::cerr << "postwire-mock-kafka: cannot block signals\n";
    return 1;
  }

  auto started = postwire::EmbeddedBroker::start(options);
  if (!started) {
    std::cerr << "postwire-mock-kafka: " << started.error().message << "\n";
    return 1;
  }
  std::unique_ptr<postwire::EmbeddedBroker> broker = std::move(started).value();
  answer(broker->bootstrap_servers());

  int stop_pipe[2];
  if (::pipe(stop_pipe) != 0) {
    std::cerr << "postwire-mock-kafka: pipe: " << std::strerror(errno) << "\n";
    return 1;
  }
  std::thread commands(stdin_loop, std::ref(*broker), options.brokers, stop_pipe[0]);

  int signo = 0;
  while (true) {
    if (sigwait(&waited, &signo) != 0) continue;
    if (signo != SIGPIPE) break;
  }

  const char byte = 0;
  if (::write(stop_pipe[1], &byte, 1) < 0) {
    std::cerr << "postwire-mock-kafka: cannot stop the command reader\n";
  }
  commands.join();
  ::close(stop_pipe[0]);
  ::close(stop_pipe[1]);
  broker.reset();
  return 0;
}
