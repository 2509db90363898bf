#include "feed/feed_connector.hpp"

#include <gtest/gtest.h>

#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "postwire/schema/ids.hpp"

namespace postwire::feed {
namespace {

// Serves documents from a map; anything else is not found.
class MapFetcher final : public Fetcher {
 public:
  std::map<std::string, std::string> docs;
  std::vector<std::string> fetched;
  boost::asio::awaitable<Result<Document>> fetch(FetchRequest request) override {
    fetched.push_back(request.url);
    auto it = docs.find(request.url);
    if (it == docs.end()) co_return make_error(Errc::not_found, request.url + ": not found");
    Document d;
    d.body = it->second;
    d.final_url = request.url;
    co_return d;
  }
};

Result<PollBatch> poll(const SourceSpec& spec, MapFetcher& fetcher) {
  auto factory = make_feed_connector_factory();
  auto connector = factory.create(spec);
  EXPECT_TRUE(connector);
  boost::asio::io_context io;
  std::optional<Result<PollBatch>> out;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        PollContext ctx{fetcher, std::chrono::system_clock::now(), std::nullopt, std::nullopt, nullptr};
        out.emplace(co_await (*connector)->poll(ctx));
      },
      boost::asio::detached);
  io.run();
  return std::move(*out);
}

constexpr const char* kFeed = R"(<?xml version="1.0"?>
<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Ticker</title><link>http://t.example/</link>
<item><title>Post one</title><link>http://t.example/1</link><guid>http://t.example/?p=1</guid>
  <description>Body one</description><wfw:commentRss>http://t.example/1/feed</wfw:commentRss></item>
<item><title>Post two</title><link>http://t.example/2</link><guid>http://t.example/?p=2</guid>
  <description>Body two</description><wfw:commentRss>file:///etc/passwd</wfw:commentRss></item>
<item><title>Post three</title><link>http://t.example/3</link><guid>http://t.example/?p=3</guid>
  <description>Body three</description><wfw:commentRss>http://t.example/3/feed</wfw:commentRss></item>
</channel></rss>)";

constexpr const char* kComments = R"(<?xml version="1.0"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>Comments</title>
<item><guid isPermaLink="false">http://t.example/1#comment-1</guid><dc:creator>Rick, Chicago Illinois</dc:creator>
  <description>First!</description><pubDate>Mon, 23 Jul 2007 13:41:00 -0400</pubDate></item>
<item><guid isPermaLink="false">http://t.example/1#comment-2</guid><dc:creator>Tom Dedham, Mass</dc:creator>
  <description>Second</description></item>
<item><guid isPermaLink="false">http://t.example/1#comment-3</guid><dc:creator>Anonymous</dc:creator>
  <description>Third</description></item>
</channel></rss>)";

SourceSpec spec_with_patterns() {
  SourceSpec spec;
  spec.id = "ticker";
  spec.type = "feed";
  spec.url = "http://t.example/feed";
  spec.options = YAML::Load(R"(comment_author_patterns: ['^(.+?)\s+(\S+,\s*\S+)$', '^([^,]+),\s*(.+)$'])");
  return spec;
}

TEST(FeedConnector, PostsAndTheirCommentsWithBylinesSplit) {
  MapFetcher fetcher;
  fetcher.docs["http://t.example/feed"] = kFeed;
  fetcher.docs["http://t.example/1/feed"] = kComments;
  auto batch = poll(spec_with_patterns(), fetcher);
  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->posts.size(), 3U);
  EXPECT_EQ(batch->source_title, "Ticker");
  EXPECT_EQ(batch->posts[0].id, make_post_id("ticker", "http://t.example/?p=1"));
  ASSERT_EQ(batch->comments.size(), 3U);
  const auto& c0 = batch->comments[0];
  EXPECT_EQ(c0.post_id, batch->posts[0].id);
  EXPECT_EQ(c0.id, make_comment_id("ticker", "http://t.example/1#comment-1"));
  EXPECT_EQ(c0.author.name, "Rick");
  EXPECT_EQ(c0.author.location, "Chicago Illinois");
  EXPECT_EQ(c0.published_at, 1185212460);  // 2007-07-23T17:41:00Z
  EXPECT_EQ(batch->comments[1].author.name, "Tom");
  EXPECT_EQ(batch->comments[1].author.location, "Dedham, Mass");
  EXPECT_EQ(batch->comments[2].author.name, "Anonymous");
  EXPECT_FALSE(batch->comments[2].author.location);
  EXPECT_FALSE(c0.parent_id);
}

TEST(FeedConnector, RemoteFeedCannotMakeUsReadLocalFiles) {
  MapFetcher fetcher;
  fetcher.docs["http://t.example/feed"] = kFeed;
  fetcher.docs["http://t.example/1/feed"] = kComments;
  fetcher.docs["http://t.example/3/feed"] = kComments;
  auto batch = poll(spec_with_patterns(), fetcher);
  ASSERT_TRUE(batch);
  for (const auto& url : fetcher.fetched) EXPECT_NE(url, "file:///etc/passwd");
  ASSERT_EQ(batch->failures.size(), 1U);
  EXPECT_EQ(batch->failures[0].reason, "comment_url_scheme");
  EXPECT_EQ(batch->failures[0].locator, "file:///etc/passwd");
}

