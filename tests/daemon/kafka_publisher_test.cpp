#include "postwire/daemon/kafka_publisher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "postwire/daemon/embedded_broker.hpp"
#include "support/kafka_consumer.hpp"

namespace postwire {
namespace {

namespace asio = boost::asio;

struct Fixture {
  std::unique_ptr<EmbeddedBroker> broker;
  Metrics metrics;
  asio::io_context io;
  KafkaConfig config;
  Fixture() {
    auto b = EmbeddedBroker::start({1, 2, {"t"}});
    EXPECT_TRUE(b);
    broker = std::move(*b);
    config.bootstrap_servers = broker->bootstrap_servers();
    config.delivery_timeout = std::chrono::seconds(30);
  }
};

asio::awaitable<void> produce_n(KafkaPublisher& p, int n, int& acked, int& failed,
                                const std::string& prefix) {
  for (int i = 0; i < n; ++i) {
    OutgoingMessage m{"t", "k" + std::to_string(i % 3), prefix + std::to_string(i), {{"ce_id", prefix}}};
    auto r = co_await p.produce(std::move(m), [&](const Result<Delivery>& d) { d ? ++acked : ++failed; });
    EXPECT_TRUE(r);
  }
}

TEST(KafkaPublisher, DeliveryReportsAreTheSourceOfTruth) {
  Fixture f;
  auto pub = KafkaPublisher::create(f.io, f.config, f.config.bootstrap_servers, f.metrics);
  ASSERT_TRUE(pub) << pub.error().message;
  int acked = 0;
  int failed = 0;
  std::size_t left = 99;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        co_await produce_n(**pub, 50, acked, failed, "m");
        left = co_await (*pub)->drain(std::chrono::seconds(30));
        f.io.stop();
      },
      asio::detached);
  f.io.run();
  EXPECT_EQ(left, 0U);
  EXPECT_EQ(acked, 50);
  EXPECT_EQ(failed, 0);
  const auto messages = testing::consume_all(f.config.bootstrap_servers, "t", std::chrono::seconds(30));
  EXPECT_EQ(messages.size(), 50U);
}

TEST(KafkaPublisher, FatalErrorRecreatesTheProducerAndKeepsDelivering) {
  Fixture f;
  auto pub = KafkaPublisher::create(f.io, f.config, f.config.bootstrap_servers, f.metrics);
  ASSERT_TRUE(pub) << pub.error().message;
  int acked = 0;
  int failed = 0;
  asio::co_spawn(
      f.io,
      [&]() -> asio::awaitable<void> {
        co_await produce_n(**pub, 10, acked, failed, "before");
        co_await (*pub)->drain(std::chrono::seconds(30));
        (*pub)->trigger_fatal_error_for_testing();
        co_await produce_n(**pub, 10, acked, failed, "after");
        co_await (*pub)->drain(std::chrono::seconds(30));
        f.io.stop();
      },
      asio::detached);
  f.io.run();
  EXPECT_EQ((*pub)->recreations(), 1);
  // Every message got a report: delivered, or failed back to its owner (which
  // re-produces it from state). None is silently lost.
  EXPECT_EQ(acked + failed, 20);
  EXPECT_GE(acked, 10);
  EXPECT_EQ((*pub)->in_flight(), 0U);
}

}  // namespace
}  // namespace postwire
