#include "postwire/daemon/polling_driver.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/daemon/embedded_broker.hpp"
#include "postwire/daemon/kafka_publisher.hpp"
#include "postwire/daemon/metrics.hpp"
#include "postwire/schema/ids.hpp"
#include "support/daemon.hpp"
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

// A broker in this process and a publisher on `io`, for drivers under test.
class PollingDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started =
        EmbeddedBroker::start({1, 1, {"postwire.posts", "postwire.comments", "postwire.deadletter"}});
    ASSERT_TRUE(started);
    broker = std::move(*started);
    kafka.bootstrap_servers = broker->bootstrap_servers();
    auto created = KafkaPublisher::create(io, kafka, kafka.bootstrap_servers, metrics);
    ASSERT_TRUE(created) << created.error().message;
    publisher = std::move(*created);
  }

  testing::TempDir dir;
  std::unique_ptr<EmbeddedBroker> broker;
  asio::io_context io;
  Metrics metrics;
  KafkaConfig kafka;
  std::unique_ptr<KafkaPublisher> publisher;
};

TEST_F(PollingDriverTest, AnExceptionFailsThePollWithALogAndAMetric) {
  auto store = DedupeStore::open(dir.path());
  ASSERT_TRUE(store);
  ConnectorRegistry registry;
  registry.add({"throwing", {}, [](const SourceSpec&) -> Result<std::unique_ptr<Connector>> {
                  return std::unique_ptr<Connector>(new ThrowingConnector);
                }});
  NoFetcher fetcher;
  ComputePool pool(1);
  PollingDriver driver(io, kafka, DeliveryMode::at_least_once, registry, fetcher, **store, *publisher,
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

// postwire_state_checkpoints_total{outcome="ok"} in a scrape; 0 when absent.
double checkpoints_ok(const std::string& text) {
  return testing::metric_value(text, "postwire_state_checkpoints_total", {{"outcome", "ok"}}).value_or(0);
}

// A checkpoint the store's thread finishes after the last commit reaches
// Prometheus at the next scrape (the daemon's /metrics handler calls
// report_state_metrics), not only with the next commit.
TEST_F(PollingDriverTest, StateMetricsReportCheckpointsBetweenCommits) {
  StoreOptions options;
  options.checkpoint_pages = 1;  // every commit asks for a checkpoint
  auto store = DedupeStore::open(dir.path(), options);
  ASSERT_TRUE(store) << store.error().message;
  ConnectorRegistry registry;
  NoFetcher fetcher;
  PollingDriver driver(io, kafka, DeliveryMode::at_least_once, registry, fetcher, **store, *publisher,
                       metrics);
  ASSERT_TRUE((*store)->checkpoint_stats().background);
  // Written behind the driver's back: no driver commit follows.
  for (int i = 0; i < 2000; ++i) {
    (*store)->acknowledge(make_post_id("s", std::to_string(i)), "s", make_content_hash("", std::to_string(i)),
                          1);
  }
  ASSERT_TRUE((*store)->flush());
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while ((*store)->checkpoint_stats().done == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  const auto done = (*store)->checkpoint_stats().done;
  ASSERT_GE(done, 1U);
  EXPECT_EQ(checkpoints_ok(metrics.serialize()), 0.0);  // nothing committed through the driver yet

  driver.report_state_metrics();
  const std::string text = metrics.serialize();
  // At least what had finished before; at most what has finished by now (the
  // checkpoint thread is not held still meanwhile).
  const double reported = checkpoints_ok(text);
  EXPECT_GE(reported, static_cast<double>(done)) << text;
  EXPECT_LE(reported, static_cast<double>((*store)->checkpoint_stats().done)) << text;
  EXPECT_EQ(testing::metric_value(text, "postwire_state_checkpoints_total", {{"outcome", "failed"}}), 0.0)
      << text;
  EXPECT_EQ(testing::metric_value(text, "postwire_state_items"), 2000.0) << text;
  // Counted once: scraping again adds only what finished since.
  driver.report_state_metrics();
  EXPECT_LE(checkpoints_ok(metrics.serialize()), static_cast<double>((*store)->checkpoint_stats().done));
}

}  // namespace
}  // namespace postwire
