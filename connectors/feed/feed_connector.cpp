#include "feed/feed_connector.hpp"

#include <algorithm>

#include <cctype>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "feed/tombstones.hpp"
#include "normalise/urls.hpp"
#include "postwire/schema/ids.hpp"

namespace postwire::feed {
namespace {

constexpr std::size_t kExcerptBytes = 2048;

std::string_view scheme_of(std::string_view url) {
  const auto colon = url.find(':');
  return colon == std::string_view::npos ? std::string_view() : url.substr(0, colon);
}

bool is_http(std::string_view scheme) { return scheme == "http" || scheme == "https"; }

// A feed fetched over the network must not make us read local files: its comment
// links may only lead to http(s). Local feeds (file://) may link to either.
bool comment_url_allowed(std::string_view source_url, std::string_view comment_url) {
  const auto from = scheme_of(source_url);
  const auto to = scheme_of(comment_url);
  if (is_http(to)) return true;
  return to == "file" && from == "file";
}

std::string excerpt(std::string_view body) { return std::string(body.substr(0, kExcerptBytes)); }

class FeedConnector final : public Connector {
 public:
  FeedConnector(SourceSpec spec, FeedFormat format, bool follow_comments, std::size_t max_comment_feeds,
                BylineSplitter bylines, IdFrom id_from, std::vector<std::string> tracking_params)
      : spec_(std::move(spec)),
        format_(format),
        follow_comments_(follow_comments),
        max_comment_feeds_(max_comment_feeds),
        bylines_(std::move(bylines)),
        id_from_(id_from),
        tracking_params_(std::move(tracking_params)) {}

  boost::asio::awaitable<Result<PollBatch>> poll(PollContext& ctx) override {
    FetchRequest request{spec_.url, spec_.timeout, spec_.max_document_bytes, ctx.etag, ctx.last_modified};
    auto doc = co_await ctx.fetcher.fetch(std::move(request));
    if (!doc) co_return std::move(doc).error();
    PollBatch batch;
    batch.etag = doc->etag;
    batch.last_modified = doc->last_modified;
    if (doc->not_modified) {
      batch.not_modified = true;
      co_return batch;
    }
    ParseOptions options = parse_options(ctx);
    options.format = format_;
    options.base_url = doc->final_url;
    if (!doc->content_type.empty()) options.content_type = doc->content_type;
    // Posts whose bytes were already normalised and acknowledged are only read
    // for their identity and comment feed (PostData::unchanged).
    const std::string seed = spec_.id + "\x1fposts";
    options.fingerprint_items = true;
    options.fingerprint_seed = XXH3_64bits(seed.data(), seed.size());
    options.unchanged = ctx.unchanged.get();
    options.keep_unchanged = true;
    // On the compute pool: it only uses this frame's locals, which outlive the await.
    auto read_posts = [this, &doc, &options, &batch]() -> Result<void> {
      auto parsed = parse_feed(doc->body, options);
      if (!parsed) return std::move(parsed).error();
      batch.source_title = parsed->title;
      batch.posts.reserve(parsed->entries.size());
      for (auto& entry : parsed->entries) batch.posts.push_back(to_post(spec_.id, std::move(entry)));
      for (const auto& t : find_tombstones(doc->body)) {
        batch.deletions.push_back(
            DeletedItem{EventKind::post, make_post_id(spec_.id, t.ref), t.ref, {}, t.when});
      }
      return {};
    };
    if (auto read = co_await run_compute(ctx.compute, std::move(read_posts)); !read)
      co_return std::move(read).error();

    if (follow_comments_) {
      std::size_t followed = 0;
      for (const auto& post : batch.posts) {
        if (!post.comments_url) continue;
        if (followed++ >= max_comment_feeds_) {
          batch.failures.push_back(
              {"comment_feeds_capped",
               "more comment feeds than max_comment_feeds; the rest wait for the next poll",
               *post.comments_url,
               {}});
          break;
        }
        co_await fetch_comments(ctx, post, batch);
      }
    }
    co_return batch;
  }

 private:
  // What every document of this source is parsed with: the source's time zone, the
  // fetch time (reference for relative and future dates), id rule, tracking list.
  ParseOptions parse_options(const PollContext& ctx) const {
    ParseOptions options;
    options.timezone = spec_.timezone;
    options.language = spec_.language;
    options.now = std::chrono::duration_cast<std::chrono::seconds>(ctx.now.time_since_epoch()).count();
    options.id_from = id_from_;
    options.tracking_params = tracking_params_;
    return options;
  }

