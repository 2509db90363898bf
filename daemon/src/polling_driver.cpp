#include "postwire/daemon/polling_driver.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <unordered_map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "postwire/daemon/crash_points.hpp"
#include "postwire/daemon/simhash.hpp"
#include "postwire/schema/event_json.hpp"
#include "postwire/schema/ids.hpp"
#include "postwire/schema/time.hpp"

namespace postwire {

namespace asio = boost::asio;
using namespace std::chrono_literals;

struct PollingDriver::Source {
  Source(asio::io_context& io, SourceSpec s, std::unique_ptr<Connector> c)
      : spec(std::move(s)), connector(std::move(c)), timer(io) {}
  SourceSpec spec;
  std::unique_ptr<Connector> connector;
  asio::steady_timer timer;
  int failures = 0;
  bool stopped = false;
};

// Everything one poll produced. The source's validators advance only once the
// last event of the batch is acknowledged and nothing failed.
struct PollingDriver::Batch {
  std::string source_id;
  SourceRef source_ref;
  std::chrono::steady_clock::time_point fetched;
  SourceValidators validators;
  std::vector<std::string> acked_event_ids;  // exactly-once: cleared from the outbox after the flush
  std::size_t outstanding = 1;               // 1 for the producing side itself, released by finish_batch
  bool failed = false;
};

// A post's keys in the store's cross-source indexes (docs/state.md): pure
// functions of its link and text, so they are computed on the compute pool.
struct PollingDriver::CrossSourceKeys {
  std::optional<std::uint64_t> alias;    // per source: a guid re-issued for the same link
  std::optional<std::uint64_t> url;      // across sources: the same canonical link
  std::optional<std::uint64_t> simhash;  // across sources: nearly the same text, if long enough
};

namespace {

// 64-bit keys for the store's URL index. The alias key is per source (a guid
// re-issued for the same link); the plain key is across sources (syndication).
std::uint64_t key64(std::string_view material) {
  const std::string hex = sha256_hex(material);
  return std::stoull(hex.substr(0, 16), nullptr, 16);
}

std::uint64_t alias_key(const std::string& source_id, const std::string& url) {
  return key64("alias\x1f" + source_id + "\x1f" + url);
}

// Items counted per poll and reported once: a labelled counter lookup per item
// costs more than the rest of its bookkeeping.
class ItemTally {
 public:
  enum Result { fresh, updated, deleted, duplicate, kResults };
  void add(EventKind kind, Result result) { ++counts_[kind == EventKind::post ? 0 : 1][result]; }
  void report(Metrics& metrics, const std::string& source) const {
    static constexpr std::array<const char*, kResults> kNames = {"new", "updated", "deleted", "duplicate"};
    for (int k = 0; k < 2; ++k) {
      for (int r = 0; r < kResults; ++r) {
        if (counts_[k][r] > 0)
          metrics.count_item(source, k == 0 ? "post" : "comment", kNames[r],
                             static_cast<double>(counts_[k][r]));
      }
    }
  }

 private:
  std::array<std::array<std::size_t, kResults>, 2> counts_{};
};

}  // namespace

// What the event loop keeps of a published event until its delivery report.
struct PollingDriver::AckRecord {
  std::string event_id;
  std::string item_id;
  std::string content_hash;
  std::int64_t version = 1;
  std::shared_ptr<const Event> event;  // only for an ack observer (`--print`)
};

// A serialised event, ready for the producer.
struct PollingDriver::PreparedEvent {
  OutgoingMessage message;
  AckRecord ack;
};

PollingDriver::PreparedEvent PollingDriver::prepare_event(Event event, const std::string& topic,
                                                          bool keep_event) {
  PreparedEvent p;
  OutgoingMessage& message = p.message;
  message.topic = topic;
  message.key = event.thread_key();
  message.payload = to_json(event);
  message.headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", event.event_id},
      {"ce_source", "postwire/" + event.source.id},
      {"ce_type", std::string("io.postwire.") + to_string(event.kind) + "." + to_string(event.event_type)},
      {"ce_time", format_rfc3339_millis(event.fetched_at)},
      {"content-type", "application/json"},
  };
  p.ack.event_id = event.event_id;
  p.ack.item_id = event.item_id();
  p.ack.content_hash = event.content_hash();
  p.ack.version = event.version;
  if (keep_event) p.ack.event = std::make_shared<const Event>(std::move(event));
  return p;
}

