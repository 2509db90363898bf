// The generic polling driver: it owns scheduling, backoff, the per-source
// metrics, dedupe decisions, publishing and acknowledgements. Connectors only
// fetch and map (connectors/include/postwire/connectors/connector.hpp).
//
// One post's path: source_loop -> poll_once -> Connector::poll -> DedupeStore::classify
// -> KafkaPublisher::produce -> delivery report -> DedupeStore::acknowledge -> flush.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "postwire/connectors/connector.hpp"
#include "postwire/daemon/config.hpp"
#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/daemon/kafka_publisher.hpp"
#include "postwire/daemon/metrics.hpp"
#include "postwire/schema/event.hpp"

namespace postwire {

struct RunTotals {
  std::uint64_t sources_polled = 0;
  std::uint64_t source_errors = 0;  // polls that failed as a whole
  std::uint64_t produced = 0;
  std::uint64_t published = 0;  // post and comment events acknowledged
  std::uint64_t duplicates = 0;
  std::uint64_t unchanged = 0;      // of the duplicates: skipped by the connector before normalising
  std::uint64_t undelivered = 0;    // delivery reports that failed
  std::uint64_t dead_lettered = 0;  // dead-letter events acknowledged
  std::uint64_t cross_source = 0;   // syndicated copies seen (marked or dropped)
};

class PollingDriver {
 public:
  using AckObserver = std::function<void(const Event&, const Delivery&)>;

  PollingDriver(boost::asio::io_context& io, KafkaConfig kafka, DeliveryMode delivery,
                const ConnectorRegistry& registry, Fetcher& fetcher, DedupeStore& store,
                KafkaPublisher& publisher, Metrics& metrics);
  // Timer cancels only throw on a broken invariant, where terminating is right.
  ~PollingDriver();  // NOLINT(bugprone-exception-escape)
  // Connectors parse and normalise on this pool (PollContext::compute); unset: on the loop's thread.
  void set_compute_pool(ComputePool* pool) { compute_ = pool; }
  // How long acknowledged batches may wait to share one state transaction (state.commit_interval).
  void set_commit_interval(std::chrono::milliseconds interval) { commit_interval_ = interval; }

  // Daemon mode: one coroutine per source on the loop, polling every interval.
  void start(const std::vector<SourceSpec>& sources);
  // SIGHUP: starts new sources, restarts changed ones, stops removed ones.
  // Polls already running finish; their in-flight events are not touched.
  void apply(const std::vector<SourceSpec>& sources);
  // Stops scheduling new polls.
  void stop();
  // Writes what acknowledged batches left to the store (see finish_batch). The
  // loop does this by itself; call it once more after the loop stopped.
  Result<void> commit();
  // Passes the store's item count and the checkpoint thread's counts on to the
  // metrics. commit() does; so does each /metrics scrape, so that a checkpoint
  // that failed after the last commit shows before the next one.
  void report_state_metrics();

  // `once` mode: polls every source one time and returns when all polls are done
  // (deliveries may still be in flight: drain the publisher afterwards).
  boost::asio::awaitable<void> poll_all_once(const std::vector<SourceSpec>& sources);

  void set_ack_observer(AckObserver observer) { observer_ = std::move(observer); }
  // Exactly-once mode: called when a delivery fails. Whether the broker has the
  // event is unknown until the outbox is recovered, so the owner stops the daemon
  // (a restart recovers) rather than risk a duplicate.
  void set_unresolved_handler(std::function<void()> handler) { on_unresolved_ = std::move(handler); }
  const RunTotals& totals() const { return totals_; }

 private:
  struct Source;
  struct Batch;
  struct CrossSourceKeys;
  struct AckRecord;
  struct PreparedEvent;
  std::shared_ptr<Source> make_source(const SourceSpec& spec);
  boost::asio::awaitable<void> source_loop(std::shared_ptr<Source> source);
  boost::asio::awaitable<bool> poll_once(Source& source);
  // Pure: safe on the compute pool. Serialises the event into its Kafka message.
  static PreparedEvent prepare_event(Event event, const std::string& topic, bool keep_event);
  // Coroutine parameters are taken by value: a reference could outlive its referent.
  boost::asio::awaitable<void> publish(std::shared_ptr<Batch> batch, PreparedEvent prepared);
  boost::asio::awaitable<void> dead_letter(std::shared_ptr<Batch> batch, ItemFailure failure);
  void finish_batch(Batch& batch);
  boost::asio::awaitable<bool> guarded_poll(Source& source);
  // Pure: safe on the compute pool. Only the alias key for an unchanged post.
  static CrossSourceKeys cross_source_keys(const std::string& source_id, const PostData& post);
  // Keeps a post's id stable when a source re-issues guids for the same link.
  void resolve_identity(const CrossSourceKeys& keys, PostData& post);
  // Sets duplicate_of for a syndicated copy; returns true if the copy is to be dropped.
  bool mark_cross_source(const SourceSpec& spec, const CrossSourceKeys& keys, PostData& post);

  boost::asio::io_context& io_;
  KafkaConfig kafka_;
  DeliveryMode delivery_;
  std::function<void()> on_unresolved_;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> acked_offsets_;  // next offset per partition
  const ConnectorRegistry& registry_;
  Fetcher& fetcher_;
  DedupeStore& store_;
  CheckpointStats reported_checkpoints_;  // what report_state_metrics() last passed on
  KafkaPublisher& publisher_;
  ComputePool* compute_ = nullptr;
  Metrics& metrics_;
  bool commit_posted_ = false;
  boost::asio::steady_timer commit_timer_;
  std::chrono::milliseconds commit_interval_{0};
  std::size_t commit_batches_ = 0;                // batches waiting for commit()
  std::vector<std::string> commit_acked_events_;  // exactly-once: their events, to clear from the outbox
  AckObserver observer_;
  std::map<std::string, std::shared_ptr<Source>> sources_;
  RunTotals totals_;
  bool stopped_ = false;
};

// Poll delay after `failures` consecutive failed polls: the interval when
// healthy, doubling per failure (from a 1 s floor) up to max(interval, 30 min).
std::chrono::milliseconds next_poll_delay(std::chrono::milliseconds interval, int failures);

}  // namespace postwire