  boost::asio::awaitable<void> fetch_comments(PollContext& ctx, const PostData& post, PollBatch& batch) {
    const std::string& url = *post.comments_url;
    if (!comment_url_allowed(spec_.url, url)) {
      batch.failures.push_back(
          {"comment_url_scheme", "comment feed URL scheme not allowed for this source", url, {}});
      co_return;
    }
    FetchRequest request{url, spec_.timeout, spec_.max_document_bytes, std::nullopt, std::nullopt};
    auto doc = co_await ctx.fetcher.fetch(std::move(request));
    if (!doc) {
      batch.failures.push_back(
          {std::string("comment_feed_") + errc_name(doc.error().code), doc.error().message, url, {}});
      co_return;
    }
    ParseOptions options = parse_options(ctx);
    options.base_url = doc->final_url;
    if (!doc->content_type.empty()) options.content_type = doc->content_type;
    // Comments re-appear in every fetch of their feed: the ones whose bytes were
    // already normalised and acknowledged are not normalised again.
    const std::string seed = spec_.id + '\x1f' + post.id;
    options.fingerprint_items = true;
    options.fingerprint_seed = XXH3_64bits(seed.data(), seed.size());
    options.unchanged = ctx.unchanged.get();
    // On the compute pool: it only uses this frame's locals, which outlive the await.
    auto read_comments = [this, &doc, &options, &post, &batch, &url]() -> bool {
      auto parsed = parse_feed(doc->body, options);
      if (!parsed) {
        batch.failures.push_back({"comment_feed_parse", parsed.error().message, url, excerpt(doc->body)});
        return false;
      }
      for (const auto fp : parsed->unchanged) batch.unchanged.push_back({EventKind::comment, fp});
      for (const auto& t : find_tombstones(doc->body)) {
        batch.deletions.push_back(
            DeletedItem{EventKind::comment, make_comment_id(spec_.id, t.ref), t.ref, post.id, t.when});
      }
      for (auto& entry : parsed->entries) {
        batch.comments.push_back(to_comment(spec_.id, post, std::move(entry), bylines_));
      }
      return true;
    };
    co_await run_compute(ctx.compute, std::move(read_comments));
  }

  SourceSpec spec_;
  FeedFormat format_;
  bool follow_comments_;
  std::size_t max_comment_feeds_;
  BylineSplitter bylines_;
  IdFrom id_from_;
  std::vector<std::string> tracking_params_;
};

Result<std::unique_ptr<Connector>> create(const SourceSpec& spec) {
  FeedFormat format = FeedFormat::auto_detect;
  bool follow_comments = true;
  std::size_t max_comment_feeds = 100;
  std::vector<std::string> patterns;
  const YAML::Node& o = spec.options;
  if (o && o["format"]) {
    auto f = parse_format(o["format"].as<std::string>());
    if (!f) return make_error(Errc::config, "format must be auto, rss, atom or jsonfeed");
    format = *f;
  }
  if (o && o["follow_comments"]) follow_comments = o["follow_comments"].as<bool>();
  if (o && o["max_comment_feeds"]) {
    const auto n = o["max_comment_feeds"].as<long long>();
    if (n < 0) return make_error(Errc::config, "max_comment_feeds must not be negative");
    max_comment_feeds = static_cast<std::size_t>(n);
  }
  if (o && o["comment_author_patterns"])
    patterns = o["comment_author_patterns"].as<std::vector<std::string>>();
  auto bylines = BylineSplitter::compile(patterns);
  if (!bylines) return std::move(bylines).error();
  IdFrom id_from = IdFrom::auto_detect;
  if (o && o["id_from"]) {
    auto f = parse_id_from(o["id_from"].as<std::string>());
    if (!f) return make_error(Errc::config, "id_from must be auto, guid or link");
    id_from = *f;
  }
  std::vector<std::string> tracking;
  if (o && o["tracking_params"]) {
    tracking = normalise::default_tracking_params();
    for (std::string p : o["tracking_params"].as<std::vector<std::string>>()) {
      for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!p.empty()) tracking.push_back(std::move(p));
    }
  }
  return std::unique_ptr<Connector>(new FeedConnector(spec, format, follow_comments, max_comment_feeds,
                                                      std::move(*bylines), id_from, std::move(tracking)));
}

}  // namespace

ConnectorFactory make_feed_connector_factory() {
  using Kind = OptionSpec::Kind;
  return ConnectorFactory{
      "feed",
      {
          {"format", Kind::string, "auto (default), rss, atom or jsonfeed"},
          {"follow_comments", Kind::boolean, "fetch each item's comment feed (default true)"},
          {"max_comment_feeds", Kind::integer, "comment feeds fetched per poll (default 100)"},
          {"comment_author_patterns", Kind::string_list,
           "regexes with two groups (name, location) for comment bylines, tried in order"},
          {"id_from", Kind::string,
           "auto (default: guid, else canonical link), guid, or link (for feeds that change guids)"},
          {"tracking_params", Kind::string_list,
           "query parameters removed from links, on top of utm_*, fbclid, gclid, mc_cid, mc_eid ('x_*' = "
           "prefix)"},
      },
      create,
  };
}

