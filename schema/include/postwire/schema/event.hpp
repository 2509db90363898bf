// Event schema v1: the contract with downstream consumers (docs/events.md,
// schema/post.v1.schema.json, schema/comment.v1.schema.json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace postwire {

// Seconds since the Unix epoch, UTC. Serialised as RFC 3339 ("2007-07-22T16:09:00Z").
using UnixSeconds = std::int64_t;
// Milliseconds since the Unix epoch, UTC (fetched_at keeps sub-second precision).
using UnixMillis = std::int64_t;

struct Author {
  std::optional<std::string> name;
  std::optional<std::string> location;
  std::optional<std::string> url;
  bool operator==(const Author&) const = default;
};

struct SourceRef {
  std::string id;
  std::string type;
  std::string url;
  std::optional<std::string> title;
};

struct PostData {
  std::string id;                           // stable: derived from source id + native id (see ids.hpp)
  std::string native_id;                    // the source's own identifier (guid, Atom id, JSON Feed id, ...)
  std::optional<std::string> url;           // canonical form (docs/normalisation.md)
  std::optional<std::string> url_original;  // the link as the source gave it, when it differs from url
  std::optional<std::string> title;
  std::optional<std::string> summary;
  std::optional<std::string> content_text;
  std::optional<std::string> content_html;
  std::optional<std::string> language;        // BCP 47 tag, declared or detected; null when unknown
  std::optional<double> language_confidence;  // 1.0 when declared by the document
  std::vector<Author> authors;
  std::optional<UnixSeconds> published_at;
  std::optional<UnixSeconds> updated_at;
  std::vector<std::string> tags;
  std::optional<std::int64_t> comment_count;
  std::optional<std::string> comments_url;
  std::optional<std::string> duplicate_of;  // id of the first copy of a syndicated story
  std::string content_hash;                 // "sha256:<hex>" over the normalised title and text
  std::vector<std::string> quality;         // flags such as "date_missing_zone"; empty when clean
  // XXH3 of the source bytes the item was normalised from and of everything else
  // that decides its id and content (docs/state.md, "unchanged items"); 0 when the
  // connector does not compute one. Internal: never published.
  std::uint64_t source_fingerprint = 0;
  // Set by a connector that found the item's source bytes exactly as acknowledged
  // (PollContext::unchanged) and did not normalise it again: only id, native_id,
  // url, url_original, title and comments_url are filled, for following its
  // comments. The driver counts it as a duplicate. Internal: never published.
  bool unchanged = false;
};

struct CommentData {
  std::string id;
  std::string native_id;
  std::string post_id;
  std::optional<std::string> parent_id;
  std::optional<std::string> url;
  std::optional<std::string> url_original;
  Author author;
  std::optional<std::string> content_text;
  std::optional<std::string> content_html;
  std::optional<std::string> language;
  std::optional<double> language_confidence;
  std::optional<UnixSeconds> published_at;
  std::optional<UnixSeconds> updated_at;
  std::string content_hash;
  std::vector<std::string> quality;
  std::uint64_t source_fingerprint = 0;  // as PostData::source_fingerprint
};

enum class EventKind { post, comment };
enum class EventType { created, updated, deleted };

const char* to_string(EventKind kind) noexcept;
const char* to_string(EventType type) noexcept;

struct Event {
  EventKind kind = EventKind::post;
  std::string event_id;
  EventType event_type = EventType::created;
  SourceRef source;
  UnixMillis fetched_at = 0;
  std::int64_t version = 1;  // 1 for the first sighting, +1 per edit
  std::optional<std::string> previous_content_hash;
  PostData post;        // set when kind == post
  CommentData comment;  // set when kind == comment

  // The id of the post this event belongs to: the Kafka key, so a thread stays
  // in one partition, in order.
  const std::string& thread_key() const { return kind == EventKind::post ? post.id : comment.post_id; }
  const std::string& item_id() const { return kind == EventKind::post ? post.id : comment.id; }
  const std::string& content_hash() const {
    return kind == EventKind::post ? post.content_hash : comment.content_hash;
  }
  std::uint64_t source_fingerprint() const {
    return kind == EventKind::post ? post.source_fingerprint : comment.source_fingerprint;
  }
  const char* schema_name() const {
    return kind == EventKind::post ? "postwire.post/v1" : "postwire.comment/v1";
  }
};

}  // namespace postwire
