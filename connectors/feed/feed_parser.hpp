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
#include <unordered_set>
#include <vector>

#include "postwire/schema/event.hpp"
#include "postwire/schema/result.hpp"

namespace postwire::feed {

enum class FeedFormat { auto_detect, rss, atom, jsonfeed };

const char* to_string(FeedFormat format);                       // "auto", "rss", "atom", "jsonfeed"
std::optional<FeedFormat> parse_format(std::string_view name);  // the inverse

// Where an item's native_id comes from (per-source option `id_from`).
//  - auto: the source's id (guid, atom:id, JSON Feed id); when it is missing or empty
//    the canonical link, else a hash of title and date. Items of one document that
//    share an id but not their canonical link fall back to the link (flag id_reused).
//  - guid: the source's id as it is, even when reused; the same fallbacks when missing.
//  - link: the canonical link (stable when a feed rewrites its guids on every fetch);
//    without a link, as auto.
enum class IdFrom { auto_detect, guid, link };
const char* to_string(IdFrom id_from);                       // "auto", "guid", "link"
std::optional<IdFrom> parse_id_from(std::string_view name);  // the inverse

// Documents larger than this are refused with Errc::too_large before parsing.
inline constexpr std::size_t kMaxFeedBytes = std::size_t{64} * 1024 * 1024;

struct ParseOptions {
  FeedFormat format = FeedFormat::auto_detect;
  std::string base_url;                     // document URL: base for relative links (xml:base on top of it)
  std::optional<std::string> content_type;  // HTTP Content-Type if known (its charset is used when the
                                            // document does not declare one)
  std::size_t max_items = 5000;             // cap; extra items are ignored and a warning is added
  std::optional<std::string> timezone;      // IANA zone for dates without one (source's `timezone:`)
  // The source's language as the operator declares it (source's `language:`,
  // BCP 47): used, like a declaration in the document, for items for which
  // neither they nor their document declare one; no detection then.
  std::optional<std::string> language;
  std::optional<UnixSeconds> now;  // fetch time: reference for relative and future dates
  IdFrom id_from = IdFrom::auto_detect;
  std::vector<std::string> tracking_params;  // query parameters dropped from links; empty: the defaults
  // Source fingerprints (docs/state.md, "Unchanged items"). With fingerprint_items,
  // every RSS or Atom item gets FeedEntry::source_fingerprint: XXH3 of its XML
  // subtree as read (CDATA and entities included), seeded with fingerprint_seed and
  // with whatever else can change the item's id or content hash (id_from, tracking
  // parameters, and the base URL when the id comes from the link). An item whose
  // fingerprint is in `unchanged` is not normalised but listed in
  // ParsedFeed::unchanged. Never for JSON Feed, and not in a document whose items
  // share a source id (their ids then depend on each other).
  bool fingerprint_items = false;
  std::uint64_t fingerprint_seed = 0;
  const std::unordered_set<std::uint64_t>* unchanged = nullptr;
  // With keep_unchanged, an unchanged item is not dropped but listed in `entries`
  // with FeedEntry::unchanged set and only what identifies it (ids, links, title,
  // dates, comment feed): no body, summary or language. For posts, whose comment
  // feeds are followed either way.
  bool keep_unchanged = false;
};

struct FeedEntry {
  // guid / atom:id / JSON Feed id / RSS 1.0 rdf:about, trimmed; else the link; else
  // "urn:postwire:hash:" + the first 32 hex digits of sha256(title US date text).
  std::string native_id;
  std::optional<std::string> url;           // item link, resolved absolute and canonical
  std::optional<std::string> url_original;  // the resolved link as given, when it differs from url
  std::optional<std::string> title;         // plain text, white space collapsed
  std::optional<std::string> summary;       // plain text of description / summary
  std::optional<std::string> content_text;  // plain text of the richest body
  std::optional<std::string> content_html;  // sanitized HTML of that body; null if the feed only has text
  std::vector<Author> authors;
  std::optional<UnixSeconds> published_at;
  std::optional<UnixSeconds> updated_at;
  std::vector<std::string> tags;  // de-duplicated, document order
  std::optional<std::int64_t> comment_count;
  std::optional<std::string> comments_url;    // the entry's comment *feed*, resolved absolute
  std::optional<std::string> in_reply_to;     // Atom thr:in-reply-to @ref
  std::optional<std::string> language;        // BCP 47: declared by the item or feed, else detected
  std::optional<double> language_confidence;  // 1.0 when declared
  std::vector<std::string> quality;           // flags such as "date_missing_zone", de-duplicated
  std::uint64_t source_fingerprint = 0;       // ParseOptions::fingerprint_items; 0 otherwise
  bool unchanged = false;                     // ParseOptions::keep_unchanged: identity fields only
};

struct ParsedFeed {
  FeedFormat format = FeedFormat::rss;
  std::optional<std::string> title;
  std::optional<std::string> url;        // channel link / Atom alternate link / home_page_url
  std::optional<std::string> language;   // channel language / xml:lang / JSON language (BCP 47 case)
  std::string charset;                   // the encoding the bytes were read in ("utf-8", "windows-1252", ...)
  std::vector<FeedEntry> entries;        // document order
  std::vector<std::uint64_t> unchanged;  // fingerprints of items skipped (ParseOptions::unchanged)
  // Recoverable problems, "<token>: <detail>": xml_recovered (ill-formed, parsed in
  // recovery mode), xml_warning (well-formed, non-fatal errors), items_truncated,
  // item_skipped (a JSON Feed item that is not an object), charset_mislabeled,
  // invalid_bytes (bytes not valid in the document's charset, now U+FFFD).
  std::vector<std::string> warnings;
};

// Errors: Errc::too_large (over kMaxFeedBytes), Errc::parse (not XML or JSON we can
// read, or not a feed: the message says why and where). Thread safe.
Result<ParsedFeed> parse_feed(std::string_view body, const ParseOptions& options);

}  // namespace postwire::feed
