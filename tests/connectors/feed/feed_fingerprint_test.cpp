// Source fingerprints (ParseOptions::fingerprint_items): the same item bytes give
// the same fingerprint, anything that could change the item's outcome gives
// another, and items named in `unchanged` are skipped, not normalised.
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>
#include <vector>

#include "feed/feed_parser.hpp"

namespace postwire::feed {
namespace {

std::string comment_item(const std::string& guid, const std::string& body) {
  return "<item><title>Re: story</title><link>http://t.example/story#comment-" + guid +
         "</link><guid isPermaLink=\"false\">" + guid + "</guid><dc:creator>Rick, Chicago</dc:creator>" +
         "<pubDate>Sun, 22 Jul 2007 16:09:00 -0400</pubDate><description><![CDATA[" + body +
         " and some more words so that the section is long enough to be taken out]]></description></item>";
}

std::string rss(const std::vector<std::string>& items, const std::string& channel_extra = "") {
  std::string out =
      R"(<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>)"
      "<title>Comments</title><link>http://t.example/story</link>" +
      channel_extra;
  for (const auto& i : items) out += i;
  return out + "</channel></rss>";
}

ParseOptions fingerprinting(const std::unordered_set<std::uint64_t>* unchanged = nullptr,
                            std::uint64_t seed = 7) {
  ParseOptions options;
  options.base_url = "http://t.example/story/comments.xml";
  options.fingerprint_items = true;
  options.fingerprint_seed = seed;
  options.unchanged = unchanged;
  return options;
}

std::vector<std::uint64_t> fingerprints(const std::string& doc, const ParseOptions& options) {
  auto parsed = parse_feed(doc, options);
  EXPECT_TRUE(parsed.ok());
  std::vector<std::uint64_t> out;
  if (!parsed.ok()) return out;
  for (const auto& e : parsed->entries) out.push_back(e.source_fingerprint);
  return out;
}

TEST(FeedFingerprint, OffByDefault) {
  auto parsed = parse_feed(rss({comment_item("1", "First")}), ParseOptions{});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries.at(0).source_fingerprint, 0U);
}

TEST(FeedFingerprint, SameBytesSameFingerprintAnythingElseAnother) {
  const auto base =
      fingerprints(rss({comment_item("1", "First"), comment_item("2", "Second")}), fingerprinting());
  ASSERT_EQ(base.size(), 2U);
  EXPECT_NE(base[0], 0U);
  EXPECT_NE(base[0], base[1]);
  // Same items, other order and a new neighbour: each keeps its fingerprint.
  const auto again =
      fingerprints(rss({comment_item("3", "Third"), comment_item("2", "Second"), comment_item("1", "First")}),
                   fingerprinting());
  EXPECT_EQ(again[1], base[1]);
  EXPECT_EQ(again[2], base[0]);
  // A changed body (inside CDATA), another seed (source, parent post), another
  // link, another id rule: all differ.
  EXPECT_NE(fingerprints(rss({comment_item("1", "First!")}), fingerprinting())[0], base[0]);
  EXPECT_NE(fingerprints(rss({comment_item("1", "First")}), fingerprinting(nullptr, 8))[0], base[0]);
  auto by_link = fingerprinting();
  by_link.id_from = IdFrom::link;
  EXPECT_NE(fingerprints(rss({comment_item("1", "First")}), by_link)[0], base[0]);
  // What cannot change the item's id or content hash does not count: the
  // channel's language, the source's time zone, and the document URL while the
  // item has a guid. (The dates they change are not compared: a duplicate
  // publishes nothing.)
  EXPECT_EQ(fingerprints(rss({comment_item("1", "First")}, "<language>de</language>"), fingerprinting())[0],
            base[0]);
  auto zoned = fingerprinting();
  zoned.timezone = "America/New_York";
  EXPECT_EQ(fingerprints(rss({comment_item("1", "First")}), zoned)[0], base[0]);
  auto moved = fingerprinting();
  moved.base_url = "http://t.example/other/comments.xml";
  EXPECT_EQ(fingerprints(rss({comment_item("1", "First")}), moved)[0], base[0]);
}

TEST(FeedFingerprint, TheItemsOwnAttributesCount) {
  // RSS 1.0 names an item by its rdf:about attribute: another value is another item.
  auto rdf = [](const std::string& about) {
    return R"(<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#")"
           R"( xmlns="http://purl.org/rss/1.0/"><channel rdf:about="http://t.example/"><title>T</title></channel>)"
           R"(<item rdf:about=")" +
           about + R"("><title>One</title><description>Text</description></item></rdf:RDF>)";
  };
  const auto a = fingerprints(rdf("http://t.example/1"), fingerprinting());
  ASSERT_EQ(a.size(), 1U);
  EXPECT_EQ(fingerprints(rdf("http://t.example/1"), fingerprinting())[0], a[0]);
  EXPECT_NE(fingerprints(rdf("http://t.example/2"), fingerprinting())[0], a[0]);
}

