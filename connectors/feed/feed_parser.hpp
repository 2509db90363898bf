// Parsing RSS 0.9x/1.0/2.0, Atom 1.0 (0.3 best effort) and JSON Feed 1.x into one
// normalised shape. Documents come from strangers: the XML parser never loads
// external entities, DTDs or anything from the network, and a malformed document
// is recovered where possible (with a warning) rather than rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postwire/schema/event.hpp"
#include "postwire/schema/result.hpp"

namespace postwire::feed {

enum class FeedFormat { auto_detect, rss, atom, jsonfeed };

const char* to_string(FeedFormat format);                       // "auto", "rss", "atom", "jsonfeed"
std::optional<FeedFormat> parse_format(std::string_view name);  // the inverse

// Documents larger than this are refused with Errc::too_large before parsing.
inline constexpr std::size_t kMaxFeedBytes = 64 * 1024 * 1024;

struct ParseOptions {
  FeedFormat format = FeedFormat::auto_detect;
  std::string base_url;                     // document URL: base for relative links (xml:base on top of it)
  std::optional<std::string> content_type;  // HTTP Content-Type if known (its charset is used when the
                                            // document does not declare one)
  std::size_t max_items = 5000;             // cap; extra items are ignored and a warning is added
};

struct FeedEntry {
  // guid / atom:id / JSON Feed id / RSS 1.0 rdf:about, trimmed; else the link; else
  // "urn:postwire:hash:" + the first 32 hex digits of sha256(title US date text).
  std::string native_id;
  std::optional<std::string> url;           // item link, resolved absolute (not canonicalised)
  std::optional<std::string> title;         // plain text, white space collapsed
  std::optional<std::string> summary;       // plain text of description / summary
  std::optional<std::string> content_text;  // plain text of the richest body
  std::optional<std::string> content_html;  // sanitized HTML of that body; null if the feed only has text
  std::vector<Author> authors;
  std::optional<UnixSeconds> published_at;
  std::optional<UnixSeconds> updated_at;
  std::vector<std::string> tags;  // de-duplicated, document order
  std::optional<std::int64_t> comment_count;
  std::optional<std::string> comments_url;  // the entry's comment *feed*, resolved absolute
  std::optional<std::string> in_reply_to;   // Atom thr:in-reply-to @ref
  std::vector<std::string> quality;         // flags such as "date_missing_zone", de-duplicated
};

struct ParsedFeed {
  FeedFormat format = FeedFormat::rss;
  std::optional<std::string> title;
  std::optional<std::string> url;       // channel link / Atom alternate link / home_page_url
  std::optional<std::string> language;  // channel language / xml:lang / JSON language
  std::vector<FeedEntry> entries;       // document order
  // Recoverable problems, "<token>: <detail>": xml_recovered (ill-formed, parsed in
  // recovery mode), xml_warning (well-formed, non-fatal errors), items_truncated,
  // item_skipped (a JSON Feed item that is not an object).
  std::vector<std::string> warnings;
};

// Errors: Errc::too_large (over kMaxFeedBytes), Errc::parse (not XML or JSON we can
// read, or not a feed: the message says why and where). Thread safe.
Result<ParsedFeed> parse_feed(std::string_view body, const ParseOptions& options);

}  // namespace postwire::feed
