// librdkafka's Kafka-protocol mock cluster, hosted in this process. Used by
// `kafka.bootstrap_servers: embedded` and by the tests' broker helper process.
// It is a test broker: loopback only, about 5 MiB kept per partition, no
// aborted-transaction filtering, no idempotent-producer dedup.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "postwire/schema/result.hpp"

namespace postwire {

class EmbeddedBroker {
 public:
  struct Options {
    int brokers = 3;
    int partitions = 3;
    std::vector<std::string> topics;  // created up front with `partitions` partitions
  };
  static Result<std::unique_ptr<EmbeddedBroker>> start(const Options& options);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..." (kernel-chosen ports)
  const std::string& bootstrap_servers() const { return bootstrap_; }
  // Take one broker down or up (tests of broker outages).
  void set_broker_down(int broker_id, bool down);

 private:
  EmbeddedBroker() = default;
  struct Handles;
  std::unique_ptr<Handles> handles_;
  std::string bootstrap_;
};

}  // namespace postwire
