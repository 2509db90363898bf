#include "postwire/daemon/polling_driver.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/daemon/embedded_broker.hpp"
#include "postwire/daemon/kafka_publisher.hpp"
#include "postwire/daemon/metrics.hpp"
#include "support/temp_dir.hpp"

namespace postwire {
namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;

TEST(PollDelay, HealthySourcesPollAtTheirInterval) {
  EXPECT_EQ(next_poll_delay(5min, 0), 5min);
  EXPECT_EQ(next_poll_delay(1s, 0), 1s);
}

TEST(PollDelay, FailuresBackOffExponentiallyAndCap) {
  EXPECT_EQ(next_poll_delay(5min, 1), 1s);
  EXPECT_EQ(next_poll_delay(5min, 2), 2s);
  EXPECT_EQ(next_poll_delay(5min, 5), 16s);
  EXPECT_EQ(next_poll_delay(5min, 40), 30min);  // capped at max(interval, 30 min)
  EXPECT_EQ(next_poll_delay(2h, 40), 2h);
}

class NoFetcher final : public Fetcher {
 public:
  asio::awaitable<Result<Document>> fetch(FetchRequest) override {
    co_return make_error(Errc::io, "not used");
  }
};

// A connector whose parsing throws on the compute pool, as a bug or bad_alloc would.
class ThrowingConnector final : public Connector {
 public:
  asio::awaitable<Result<PollBatch>> poll(PollContext& ctx) override {
    auto parse = []() -> PollBatch { throw std::runtime_error("parser exploded"); };
    co_return co_await run_compute(ctx.compute, std::move(parse));
  }
};

TEST(PollingDriver, AnExceptionFailsThePollWithALogAndAMetric) {
  testing::TempDir dir;
  auto broker = EmbeddedBroker::start({1, 1, {"postwire.posts", "postwire.comments", "postwire.deadletter"}});
  ASSERT_TRUE(broker);
  asio::io_context io;
  Metrics metrics;
  KafkaConfig kafka;
  kafka.bootstrap_servers = (*broker)->bootstrap_servers();
  auto publisher = KafkaPublisher::create(io, kafka, kafka.bootstrap_servers, metrics);
  ASSERT_TRUE(publisher) << publisher.error().message;
  auto store = DedupeStore::open(dir.path());
  ASSERT_TRUE(store);
  ConnectorRegistry registry;
  registry.add({"throwing", {}, [](const SourceSpec&) -> Result<std::unique_ptr<Connector>> {
                  return std::unique_ptr<Connector>(new ThrowingConnector);
                }});
  NoFetcher fetcher;
  ComputePool pool(1);
  PollingDriver driver(io, kafka, DeliveryMode::at_least_once, registry, fetcher, **store, **publisher,
                       metrics);
  driver.set_compute_pool(&pool);
  SourceSpec spec;
  spec.id = "bad";
  spec.type = "throwing";
  spec.url = "https://example.invalid/feed";
  bool done = false;
  const std::vector<SourceSpec> specs{spec};  // named: GCC 12 and temporaries in co_await
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await driver.poll_all_once(specs);
        done = true;
        io.stop();
      },
      asio::detached);
  io.run();
  EXPECT_TRUE(done);  // the poll ended (as a failure), it did not take the loop down
  EXPECT_EQ(driver.totals().source_errors, 1U);
  const std::string text = metrics.serialize();
  EXPECT_NE(text.find(R"(postwire_source_errors_total{reason="internal",source="bad"} 1)"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace postwire