TEST(FeedFingerprint, TheTrackingListCountsParameterByParameter) {
  // The list decides canonical links, hence ids: ["ab", "c"] is not ["a", "bc"].
  const std::string doc = rss({comment_item("1", "First")});
  auto one = fingerprinting();
  one.tracking_params = {"ab", "c"};
  auto other = fingerprinting();
  other.tracking_params = {"a", "bc"};
  EXPECT_NE(fingerprints(doc, one)[0], fingerprints(doc, other)[0]);
  EXPECT_NE(fingerprints(doc, one)[0], fingerprints(doc, fingerprinting())[0]);
}

TEST(FeedFingerprint, TheDocumentUrlCountsWhenTheIdComesFromTheLink) {
  const std::string item =
      "<item><title>Re</title><link>comment-1</link><description>Text</description></item>";
  auto moved = fingerprinting();
  moved.base_url = "http://t.example/other/comments.xml";
  EXPECT_NE(fingerprints(rss({item}), fingerprinting())[0], fingerprints(rss({item}), moved)[0]);
}

TEST(FeedFingerprint, UnchangedItemsAreSkippedAndListed) {
  const std::string first = rss({comment_item("1", "First"), comment_item("2", "Second")});
  const auto fps = fingerprints(first, fingerprinting());
  const std::unordered_set<std::uint64_t> known{fps[0]};
  auto parsed = parse_feed(rss({comment_item("1", "First"), comment_item("2", "Second edited")}),
                           fingerprinting(&known));
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->entries.size(), 1U);
  EXPECT_EQ(parsed->entries[0].native_id, "2");
  EXPECT_NE(parsed->entries[0].source_fingerprint, fps[1]);
  ASSERT_EQ(parsed->unchanged.size(), 1U);
  EXPECT_EQ(parsed->unchanged[0], fps[0]);
}

TEST(FeedFingerprint, KeptUnchangedItemsCarryOnlyTheirIdentity) {
  // keep_unchanged (posts): the unchanged item stays in `entries`, read for its
  // id, link, title and comment feed, with nothing of its body worked out.
  auto post = [](const std::string& body) {
    return R"(<item><title>Story</title><link>http://t.example/story?utm_source=x</link><guid>s-1</guid>)"
           R"(<wfw:commentRss xmlns:wfw="http://wellformedweb.org/CommentAPI/">http://t.example/story/c.xml)"
           "</wfw:commentRss><description><![CDATA[<p>" +
           body + " with enough words in it for a language to be told apart from the rest</p>]]>" +
           "</description></item>";
  };
  const auto fps = fingerprints(rss({post("The story")}), fingerprinting());
  const std::unordered_set<std::uint64_t> known{fps[0]};
  ParseOptions options = fingerprinting(&known);
  options.keep_unchanged = true;
  auto parsed = parse_feed(rss({post("The story"), comment_item("2", "Second")}), options);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->entries.size(), 2U);
  EXPECT_TRUE(parsed->unchanged.empty());
  const FeedEntry& kept = parsed->entries[0];
  EXPECT_TRUE(kept.unchanged);
  EXPECT_EQ(kept.source_fingerprint, fps[0]);
  EXPECT_EQ(kept.native_id, "s-1");
  EXPECT_EQ(kept.url, "http://t.example/story");
  EXPECT_EQ(kept.title, "Story");
  EXPECT_EQ(kept.comments_url, "http://t.example/story/c.xml");
  EXPECT_FALSE(kept.content_text);
  EXPECT_FALSE(kept.content_html);
  EXPECT_FALSE(kept.summary);
  EXPECT_FALSE(kept.language);
  // The other item is read in full.
  EXPECT_FALSE(parsed->entries[1].unchanged);
  EXPECT_TRUE(parsed->entries[1].content_text);
  EXPECT_TRUE(parsed->entries[1].language);
  // Changed bytes: read in full as well.
  auto edited = parse_feed(rss({post("The story, corrected")}), options);
  ASSERT_TRUE(edited.ok());
  ASSERT_EQ(edited->entries.size(), 1U);
  EXPECT_FALSE(edited->entries[0].unchanged);
  EXPECT_TRUE(edited->entries[0].content_text);
}

