#include "postwire/daemon/kafka_publisher.hpp"

#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace postwire {

namespace asio = boost::asio;

namespace {

// Owns the payload until the delivery report: librdkafka reads it in place
// (no RD_KAFKA_MSG_F_COPY) when it builds the batch, and retries, from there.
struct InFlight {
  DeliveryHandler handler;
  std::string payload;
};

}  // namespace

KafkaPublisher::KafkaPublisher(asio::io_context& io, Metrics& metrics)
    : io_(io), metrics_(metrics), tick_(io) {}

Result<std::unique_ptr<KafkaPublisher>> KafkaPublisher::create(asio::io_context& io,
                                                               const KafkaConfig& config,
                                                               const std::string& bootstrap_servers,
                                                               Metrics& metrics) {
  std::unique_ptr<KafkaPublisher> self(new KafkaPublisher(io, metrics));
  // Defaults a user may override through kafka.librdkafka...
  self->settings_ = {
      {"linger.ms", "5"},
      {"compression.type", "lz4"},
      {"partitioner",
       "murmur2_random"},  // the Java client's mapping: keys land where other producers put them
  };
  for (const auto& kv : config.librdkafka) self->settings_.push_back(kv);
  // ...and the ones the delivery guarantees rest on, which they may not.
  self->settings_.insert(self->settings_.end(),
                         {
                             {"bootstrap.servers", bootstrap_servers},
                             {"client.id", config.client_id},
                             {"enable.idempotence", "true"},
                             {"acks", "all"},
                             {"message.timeout.ms", std::to_string(config.delivery_timeout.count())},
                         });
  // librdkafka writes to this pipe when its main queue has something to serve,
  // so delivery reports are handled as soon as they arrive, on our loop.
  if (::pipe2(self->wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
    return make_error(Errc::kafka, "cannot create wake-up pipe");
  }
  self->wake_ = std::make_unique<asio::posix::stream_descriptor>(io, self->wake_fds_[0]);
  if (auto r = self->open_handle(); !r) return r.error();
  self->watch_queue();
  self->serve();
  self->start_probe();
  return self;
}

Result<void> KafkaPublisher::open_handle() {
  std::array<char, 512> errstr{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : settings_) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr.data(), errstr.size()) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(Errc::config, fmt::format("kafka property {}={}: {}", k, v, errstr.data()));
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaPublisher::on_delivery_report);
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    on_error(rk, err, reason, opaque);
  });
  rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.data(), errstr.size());
  if (rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::kafka, std::string("cannot create Kafka producer: ") + errstr.data());
  }
  rd_kafka_queue_t* main_queue = rd_kafka_queue_get_main(rk_);
  rd_kafka_queue_io_event_enable(main_queue, wake_fds_[1], "1", 1);
  rd_kafka_queue_destroy(main_queue);
  return {};
}

void KafkaPublisher::close_handle() {
  if (rk_ == nullptr) return;
  // Whatever is still queued or in flight gets its (failed) report now, so every
  // owner learns its event was not delivered.
  rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  for (int i = 0; i < 100 && in_flight_ > 0; ++i) rd_kafka_poll(rk_, 10);
  rd_kafka_destroy(rk_);
  rk_ = nullptr;
}

void KafkaPublisher::recreate() {
  recreate_pending_ = false;
  spdlog::error(
      "recreating the Kafka producer after a fatal error; {} unacknowledged events will be produced "
      "again from state",
      in_flight_);
  stop_probe();
  close_handle();
  if (auto r = open_handle(); !r) {
    spdlog::error("cannot recreate the Kafka producer: {}; retrying in 1s", r.error().message);
    recreate_pending_ = true;
    auto retry = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(1));
    retry->async_wait([this, retry](const boost::system::error_code& ec) {
      if (!ec) recreate();
    });
    return;
  }
  ++recreations_;
  metrics_.publish_errors.Add({{"reason", "producer_recreated"}}).Increment();
  start_probe();
}

void KafkaPublisher::trigger_fatal_error_for_testing() {
  rd_kafka_test_fatal_error(rk_, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            "test-triggered fatal error");
}

KafkaPublisher::~KafkaPublisher() {  // NOLINT(bugprone-exception-escape): see the header
  stop_probe();
  tick_.cancel();
  if (wake_) wake_->cancel();
  close_handle();
  if (wake_) wake_->close();  // closes wake_fds_[0]
  if (wake_fds_[1] >= 0) ::close(wake_fds_[1]);
}

void KafkaPublisher::start_probe() {
  {
    std::lock_guard lock(probe_mutex_);
    stopping_ = false;
  }
  probe_ = std::thread([this] { probe_loop(); });
}

void KafkaPublisher::stop_probe() {
  {
    std::lock_guard lock(probe_mutex_);
    stopping_ = true;
  }
  probe_cv_.notify_all();
  if (probe_.joinable()) probe_.join();
}

void KafkaPublisher::watch_queue() {
  wake_->async_wait(asio::posix::stream_descriptor::wait_read, [this](const boost::system::error_code& ec) {
    if (ec) return;
    std::array<char, 256> sink{};
    while (::read(wake_fds_[0], sink.data(), sink.size()) > 0) {
    }
    rd_kafka_poll(rk_, 0);
    watch_queue();
  });
}

// A slow tick as a safety net: the pipe is edge-triggered by librdkafka.
void KafkaPublisher::serve() {
  tick_.expires_after(std::chrono::milliseconds(100));
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    rd_kafka_poll(rk_, 0);
    metrics_.kafka_up.Set(reachable_.load() ? 1 : 0);
    serve();
  });
}

