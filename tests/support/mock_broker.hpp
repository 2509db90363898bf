// A real Kafka-protocol broker for tests: librdkafka's mock cluster hosted in
// the postwire-mock-kafka helper process, reached over TCP on loopback.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace postwire::testing {

class MockBroker {
 public:
  struct Options {
    int brokers = 3;
    int partitions = 3;
    std::vector<std::string> topics = {"postwire.posts", "postwire.comments", "postwire.deadletter"};
  };
  MockBroker();
  // Starts the helper and waits (30s at most) for its bootstrap line; throws
  // std::runtime_error with the helper's stderr if it does not come.
  explicit MockBroker(const Options& options);
  ~MockBroker();  // closes the helper's stdin (it exits), kills it if it lingers
  MockBroker(const MockBroker&) = delete;
  MockBroker& operator=(const MockBroker&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }
  // Broker ids are 1..brokers. Throw std::runtime_error if the helper does not answer "ok".
  void broker_down(int id);
  void broker_up(int id);

 private:
  void command(const std::string& line);
  std::unique_ptr<Subprocess> process_;
  std::string bootstrap_;
};

}  // namespace postwire::testing
