// The `feed` connector: RSS 0.9x/1.0/2.0, Atom 1.0 and JSON Feed 1.x. Each item
// is a post; each item's comment feed (RSS wfw:commentRss, Atom
// link rel="replies" per RFC 4685, JSON Feed _comments_url) gives its comments.
#pragma once

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "feed/feed_parser.hpp"
#include "postwire/connectors/connector.hpp"
#include "postwire/schema/json_writer.hpp"

namespace postwire::feed {

ConnectorFactory make_feed_connector_factory();

// Splits a byline such as "Rick, Chicago Illinois" into name and location with
// the first matching pattern (group 1 = name, group 2 = location).
class BylineSplitter {
 public:
  static Result<BylineSplitter> compile(const std::vector<std::string>& patterns);
  Author split(const Author& author) const;
  bool empty() const { return patterns_.empty(); }

 private:
  std::vector<std::regex> patterns_;
};

// Maps parsed feed entries to finalized posts / comments of `source_id`.
PostData to_post(std::string_view source_id, FeedEntry entry);
CommentData to_comment(std::string_view source_id, const PostData& post, FeedEntry entry,
                       const BylineSplitter& bylines);

// What `postwire parse` shows for one document (and the golden corpus checks):
// the feed's own description as a JSON object, and each entry as the exact
// post event the daemon would publish for it.
void write_feed_summary(JsonWriter& w, const ParsedFeed& parsed);
Event entry_event(std::string_view source_id, const std::string& document_url, const ParsedFeed& parsed,
                  const FeedEntry& entry, UnixMillis fetched_at);

}  // namespace postwire::feed