TEST(FeedConnector, AFailedCommentFeedIsReportedNotFatal) {
  MapFetcher fetcher;
  fetcher.docs["http://t.example/feed"] = kFeed;
  fetcher.docs["http://t.example/1/feed"] = kComments;
  fetcher.docs["http://t.example/3/feed"] = "this is not a feed";
  auto batch = poll(spec_with_patterns(), fetcher);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->posts.size(), 3U);
  EXPECT_EQ(batch->comments.size(), 3U);
  ASSERT_EQ(batch->failures.size(), 2U);
  EXPECT_EQ(batch->failures[1].reason, "comment_feed_parse");
  EXPECT_EQ(batch->failures[1].locator, "http://t.example/3/feed");
  EXPECT_FALSE(batch->failures[1].excerpt.empty());
}

TEST(FeedConnector, MissingFeedIsAnError) {
  MapFetcher fetcher;
  auto batch = poll(spec_with_patterns(), fetcher);
  ASSERT_FALSE(batch);
  EXPECT_EQ(batch.error().code, Errc::not_found);
}

TEST(FeedConnector, AtomRepliesAreThreaded) {
  MapFetcher fetcher;
  fetcher.docs["http://a.example/feed"] = R"(<feed xmlns="http://www.w3.org/2005/Atom">
  <title>A</title><id>urn:a</id>
  <entry><id>urn:a:post1</id><title>P</title><link href="http://a.example/p1"/>
    <link rel="replies" type="application/atom+xml" href="http://a.example/p1/comments"/>
    <content type="text">Hello</content></entry></feed>)";
  fetcher.docs["http://a.example/p1/comments"] = R"(<feed xmlns="http://www.w3.org/2005/Atom"
      xmlns:thr="http://purl.org/syndication/thread/1.0"><title>C</title><id>urn:c</id>
  <entry><id>urn:a:c1</id><title>c1</title><thr:in-reply-to ref="urn:a:post1"/><content>top</content>
    <author><name>Ann</name></author></entry>
  <entry><id>urn:a:c2</id><title>c2</title><thr:in-reply-to ref="urn:a:c1"/><content>reply</content>
    <author><name>Bob</name></author></entry></feed>)";
  SourceSpec spec;
  spec.id = "atom";
  spec.type = "feed";
  spec.url = "http://a.example/feed";
  auto batch = poll(spec, fetcher);
  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->comments.size(), 2U);
  EXPECT_FALSE(batch->comments[0].parent_id);  // a reply to the post is top level
  EXPECT_EQ(batch->comments[1].parent_id, make_comment_id("atom", "urn:a:c1"));
  EXPECT_EQ(batch->comments[1].author.name, "Bob");
}

TEST(FeedConnector, AnUnchangedEntryBecomesAnIdentityOnlyPost) {
  FeedEntry entry;
  entry.unchanged = true;
  entry.native_id = "s-1";
  entry.url = "http://t.example/story";
  entry.title = "Story";
  entry.comments_url = "http://t.example/story/c.xml";
  entry.source_fingerprint = 42;
  const PostData post = to_post("desk", entry);
  EXPECT_TRUE(post.unchanged);
  EXPECT_EQ(post.id, make_post_id("desk", "s-1"));
  EXPECT_EQ(post.source_fingerprint, 42U);
  EXPECT_EQ(post.comments_url, entry.comments_url);
  EXPECT_TRUE(post.content_hash.empty());  // nothing to compare: the driver never classifies it
  entry.unchanged = false;
  const PostData full = to_post("desk", entry);
  EXPECT_FALSE(full.unchanged);
  EXPECT_EQ(full.id, post.id);
  EXPECT_FALSE(full.content_hash.empty());
}

TEST(BylineSplitter, RejectsPatternsWithoutTwoGroups) {
  EXPECT_FALSE(BylineSplitter::compile({"^(a)$"}));
  EXPECT_FALSE(BylineSplitter::compile({"(unclosed"}));
  EXPECT_TRUE(BylineSplitter::compile({"^(.+), (.+)$"}));
}

}  // namespace
}  // namespace postwire::feed