std::chrono::milliseconds next_poll_delay(std::chrono::milliseconds interval, int failures) {
  if (failures <= 0) return interval;
  const std::chrono::milliseconds cap = std::max<std::chrono::milliseconds>(interval, 30min);
  std::chrono::milliseconds delay = 1s;
  for (int i = 1; i < failures && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

PollingDriver::PollingDriver(asio::io_context& io, KafkaConfig kafka, DeliveryMode delivery,
                             const ConnectorRegistry& registry, Fetcher& fetcher, DedupeStore& store,
                             KafkaPublisher& publisher, Metrics& metrics)
    : io_(io),
      kafka_(std::move(kafka)),
      delivery_(delivery),
      registry_(registry),
      fetcher_(fetcher),
      store_(store),
      publisher_(publisher),
      metrics_(metrics),
      commit_timer_(io) {
  // Fixed when the store opened; set here so that it never reads 0 before the first commit.
  metrics_.state_checkpoint_background.Set(store_.checkpoint_stats().background ? 1 : 0);
}

PollingDriver::~PollingDriver() { stop(); }  // NOLINT(bugprone-exception-escape): see the header

std::shared_ptr<PollingDriver::Source> PollingDriver::make_source(const SourceSpec& spec) {
  const ConnectorFactory* factory = registry_.find(spec.type);
  if (factory == nullptr) {
    spdlog::error("source={} unknown type {}", spec.id, spec.type);
    return nullptr;
  }
  auto connector = factory->create(spec);
  if (!connector) {
    spdlog::error("source={} cannot be created: {}", spec.id, connector.error().message);
    return nullptr;
  }
  return std::make_shared<Source>(io_, spec, std::move(*connector));
}

void PollingDriver::start(const std::vector<SourceSpec>& sources) { apply(sources); }

void PollingDriver::apply(const std::vector<SourceSpec>& sources) {
  std::map<std::string, std::shared_ptr<Source>> next;
  for (const auto& spec : sources) {
    auto it = sources_.find(spec.id);
    if (it != sources_.end() && it->second->spec == spec) {
      next[spec.id] = it->second;
      continue;
    }
    if (it != sources_.end()) {
      spdlog::info("source={} changed; restarting it", spec.id);
      it->second->stopped = true;
      it->second->timer.cancel();
    } else {
      spdlog::info("source={} added ({} {})", spec.id, spec.type, spec.url);
    }
    auto source = make_source(spec);
    if (!source) continue;
    next[spec.id] = source;
    asio::co_spawn(io_, source_loop(source), asio::detached);
  }
  for (auto& [id, source] : sources_) {
    if (next.count(id) == 0) {
      spdlog::info("source={} removed", id);
      source->stopped = true;
      source->timer.cancel();
    }
  }
  sources_ = std::move(next);
}

void PollingDriver::stop() {
  stopped_ = true;
  for (auto& [id, source] : sources_) {
    source->stopped = true;
    source->timer.cancel();
  }
}

asio::awaitable<bool> PollingDriver::guarded_poll(Source& source) {
  // Connectors and parsers report failures as values; an exception here is a bug
  // or memory exhaustion. It fails this poll (logged, counted, backed off) instead
  // of silently ending the source's loop.
  std::string what;
  try {
    co_return co_await poll_once(source);
  } catch (const std::exception& e) {
    what = e.what();
  }
  ++totals_.source_errors;
  metrics_.polls.Add({{"source", source.spec.id}, {"outcome", "error"}}).Increment();
  metrics_.count_source_error(source.spec.id, "internal");
  spdlog::error("source={} poll failed: reason=internal {}", source.spec.id, what);
  co_return false;
}

asio::awaitable<void> PollingDriver::source_loop(std::shared_ptr<Source> source) {
  while (!source->stopped && !stopped_) {
    const bool ok = co_await guarded_poll(*source);
    source->failures = ok ? 0 : source->failures + 1;
    if (source->stopped || stopped_) break;
    source->timer.expires_after(next_poll_delay(source->spec.interval, source->failures));
    boost::system::error_code ec;
    co_await source->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> PollingDriver::poll_all_once(const std::vector<SourceSpec>& sources) {
  for (const auto& spec : sources) {
    auto source = make_source(spec);
    if (!source) {
      ++totals_.source_errors;
      continue;
    }
    sources_[spec.id] = source;
  }
  // Sources are polled concurrently; wait for all of them.
  std::size_t remaining = sources_.size();
  asio::steady_timer all_done(io_, asio::steady_timer::time_point::max());
  for (auto& entry : sources_) {
    asio::co_spawn(
        io_,
        [this, source = entry.second, &remaining, &all_done]() -> asio::awaitable<void> {
          co_await guarded_poll(*source);
          if (--remaining == 0) all_done.cancel();
        },
        asio::detached);
  }
  while (remaining > 0) {
    boost::system::error_code ec;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<bool> PollingDriver::poll_once(Source& source) {
  const auto& spec = source.spec;
  const auto started = std::chrono::steady_clock::now();
  const auto validators = store_.validators(spec.id);
  PollContext ctx{fetcher_,
                  std::chrono::system_clock::now(),
                  validators.etag,
                  validators.last_modified,
                  store_.unchanged_fingerprints(spec.id),
                  compute_};
  ++totals_.sources_polled;
  auto result = co_await source.connector->poll(ctx);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics_.poll_duration_for(spec.id).Observe(seconds);

  if (!result) {
    const auto& err = result.error();
    ++totals_.source_errors;
    metrics_.polls.Add({{"source", spec.id}, {"outcome", "error"}}).Increment();
    metrics_.count_source_error(spec.id, errc_name(err.code));
    spdlog::warn("source={} poll failed: reason={} {}", spec.id, errc_name(err.code), err.message);
    co_return false;
  }
  PollBatch& polled = *result;
  crash_point(CrashPoint::fetched);
  const auto now = std::chrono::system_clock::now();
  metrics_.last_success.Add({{"source", spec.id}})
      .Set(std::chrono::duration<double>(now.time_since_epoch()).count());
  if (polled.not_modified) {
    metrics_.polls.Add({{"source", spec.id}, {"outcome", "not_modified"}}).Increment();
    spdlog::debug("source={} poll: not modified ({:.3f}s)", spec.id, seconds);
    co_return true;
  }
  metrics_.polls.Add({{"source", spec.id}, {"outcome", "ok"}}).Increment();

  auto batch = std::make_shared<Batch>();
  batch->source_id = spec.id;
  batch->source_ref = SourceRef{spec.id, spec.type, spec.url, polled.source_title};
  batch->fetched = started;
  batch->validators = SourceValidators{polled.etag, polled.last_modified};
  // A failed comment feed must be fetched again next time, so the validators
  // of this poll are not kept (a 304 would otherwise hide it).
  batch->failed = !polled.failures.empty();

  const UnixMillis fetched_at =
      std::chrono::duration_cast<std::chrono::milliseconds>(ctx.now.time_since_epoch()).count();
  std::size_t duplicates = 0;
  ItemTally tally;
  // Every item the source shows now: protected from expiry.
  std::vector<DedupeStore::WindowEntry> window;
  window.reserve(polled.posts.size() + polled.comments.size());
  // Everything an event carries besides the item itself.
  auto stamp = [&](Event& event, EventType type, const DedupeDecision& decision) {
    event.event_type = type;
    event.version = decision.version;
    event.previous_content_hash = decision.previous_content_hash;
    event.source = batch->source_ref;
    event.fetched_at = fetched_at;
    event.event_id = make_event_id(event);
  };
  auto consider = [&](Event& event, EventKind kind) -> bool {
    window.push_back({event.item_id(), event.source_fingerprint(), event.content_hash()});
    const auto decision = store_.classify(event.item_id(), event.content_hash());
    if (decision.kind == DedupeDecision::Kind::duplicate) {
      ++duplicates;
      ++totals_.duplicates;
      tally.add(kind, ItemTally::duplicate);
      store_.touch(event.item_id(), spec.id);
      return false;
    }
    const bool updated = decision.kind == DedupeDecision::Kind::updated;
    tally.add(kind, updated ? ItemTally::updated : ItemTally::fresh);
    stamp(event, updated ? EventType::updated : EventType::created, decision);
    return true;
  };

  // Cross-source keys are pure functions of a post's link and text: they are
  // computed on the compute pool before the loop below decides on the event
  // loop, in order, which posts are copies.
  std::vector<CrossSourceKeys> keys;
  if (!polled.posts.empty()) {
    auto compute_keys = [&posts = polled.posts, source_id = spec.id]() {
      std::vector<CrossSourceKeys> out;
      out.reserve(posts.size());
      for (const PostData& post : posts) out.push_back(cross_source_keys(source_id, post));
      return out;
    };
    keys = co_await run_compute(compute_, std::move(compute_keys));
  }
  // The decisions below run without suspending: their lookups share one read
  // transaction, ended before anything is written.
  std::optional<DedupeStore::ReadBatch> reads;
  reads.emplace(store_);

  // Decide first, produce second: in exactly-once mode the whole batch goes to
  // the durable outbox before the first event leaves.
  std::vector<Event> events;
  events.reserve(polled.posts.size() + polled.comments.size() + polled.deletions.size());
  std::unordered_map<std::string, std::string> renamed_posts;
  for (std::size_t i = 0; i < polled.posts.size(); ++i) {
    PostData& post = polled.posts[i];
    const std::string connector_id = post.id;
    resolve_identity(keys[i], post);
    if (post.id != connector_id) renamed_posts[connector_id] = post.id;
    if (post.unchanged) {
      // Byte-for-byte what was acknowledged: a duplicate, read (and its identity
      // resolved) only so that its comments are followed under the right post id.
      polled.unchanged.push_back({EventKind::post, post.source_fingerprint});
      continue;
    }
    Event event;
    event.kind = EventKind::post;
    event.post = std::move(post);
    if (!consider(event, EventKind::post)) continue;
    if (event.event_type == EventType::created && mark_cross_source(spec, keys[i], event.post)) {
      // cross_source: drop. Remembered as handled, so later polls see a plain
      // duplicate instead of judging (and counting) the same copy again.
      ++totals_.duplicates;
      store_.acknowledge(event.item_id(), spec.id, event.content_hash(), event.version);
      continue;
    }
    events.push_back(std::move(event));
  }
  for (auto& comment : polled.comments) {
    if (auto it = renamed_posts.find(comment.post_id); it != renamed_posts.end())
      comment.post_id = it->second;
    Event event;
    event.kind = EventKind::comment;
    event.comment = std::move(comment);
    if (consider(event, EventKind::comment)) events.push_back(std::move(event));
  }
  for (const auto& gone : polled.deletions) {
    // A deletion is itself a version: its content is empty, so the tombstone
    // seen again is a duplicate and nothing is published twice.
    const std::string empty_hash = make_content_hash("", "");
    const auto decision = store_.classify(gone.id, empty_hash);
    if (decision.kind != DedupeDecision::Kind::updated) {
      // Never published (fresh) or already deleted (duplicate): nothing to say.
      tally.add(gone.kind, ItemTally::duplicate);
      continue;
    }
    tally.add(gone.kind, ItemTally::deleted);
    Event event;
    event.kind = gone.kind;
    if (gone.kind == EventKind::post) {
      event.post.id = gone.id;
      event.post.native_id = gone.native_id;
      event.post.updated_at = gone.deleted_at;
      event.post.content_hash = empty_hash;
    } else {
      event.comment.id = gone.id;
      event.comment.native_id = gone.native_id;
      event.comment.post_id = gone.post_id;
      event.comment.updated_at = gone.deleted_at;
      event.comment.content_hash = empty_hash;
    }
    stamp(event, EventType::deleted, decision);
    events.push_back(std::move(event));
  }
  // Skipped by the connector as byte-for-byte what was acknowledged: duplicates.
  std::vector<std::uint64_t> unchanged;
  unchanged.reserve(polled.unchanged.size());
  for (const auto& item : polled.unchanged) {
    unchanged.push_back(item.source_fingerprint);
    tally.add(item.kind, ItemTally::duplicate);
  }
  duplicates += unchanged.size();
  totals_.duplicates += unchanged.size();
  totals_.unchanged += unchanged.size();
  tally.report(metrics_, spec.id);
  store_.set_window(spec.id, window, unchanged);
  reads.reset();
  if (delivery_ == DeliveryMode::exactly_once && !events.empty()) {
    std::vector<OutboxEntry> entries;
    entries.reserve(events.size());
    for (const auto& e : events) {
      entries.push_back(OutboxEntry{e.event_id, e.item_id(), spec.id, e.content_hash(), e.version,
                                    e.kind == EventKind::post ? kafka_.topic_posts : kafka_.topic_comments});
    }
    if (auto r = store_.record_outbox(entries); !r) {
      // Nothing was produced: the items stay unmarked and the next poll retries them.
      metrics_.count_source_error(spec.id, "state_write");
      spdlog::error("source={} outbox not written, batch skipped: reason=storage {}", spec.id,
                    r.error().message);
      co_return false;
    }
  }
  const std::size_t fresh = events.size();
  // Serialising is pure CPU work on the batch's own events: done on the compute
  // pool, which also frees the events; the loop keeps only what it needs.
  auto prepare = [events = std::move(events), posts = kafka_.topic_posts, comments = kafka_.topic_comments,
                  keep_events = static_cast<bool>(observer_)]() mutable {
    std::vector<PreparedEvent> prepared;
    prepared.reserve(events.size());
    for (auto& e : events) {
      const std::string& topic = e.kind == EventKind::post ? posts : comments;
      prepared.push_back(prepare_event(std::move(e), topic, keep_events));
    }
    events.clear();
    return prepared;
  };
  std::vector<PreparedEvent> prepared;
  if (fresh > 0) prepared = co_await run_compute(compute_, std::move(prepare));
  for (auto& p : prepared) co_await publish(batch, std::move(p));
  for (const auto& failure : polled.failures) {
    metrics_.count_item(spec.id, "item", "invalid");
    metrics_.count_source_error(spec.id, failure.reason);
    spdlog::warn("source={} item failed: reason={} {} ({})", spec.id, failure.reason, failure.message,
                 failure.locator);
    co_await dead_letter(batch, failure);
  }
  spdlog::debug("source={} poll: {} posts, {} comments, {} new/updated, {} duplicates, {} failures ({:.3f}s)",
                spec.id, polled.posts.size(), polled.comments.size(), fresh, duplicates,
                polled.failures.size(), seconds);
  finish_batch(*batch);
  co_return true;
}

asio::awaitable<void> PollingDriver::publish(std::shared_ptr<Batch> batch, PreparedEvent prepared) {
  store_.mark_in_flight(prepared.ack.item_id, prepared.ack.content_hash, prepared.ack.version);
  ++batch->outstanding;
  ++totals_.produced;
  auto ack = std::make_shared<AckRecord>(std::move(prepared.ack));
  // Built as a named object: GCC 12 mishandles lambda temporaries inside co_await expressions.
  DeliveryHandler on_delivery = [this, batch, ack](const Result<Delivery>& r) {
    const AckRecord& ev = *ack;
    if (r) {
      crash_point(CrashPoint::acked);
      store_.acknowledge(ev.item_id, batch->source_id, ev.content_hash, ev.version);
      auto& next = acked_offsets_[{r->topic, r->partition}];
      next = std::max(next, r->offset + 1);
      if (delivery_ == DeliveryMode::exactly_once) batch->acked_event_ids.push_back(ev.event_id);
      ++totals_.published;
      metrics_.delivery_latency.Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - batch->fetched).count());
      if (observer_ && ev.event) observer_(*ev.event, *r);
    } else if (delivery_ == DeliveryMode::exactly_once) {
      // The broker may or may not have it: keep it in flight (never produced
      // twice) and let the outbox recovery decide.
      ++totals_.undelivered;
      batch->failed = true;
      spdlog::error(
          "source={} event {} for {} has an unknown delivery outcome: {}; recovering from the outbox",
          batch->source_id, ev.event_id, ev.item_id, r.error().message);
      if (on_unresolved_) on_unresolved_();
    } else {
      store_.release(ev.item_id);
      ++totals_.undelivered;
      batch->failed = true;
      spdlog::error("source={} event {} for {} not delivered: {} (it will be retried on the next poll)",
                    batch->source_id, ev.event_id, ev.item_id, r.error().message);
    }
    finish_batch(*batch);
  };
  auto result = co_await publisher_.produce(std::move(prepared.message), std::move(on_delivery));
  if (result) crash_point(CrashPoint::produced);
  if (!result) {
    store_.release(ack->item_id);
    ++totals_.undelivered;
    batch->failed = true;
    spdlog::error("source={} event {} not produced: {}", batch->source_id, ack->event_id,
                  result.error().message);
    finish_batch(*batch);
  }
}

asio::awaitable<void> PollingDriver::dead_letter(std::shared_ptr<Batch> batch, ItemFailure failure) {
  const UnixMillis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const std::string event_id =
      "e_" + sha256_hex("deadletter\x1f" + batch->source_id + "\x1f" + failure.reason + "\x1f" +
                        failure.locator + "\x1f" + std::to_string(now))
                 .substr(0, 32);
  OutgoingMessage message;
  message.topic = kafka_.topic_deadletter;
  message.key = batch->source_id;
  message.payload = to_json(DeadLetter{event_id, batch->source_ref, now, failure.reason, failure.message,
                                       failure.locator, failure.excerpt});
  message.headers = {{"ce_specversion", "1.0"},
                     {"ce_id", event_id},
                     {"ce_source", "postwire/" + batch->source_id},
                     {"ce_type", "io.postwire.deadletter"},
                     {"ce_time", format_rfc3339_millis(now)},
                     {"content-type", "application/json"}};
  metrics_.deadletters.Add({{"source", batch->source_id}, {"reason", failure.reason}}).Increment();
  DeliveryHandler on_delivery = [this, source = batch->source_id](const Result<Delivery>& r) {
    if (r) {
      ++totals_.dead_lettered;
    } else {
      ++totals_.undelivered;
      spdlog::error("source={} dead-letter event not delivered: {}", source, r.error().message);
    }
  };
  auto result = co_await publisher_.produce(std::move(message), std::move(on_delivery));
  if (!result) {
    ++totals_.undelivered;
    spdlog::error("source={} dead-letter event not produced: {}", batch->source_id, result.error().message);
  }
}

void PollingDriver::finish_batch(Batch& batch) {
  if (--batch.outstanding > 0) return;
  // Every event of the poll has its delivery report.
  if (!batch.failed) store_.set_validators(batch.source_id, batch.validators);
  commit_acked_events_.insert(commit_acked_events_.end(), batch.acked_event_ids.begin(),
                              batch.acked_event_ids.end());
  batch.acked_event_ids.clear();
  ++commit_batches_;
  // Group commit: the batches completed within commit_interval share one
  // transaction. The item table is keyed by hash, so every transaction rewrites
  // pages all over it; fewer, larger ones write each page once instead of often.
  // A crash before the commit only repeats events (their marks were not written).
  if (commit_posted_) return;
  commit_posted_ = true;
  commit_timer_.expires_after(commit_interval_);
  commit_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !commit_posted_) return;  // cancelled, or commit() ran in between
    (void)commit();
  });
}

Result<void> PollingDriver::commit() {
  commit_posted_ = false;
  commit_timer_.cancel();
  if (commit_batches_ == 0) return store_.flush();
  crash_point(CrashPoint::committing);
  const std::size_t batches = std::exchange(commit_batches_, 0);
  if (auto r = store_.flush(); !r) {
    commit_batches_ += batches;  // still pending in the store: the next commit retries them
    metrics_.publish_errors.Add({{"reason", "state_write"}}).Increment();
    spdlog::error("state of {} acknowledged polls not saved (will retry): reason=storage {}", batches,
                  r.error().message);
    return r;
  }
  if (delivery_ == DeliveryMode::exactly_once) {
    // Only now, with the marks on disk, may the recovery scan start past these offsets.
    std::vector<std::string> done;
    done.swap(commit_acked_events_);
    std::vector<PartitionOffset> marks;
    for (const auto& [tp, next] : acked_offsets_) marks.push_back(PartitionOffset{tp.first, tp.second, next});
    if (auto w = store_.record_watermarks(marks); !w) {
      spdlog::error("watermarks not saved: reason=storage {}", w.error().message);
    }
    if (auto c = store_.clear_outbox(done); !c) {
      spdlog::error("outbox not cleared: reason=storage {}", c.error().message);
    }
  }
  report_state_metrics();
  return {};
}

void PollingDriver::report_state_metrics() {
  metrics_.state_items.Set(static_cast<double>(store_.size()));
  // The checkpoint thread only counts; its figures reach Prometheus here, on the loop.
  const auto checkpoints = store_.checkpoint_stats();
  metrics_.state_checkpoints.Add({{"outcome", "ok"}})
      .Increment(static_cast<double>(checkpoints.done - reported_checkpoints_.done));
  metrics_.state_checkpoints.Add({{"outcome", "failed"}})
      .Increment(static_cast<double>(checkpoints.failed - reported_checkpoints_.failed));
  reported_checkpoints_ = checkpoints;
}

PollingDriver::CrossSourceKeys PollingDriver::cross_source_keys(const std::string& source_id,
                                                                const PostData& post) {
  CrossSourceKeys keys;
  if (post.url) keys.alias = alias_key(source_id, *post.url);
  if (post.unchanged) return keys;  // only its identity is resolved
  if (post.url) keys.url = key64(*post.url);
  std::size_t words = 0;
  const auto simhash =
      simhash64(post.title ? std::string_view(*post.title) : std::string_view(),
                post.content_text ? std::string_view(*post.content_text) : std::string_view(), words);
  if (words >= kSimhashMinWords) keys.simhash = simhash;
  return keys;
}

void PollingDriver::resolve_identity(const CrossSourceKeys& keys, PostData& post) {
  if (!keys.alias) return;
  const std::uint64_t alias = *keys.alias;
  const auto known = store_.find_by_url(alias);
  if (!known) {
    store_.remember_url(alias, post.id);
    return;
  }
  if (*known == post.id) return;
  // Same link, new native id: if the new id is unknown, this is the old item
  // under a re-issued guid (some feeds regenerate guids on every fetch).
  if (store_.classify(post.id, post.content_hash).kind != DedupeDecision::Kind::fresh) return;
  spdlog::debug("native id {} re-issued for {}; keeping id {}", post.native_id, post.url.value_or(""),
                *known);
  post.id = *known;
}

bool PollingDriver::mark_cross_source(const SourceSpec& spec, const CrossSourceKeys& keys, PostData& post) {
  std::optional<std::string> first;
  if (keys.url) {
    first = store_.find_by_url(*keys.url);
    if (!first) store_.remember_url(*keys.url, post.id);
  }
  if ((!first || *first == post.id) && keys.simhash) {
    first = store_.find_near_duplicate(*keys.simhash);
    if (!first) store_.remember_simhash(*keys.simhash, post.id);
  }
  if (!first || *first == post.id) return false;
  ++totals_.cross_source;
  metrics_.cross_source.Add({{"source", spec.id}, {"action", spec.drop_cross_source ? "drop" : "mark"}})
      .Increment();
  if (spec.drop_cross_source) {
    spdlog::debug("source={} post {} is a copy of {}: dropped", spec.id, post.id, *first);
    return true;
  }
  post.duplicate_of = *first;
  return false;
}

}  // namespace postwire