TEST(FeedFingerprint, CommentCountsDoNotCount) {
  // A post's comment count moves with every new comment; its id and content
  // hash do not. RSS slash:comments and thr:total, Atom thr:count/thr:updated.
  auto rss_post = [](const std::string& count) {
    return rss({R"(<item xmlns:slash="http://purl.org/rss/1.0/modules/slash/" )"
                R"(xmlns:thr="http://purl.org/syndication/thread/1.0"><title>Story</title>)"
                "<guid>s-1</guid><description>Body</description><slash:comments>" +
                count + "</slash:comments><thr:total>" + count + "</thr:total></item>"});
  };
  const auto two = fingerprints(rss_post("2"), fingerprinting());
  EXPECT_EQ(fingerprints(rss_post("7"), fingerprinting()), two);
  auto atom = [](const std::string& count, const std::string& href) {
    return R"(<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" )"
           R"(xmlns:thr="http://purl.org/syndication/thread/1.0"><title>T</title><entry><id>urn:1</id>)"
           "<title>One</title><link rel=\"replies\" href=\"" +
           href + "\" thr:count=\"" + count + "\" thr:updated=\"2007-07-2" + count +
           "T00:00:00Z\"/><content>Text</content></entry></feed>";
  };
  const auto a = fingerprints(atom("1", "http://t.example/1/replies"), fingerprinting());
  EXPECT_EQ(fingerprints(atom("5", "http://t.example/1/replies"), fingerprinting()), a);
  // The rest of the element still counts.
  EXPECT_NE(fingerprints(atom("1", "http://t.example/2/replies"), fingerprinting()), a);
}

TEST(FeedFingerprint, NothingIsSkippedWhenItemsShareAnId) {
  // Items sharing a guid get ids from their links, decided over the whole
  // document: each must be read.
  const std::string doc = rss({comment_item("1", "First"), comment_item("1", "Other")});
  const auto fps = fingerprints(doc, fingerprinting());
  const std::unordered_set<std::uint64_t> known{fps[0], fps[1]};
  auto parsed = parse_feed(doc, fingerprinting(&known));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->entries.size(), 2U);
  EXPECT_TRUE(parsed->unchanged.empty());
}

TEST(FeedFingerprint, AtomEntries) {
  auto atom = [](const std::string& feed_author, const std::string& content) {
    return R"(<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>)"
           "<author><name>" +
           feed_author +
           "</name></author><entry><id>urn:1</id><title>One</title><link href=\"http://t.example/1\"/>"
           "<updated>2007-07-22T16:09:00Z</updated><content>" +
           content + "</content></entry></feed>";
  };
  const auto a = fingerprints(atom("Ann", "Text"), fingerprinting());
  ASSERT_EQ(a.size(), 1U);
  EXPECT_NE(a[0], 0U);
  EXPECT_EQ(fingerprints(atom("Ann", "Text"), fingerprinting())[0], a[0]);
  EXPECT_EQ(fingerprints(atom("Bob", "Text"), fingerprinting())[0], a[0]);  // authors are not compared
  EXPECT_NE(fingerprints(atom("Ann", "Text."), fingerprinting())[0], a[0]);
  const std::unordered_set<std::uint64_t> known{a[0]};
  auto parsed = parse_feed(atom("Ann", "Text"), fingerprinting(&known));
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed->entries.empty());
  EXPECT_EQ(parsed->unchanged.size(), 1U);
}

TEST(FeedFingerprint, EntityReplacementTextCounts) {
  auto doc = [](const std::string& value) {
    return R"(<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY who ")" + value +
           R"(">]><rss version="2.0"><channel><title>T</title><item><guid>g</guid><title>By &who;</title>)"
           "<description>Text</description></item></channel></rss>";
  };
  EXPECT_NE(fingerprints(doc("Ann"), fingerprinting())[0], fingerprints(doc("Bob"), fingerprinting())[0]);
}

}  // namespace
}  // namespace postwire::feed