void KafkaPublisher::probe_loop() {
  std::unique_lock lock(probe_mutex_);
  while (!stopping_) {
    lock.unlock();
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(rk_, 0, nullptr, &md, 3000);
    const bool up = err == RD_KAFKA_RESP_ERR_NO_ERROR && md != nullptr && md->broker_cnt > 0;
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    if (up != reachable_.exchange(up)) {
      if (up) {
        spdlog::info("kafka reachable");
      } else {
        spdlog::warn("kafka unreachable: metadata request failed: {}", rd_kafka_err2str(err));
      }
    }
    lock.lock();
    probe_cv_.wait_for(lock, up ? std::chrono::seconds(10) : std::chrono::seconds(1),
                       [this] { return stopping_; });
  }
}

void KafkaPublisher::on_error(rd_kafka_s* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaPublisher*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    std::array<char, 512> buf{};
    const auto fatal = rd_kafka_fatal_error(rk, buf.data(), buf.size());
    spdlog::error("kafka fatal error {}: {}", rd_kafka_err2name(fatal), buf.data());
    self->metrics_.publish_errors.Add({{"reason", "fatal"}}).Increment();
    // Never destroy a handle from inside its own callback: do it from the loop.
    if (!self->recreate_pending_) {
      self->recreate_pending_ = true;
      asio::post(self->io_, [self] { self->recreate(); });
    }
    return;
  }
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) self->reachable_ = false;
  spdlog::warn("kafka: {}: {}", rd_kafka_err2name(code), reason);
}

void KafkaPublisher::on_delivery_report(rd_kafka_s* /*rk*/, const rd_kafka_message_s* msg, void* opaque) {
  auto* self = static_cast<KafkaPublisher*>(opaque);
  std::unique_ptr<InFlight> pending(static_cast<InFlight*>(msg->_private));
  --self->in_flight_;
  self->metrics_.inflight.Set(static_cast<double>(self->in_flight_));
  // The last report ends a drain at once rather than at its next tick.
  if (self->in_flight_ == 0 && self->drain_wait_ != nullptr) self->drain_wait_->cancel();
  const char* topic = rd_kafka_topic_name(msg->rkt);
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->metrics_.publish_errors.Add({{"reason", rd_kafka_err2name(msg->err)}}).Increment();
    if (pending) {
      pending->handler(make_error(
          Errc::kafka, std::string("delivery to ") + topic + " failed: " + rd_kafka_err2str(msg->err)));
    }
    return;
  }
  self->reachable_ = true;
  self->published_counter(topic).Increment();
  if (pending) pending->handler(Delivery{topic, msg->partition, msg->offset});
}

prometheus::Counter& KafkaPublisher::published_counter(const char* topic) {
  for (auto& [name, counter] : published_counters_) {
    if (name == topic) return *counter;
  }
  auto& counter = metrics_.published.Add({{"topic", topic}});
  published_counters_.emplace_back(topic, &counter);
  return counter;
}

asio::awaitable<Result<void>> KafkaPublisher::produce(OutgoingMessage message, DeliveryHandler on_delivery) {
  auto pending = std::make_unique<InFlight>(InFlight{std::move(on_delivery), std::move(message.payload)});
  for (;;) {
    if (recreate_pending_ || rk_ == nullptr) {
      asio::steady_timer wait(io_, std::chrono::milliseconds(50));
      boost::system::error_code ec;
      co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    rd_kafka_headers_t* headers = rd_kafka_headers_new(message.headers.size());
    for (const auto& [name, value] : message.headers) {
      rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()), value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    // rd_kafka_produceva rather than the RD_KAFKA_V_* macros: same call, no C casts.
    std::array<rd_kafka_vu_t, 6> vus{};
    vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[0].u.cstr = message.topic.c_str();
    vus[1].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[1].u.i = 0;  // the payload stays in `pending` until the report
    vus[2].vtype = RD_KAFKA_VTYPE_KEY;
    vus[2].u.mem = {message.key.data(), message.key.size()};
    vus[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[3].u.mem = {pending->payload.data(), pending->payload.size()};
    vus[4].vtype = RD_KAFKA_VTYPE_HEADERS;
    vus[4].u.headers = headers;
    vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[5].u.ptr = pending.get();
    rd_kafka_error_t* error = rd_kafka_produceva(rk_, vus.data(), vus.size());
    const auto err = error == nullptr ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_error_code(error);
    if (error != nullptr) rd_kafka_error_destroy(error);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      static_cast<void>(pending.release());  // owned by librdkafka until the delivery report
      ++in_flight_;
      metrics_.inflight.Set(static_cast<double>(in_flight_));
      co_return Result<void>{};
    }
    rd_kafka_headers_destroy(headers);
    if (err == RD_KAFKA_RESP_ERR__FATAL ||
        rd_kafka_fatal_error(rk_, nullptr, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // The error callback may not have been served yet: start the recreation here.
      if (!recreate_pending_) {
        recreate_pending_ = true;
        asio::post(io_, [this] { recreate(); });
      }
      continue;
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      metrics_.publish_errors.Add({{"reason", rd_kafka_err2name(err)}}).Increment();
      co_return make_error(Errc::kafka, "produce to " + message.topic + " failed: " + rd_kafka_err2str(err));
    }
    // Back-pressure: let delivery reports drain the queue, then try again.
    metrics_.publish_errors.Add({{"reason", "queue_full"}}).Increment();
    rd_kafka_poll(rk_, 0);
    asio::steady_timer wait(io_, std::chrono::milliseconds(20));
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<std::size_t> KafkaPublisher::drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_ > 0 && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(rk_, 0);
    if (in_flight_ == 0) break;
    asio::steady_timer wait(io_, std::chrono::milliseconds(10));
    drain_wait_ = &wait;
    boost::system::error_code ec;
    co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    drain_wait_ = nullptr;
  }
  co_return in_flight_;
}

}  // namespace postwire
