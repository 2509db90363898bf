// A connector fetches one source and maps what it finds to posts and comments.
// Everything else (scheduling, timeouts, backoff, dedupe, publishing, acks and
// the shared per-source metrics) belongs to the polling driver in daemon/.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <boost/asio/awaitable.hpp>

#include "postwire/connectors/compute_pool.hpp"
#include "postwire/connectors/fetcher.hpp"
#include "postwire/schema/event.hpp"
#include "postwire/schema/result.hpp"

namespace postwire {

// What the config layer knows about one source; connector-specific keys are in
// `options`, already checked against the factory's option specs.
struct SourceSpec {
  std::string id;
  std::string type;
  std::string url;  // absolute (file paths already resolved against the config folder)
  std::chrono::milliseconds interval{std::chrono::minutes(5)};
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::size_t max_document_bytes = std::size_t{16} * 1024 * 1024;
  std::optional<std::string> timezone;            // IANA zone for dates without one
  std::optional<std::string> language;            // BCP 47: the source's language, when its documents omit it
  std::optional<std::chrono::seconds> state_ttl;  // how long items are remembered (default: state.ttl)
  bool drop_cross_source = false;  // cross_source: drop (default mark: publish with duplicate_of)
  YAML::Node options;              // connector-specific keys

  bool operator==(const SourceSpec& other) const;
};

// An item the connector saw but could not turn into an event. It is
// dead-lettered by the driver with this reason, never dropped in silence.
struct ItemFailure {
  std::string reason;   // short machine token, e.g. "comment_feed_fetch"
  std::string message;  // human explanation
  std::string locator;  // URL or native id of what failed
  std::string excerpt;  // at most a few KiB of the offending input
};

// An item the source says it has removed (Atom tombstone, WordPress trash, a
// Hacker News "deleted" flag, Reddit's "[removed]"). The driver publishes a
// `deleted` event for it if, and only if, it published the item before.
struct DeletedItem {
  EventKind kind = EventKind::post;
  std::string id;         // the item's stable id (make_post_id / make_comment_id)
  std::string native_id;  // the source's id of it
  std::string post_id;    // comments: the post it belonged to (the Kafka key)
  std::optional<UnixSeconds> deleted_at;
};

struct UnchangedItem {
  EventKind kind = EventKind::comment;
  std::uint64_t source_fingerprint = 0;
};

struct PollBatch {
  std::optional<std::string> source_title;
  std::vector<PostData> posts;        // finalized (ids and hashes set), document order
  std::vector<CommentData> comments;  // finalized, grouped by post, document order
  std::vector<DeletedItem> deletions;
  std::vector<ItemFailure> failures;
  // Items found unchanged (PollContext::unchanged) and therefore not normalised
  // again: the driver counts them as duplicates and keeps them in the source's window.
  std::vector<UnchangedItem> unchanged;
  bool not_modified = false;  // the source answered 304
  // HTTP validators of this fetch. The driver hands them back in the next
  // PollContext only once every event of this batch was acknowledged, so a
  // 304 can never hide events that were never delivered.
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
};

struct PollContext {
  Fetcher& fetcher;
  std::chrono::system_clock::time_point now;
  std::optional<std::string> etag;  // from the last fully acknowledged poll
  std::optional<std::string> last_modified;
  // Source fingerprints of the items in the source's window whose acknowledged
  // content is what those very bytes produced (DedupeStore::unchanged_fingerprints).
  // A connector may skip normalising such an item and list it in
  // PollBatch::unchanged instead; the outcome would be "duplicate" anyway.
  std::shared_ptr<const std::unordered_set<std::uint64_t>> unchanged;
  // Where parsing and normalising run (run_compute); null: on the calling thread.
  ComputePool* compute = nullptr;
};

class Connector {
 public:
  virtual ~Connector() = default;
  // One poll of the source. An Error means the source as a whole failed (the
  // driver backs off and retries); per-item problems go to PollBatch::failures.
  virtual boost::asio::awaitable<Result<PollBatch>> poll(PollContext& ctx) = 0;
};

// Declarative description of a connector-specific config key.
struct OptionSpec {
  enum class Kind { string, string_list, boolean, integer, duration };
  std::string name;
  Kind kind = Kind::string;
  std::string help;
};

struct ConnectorFactory {
  std::string type;  // the `type:` value in a source's config
  std::vector<OptionSpec> options;
  std::function<Result<std::unique_ptr<Connector>>(const SourceSpec&)> create;
};

class ConnectorRegistry {
 public:
  void add(ConnectorFactory factory);
  const ConnectorFactory* find(const std::string& type) const;
  std::vector<std::string> types() const;

 private:
  std::map<std::string, ConnectorFactory> factories_;
};

// One explicit registration call per built-in connector lives in here.
void register_builtin_connectors(ConnectorRegistry& registry);

}  // namespace postwire