namespace postwire::feed {
namespace {

// A feed that invents new guids on every fetch while its links stay the same.
std::string rotating_feed(const std::string& salt) {
  return "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Rotating</title>"
         "<item><title>Story A</title><link>http://r.example/a?utm_source=rss</link><guid>" +
         salt +
         "-1</guid><pubDate>Sun, 22 Jul 2007 12:09:00</pubDate></item>"
         "<item><title>Story B</title><link>http://r.example/b</link><guid>" +
         salt + "-2</guid></item></channel></rss>";
}

SourceSpec rotating_spec(const char* options) {
  SourceSpec spec;
  spec.id = "rotating";
  spec.type = "feed";
  spec.url = "http://r.example/feed";
  spec.timezone = "America/New_York";
  spec.options = YAML::Load(options);
  return spec;
}

std::vector<std::string> post_ids(const Result<PollBatch>& batch) {
  std::vector<std::string> ids;
  for (const auto& p : batch->posts) ids.push_back(p.id);
  return ids;
}

TEST(FeedConnectorIds, IdFromLinkIsStableAcrossFetchesWithNewGuids) {
  MapFetcher fetcher;
  const SourceSpec spec = rotating_spec("{follow_comments: false, id_from: link}");
  fetcher.docs["http://r.example/feed"] = rotating_feed("f3a9");
  const auto first = poll(spec, fetcher);
  fetcher.docs["http://r.example/feed"] = rotating_feed("77c0");
  const auto second = poll(spec, fetcher);
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->posts.size(), 2u);
  EXPECT_EQ(post_ids(first), post_ids(second));
  EXPECT_EQ(first->posts[0].native_id, "http://r.example/a");  // canonical: tracking parameter gone
  EXPECT_EQ(first->posts[0].url, "http://r.example/a");
  EXPECT_EQ(first->posts[0].url_original, "http://r.example/a?utm_source=rss");
  // The source's time zone applies to the zone-less date (EDT in July).
  EXPECT_EQ(first->posts[0].published_at, 1185120540);
  EXPECT_EQ(first->posts[0].quality, (std::vector<std::string>{"date_source_zone"}));
}

TEST(FeedConnectorIds, AutoUsesGuidsSoRotatingGuidsChangeIds) {
  MapFetcher fetcher;
  const SourceSpec spec = rotating_spec("{follow_comments: false}");
  fetcher.docs["http://r.example/feed"] = rotating_feed("f3a9");
  const auto first = poll(spec, fetcher);
  fetcher.docs["http://r.example/feed"] = rotating_feed("77c0");
  const auto second = poll(spec, fetcher);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->posts[0].native_id, "f3a9-1");
  EXPECT_NE(post_ids(first), post_ids(second));
}

TEST(FeedConnectorIds, AutoFallsBackToCanonicalLinkForMissingOrReusedGuids) {
  MapFetcher fetcher;
  const SourceSpec spec = rotating_spec("{follow_comments: false}");
  fetcher.docs["http://r.example/feed"] =
      "<rss version=\"2.0\"><channel><title>T</title>"
      "<item><title>A</title><link>http://R.example:80/a#top</link><guid>dup</guid></item>"
      "<item><title>B</title><link>http://r.example/b?fbclid=x</link><guid>dup</guid></item>"
      "<item><title>C</title><link>http://r.example/c</link><guid></guid></item>"
      "<item><title>D</title><pubDate>2007-07-22</pubDate></item></channel></rss>";
  const auto batch = poll(spec, fetcher);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->posts.size(), 4u);
  EXPECT_EQ(batch->posts[0].native_id, "http://r.example/a");
  EXPECT_EQ(batch->posts[0].quality, (std::vector<std::string>{"id_reused"}));
  EXPECT_EQ(batch->posts[1].native_id, "http://r.example/b");
  EXPECT_EQ(batch->posts[2].native_id, "http://r.example/c");
  EXPECT_TRUE(batch->posts[3].native_id.starts_with("urn:postwire:hash:"));
  EXPECT_EQ(batch->posts[0].id, make_post_id("rotating", "http://r.example/a"));
}

TEST(FeedConnectorIds, GuidModeKeepsReusedGuids) {
  MapFetcher fetcher;
  const SourceSpec spec = rotating_spec("{follow_comments: false, id_from: guid}");
  fetcher.docs["http://r.example/feed"] =
      "<rss version=\"2.0\"><channel><title>T</title>"
      "<item><title>A</title><link>http://r.example/a</link><guid>dup</guid></item>"
      "<item><title>B</title><link>http://r.example/b</link><guid>dup</guid></item></channel></rss>";
  const auto batch = poll(spec, fetcher);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->posts[0].native_id, "dup");
  EXPECT_EQ(batch->posts[1].native_id, "dup");
}

TEST(FeedConnectorIds, BadIdFromIsAConfigError) {
  auto factory = make_feed_connector_factory();
  EXPECT_FALSE(factory.create(rotating_spec("{id_from: title}")));
  const auto has = [&](const char* name) {
    for (const auto& o : factory.options) {
      if (o.name == name) return true;
    }
    return false;
  };
  EXPECT_TRUE(has("id_from"));
  EXPECT_TRUE(has("tracking_params"));
}

TEST(FeedConnectorUrls, ConfiguredTrackingParamsAreRemovedToo) {
  MapFetcher fetcher;
  const SourceSpec spec = rotating_spec("{follow_comments: false, tracking_params: [ref, 'share_*']}");
  fetcher.docs["http://r.example/feed"] =
      "<rss version=\"2.0\"><channel><title>T</title><item><title>A</title>"
      "<link>http://r.example/a?id=1&amp;ref=tw&amp;share_src=x&amp;utm_source=y</link></item></channel></"
      "rss>";
  const auto batch = poll(spec, fetcher);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->posts[0].url, "http://r.example/a?id=1");
}

}  // namespace
}  // namespace postwire::feed