Result<BylineSplitter> BylineSplitter::compile(const std::vector<std::string>& patterns) {
  BylineSplitter out;
  for (const auto& p : patterns) {
    try {
      std::regex re(p, std::regex::ECMAScript);
      if (re.mark_count() != 2) {
        return make_error(Errc::config,
                          "comment_author_patterns: '" + p + "' needs exactly 2 groups (name, location)");
      }
      out.patterns_.push_back(std::move(re));
    } catch (const std::regex_error& e) {
      return make_error(Errc::config, "comment_author_patterns: '" + p + "': " + e.what());
    }
  }
  return out;
}

Author BylineSplitter::split(const Author& author) const {
  if (!author.name || author.location || patterns_.empty()) return author;
  for (const auto& re : patterns_) {
    std::smatch m;
    if (std::regex_match(*author.name, m, re)) {
      Author out = author;
      out.name = m[1].str();
      out.location = m[2].str();
      if (out.location->empty()) out.location.reset();
      return out;
    }
  }
  return author;
}

PostData to_post(std::string_view source_id, FeedEntry entry) {
  PostData post;
  post.native_id = std::move(entry.native_id);
  post.url = std::move(entry.url);
  post.url_original = std::move(entry.url_original);
  post.title = std::move(entry.title);
  post.comments_url = std::move(entry.comments_url);
  post.source_fingerprint = entry.source_fingerprint;
  if (entry.unchanged) {
    // Identity only (FeedEntry::unchanged): no content, so no content hash.
    post.unchanged = true;
    post.id = make_post_id(source_id, post.native_id);
    return post;
  }
  post.language = std::move(entry.language);
  post.language_confidence = entry.language_confidence;
  post.summary = std::move(entry.summary);
  post.content_text = std::move(entry.content_text);
  post.content_html = std::move(entry.content_html);
  post.authors = std::move(entry.authors);
  post.published_at = entry.published_at;
  post.updated_at = entry.updated_at;
  post.tags = std::move(entry.tags);
  post.comment_count = entry.comment_count;
  post.quality = std::move(entry.quality);
  finalize_post(source_id, post);
  return post;
}

CommentData to_comment(std::string_view source_id, const PostData& post, FeedEntry entry,
                       const BylineSplitter& bylines) {
  CommentData c;
  c.native_id = std::move(entry.native_id);
  c.post_id = post.id;
  // A reply to the post itself is a top-level comment; a reply to another
  // comment names that comment's stable id.
  if (entry.in_reply_to && *entry.in_reply_to != post.native_id &&
      *entry.in_reply_to != post.url.value_or("") && *entry.in_reply_to != post.url_original.value_or("")) {
    c.parent_id = make_comment_id(source_id, *entry.in_reply_to);
  }
  c.url = std::move(entry.url);
  c.url_original = std::move(entry.url_original);
  c.language = std::move(entry.language);
  c.language_confidence = entry.language_confidence;
  if (!entry.authors.empty()) c.author = bylines.split(entry.authors.front());
  c.content_text = entry.content_text ? std::move(entry.content_text) : std::move(entry.summary);
  c.content_html = std::move(entry.content_html);
  c.published_at = entry.published_at;
  c.updated_at = entry.updated_at;
  c.quality = std::move(entry.quality);
  c.source_fingerprint = entry.source_fingerprint;
  finalize_comment(source_id, c);
  return c;
}

void write_feed_summary(JsonWriter& w, const ParsedFeed& parsed) {
  w.begin_object();
  w.key("format");
  w.value(to_string(parsed.format));
  w.key("title");
  w.value(parsed.title);
  w.key("url");
  w.value(parsed.url);
  w.key("language");
  w.value(parsed.language);
  w.key("charset");
  w.value(parsed.charset);
  w.key("item_count");
  w.value(static_cast<std::int64_t>(parsed.entries.size()));
  w.end_object();
}

Event entry_event(std::string_view source_id, const std::string& document_url, const ParsedFeed& parsed,
                  const FeedEntry& entry, UnixMillis fetched_at) {
  Event event;
  event.kind = EventKind::post;
  event.post = to_post(source_id, entry);
  event.source = SourceRef{std::string(source_id), "feed", document_url, parsed.title};
  event.fetched_at = fetched_at;
  event.event_id = make_event_id(event);
  return event;
}

}  // namespace postwire::feed
