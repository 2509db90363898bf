// The sink. librdkafka's delivery reports are the source of truth: an event is
// published when, and only when, its report says the broker has it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "postwire/daemon/config.hpp"
#include "postwire/daemon/metrics.hpp"
#include "postwire/schema/result.hpp"

struct rd_kafka_s;
struct rd_kafka_message_s;

namespace postwire {

struct OutgoingMessage {
  std::string topic;
  std::string key;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Delivery {
  std::string topic;
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

// Called on the event loop thread with the delivery report.
using DeliveryHandler = std::function<void(Result<Delivery>)>;

class KafkaPublisher {
 public:
  static Result<std::unique_ptr<KafkaPublisher>> create(boost::asio::io_context& io,
                                                        const KafkaConfig& config,
                                                        const std::string& bootstrap_servers,
                                                        Metrics& metrics);
  // Joining the probe thread and cancelling timers only throw on a broken
  // invariant, where terminating is right.
  ~KafkaPublisher();  // NOLINT(bugprone-exception-escape)
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  // Hands one message to the producer. Waits (without blocking the loop) while
  // the producer queue is full: back-pressure instead of dropping.
  boost::asio::awaitable<Result<void>> produce(OutgoingMessage message, DeliveryHandler on_delivery);

  // Waits until every produced message has its delivery report, or `timeout`.
  // Returns the number still in flight.
  boost::asio::awaitable<std::size_t> drain(std::chrono::milliseconds timeout);

  std::size_t in_flight() const { return in_flight_; }
  bool reachable() const { return reachable_.load(); }
  int recreations() const { return recreations_; }

  // Raises a fatal producer error the way librdkafka would (tests only).
  void trigger_fatal_error_for_testing();

 private:
  KafkaPublisher(boost::asio::io_context& io, Metrics& metrics);
  Result<void> open_handle();
  void close_handle();
  // After a fatal error (librdkafka 2.0.x raises them e.g. after idempotence
  // sequence problems following timeouts) the handle is useless: fail what it
  // still holds back to the driver, which re-produces from state, and start over.
  void recreate();
  void start_probe();
  void stop_probe();
  void watch_queue();
  void serve();
  static void on_delivery_report(rd_kafka_s* rk, const rd_kafka_message_s* msg, void* opaque);
  static void on_error(rd_kafka_s* rk, int err, const char* reason, void* opaque);
  void probe_loop();
  prometheus::Counter& published_counter(const char* topic);

  boost::asio::io_context& io_;
  Metrics& metrics_;
  rd_kafka_s* rk_ = nullptr;
  int wake_fds_[2] = {-1, -1};
  std::unique_ptr<boost::asio::posix::stream_descriptor> wake_;
  boost::asio::steady_timer tick_;
  std::size_t in_flight_ = 0;
  boost::asio::steady_timer* drain_wait_ = nullptr;  // drain()'s tick, while it waits
  // One counter per topic, found once: the family's label lookup (a map built,
  // hashed and locked) would otherwise run for every delivery report.
  std::vector<std::pair<std::string, prometheus::Counter*>> published_counters_;
  std::vector<std::pair<std::string, std::string>> settings_;
  bool recreate_pending_ = false;
  int recreations_ = 0;
  std::atomic<bool> reachable_{false};
  std::thread probe_;  // metadata probe for /readyz: blocking calls stay off the loop
  std::mutex probe_mutex_;
  std::condition_variable probe_cv_;
  bool stopping_ = false;
};

}  // namespace postwire
