#include "feed/feed_parser.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace postwire::feed {
namespace {

using Strings = std::vector<std::string>;

ParsedFeed parse_ok(std::string_view body, const ParseOptions& options = {}) {
  Result<ParsedFeed> result = parse_feed(body, options);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? std::move(result).value() : ParsedFeed{};
}

ParseOptions with_base(std::string base) {
  ParseOptions options;
  options.base_url = std::move(base);
  return options;
}

bool has_prefix(const Strings& list, std::string_view prefix) {
  for (const std::string& s : list) {
    if (s.starts_with(prefix)) return true;
  }
  return false;
}

// Every piece of text the parser produced, for "must not contain" checks.
std::string everything(const ParsedFeed& feed) {
  std::string all = feed.title.value_or("") + "\n" + feed.url.value_or("") + "\n";
  for (const std::string& w : feed.warnings) all += w + "\n";
  for (const FeedEntry& e : feed.entries) {
    all += e.native_id + "\n" + e.url.value_or("") + "\n" + e.title.value_or("") + "\n" +
           e.summary.value_or("") + "\n" + e.content_text.value_or("") + "\n" + e.content_html.value_or("") +
           "\n";
    for (const Author& a : e.authors) all += a.name.value_or("") + "\n";
  }
  return all;
}

constexpr std::string_view kRss2 =
    R"FEED(<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:wfw="http://wellformedweb.org/CommentAPI/"
     xmlns:slash="http://purl.org/rss/1.0/modules/slash/"
     xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
  <title>Example &amp; Co</title>
  <link>https://blog.example/</link>
  <language>en-us</language>
  <atom:link rel="self" href="https://blog.example/feed/" type="application/rss+xml"/>
  <item>
    <title>First &lt;em&gt;post&lt;/em&gt;</title>
    <link>https://blog.example/2007/07/first/</link>
    <guid isPermaLink="false"> https://blog.example/?p=1 </guid>
    <pubDate>Sun, 22 Jul 2007 16:09:00 +0000</pubDate>
    <dc:creator><![CDATA[Rick]]></dc:creator>
    <category>News</category>
    <category><![CDATA[Tech]]></category>
    <category>News</category>
    <description><![CDATA[<p>Short summary &amp; more</p>]]></description>
    <content:encoded><![CDATA[<p>Full <b>body</b> with <a href="/rel" onclick="x()">link</a>.</p>)FEED"
    R"FEED(<script>alert(1)</script><p>Second&nbsp;para</p>]]></content:encoded>
    <wfw:commentRss>https://blog.example/2007/07/first/feed/</wfw:commentRss>
    <slash:comments>12</slash:comments>
  </item>
  <item>
    <title>Tom &amp;amp; Jerry</title>
    <link>/2007/07/second/</link>
    <description>Plain text,
      wrapped.</description>
    <author>rick@example.com (Rick Astley)</author>
    <pubDate>Mon, 23 Jul 2007 10:00:00</pubDate>
  </item>
  <item>
    <title>Third</title>
    <pubDate>sometime last week</pubDate>
  </item>
</channel>
</rss>)FEED";

TEST(FeedParserRss2, ChannelAndItems) {
  const ParsedFeed feed = parse_ok(kRss2, with_base("https://blog.example/feed/"));
  EXPECT_EQ(feed.format, FeedFormat::rss);
  EXPECT_EQ(feed.title, "Example & Co");
  EXPECT_EQ(feed.url, "https://blog.example/");
  EXPECT_EQ(feed.language, "en-US");
  EXPECT_TRUE(feed.warnings.empty()) << feed.warnings.front();
  ASSERT_EQ(feed.entries.size(), 3u);

  const FeedEntry& first = feed.entries[0];
  EXPECT_EQ(first.native_id, "https://blog.example/?p=1");
  EXPECT_EQ(first.url, "https://blog.example/2007/07/first/");
  EXPECT_EQ(first.title, "First post");
  EXPECT_EQ(first.summary, "Short summary & more");
  EXPECT_EQ(first.content_text, "Full body with link.\n\nSecond para");
  EXPECT_EQ(
      first.content_html,
      "<p>Full <b>body</b> with <a href=\"https://blog.example/rel\">link</a>.</p><p>Second\u00A0para</p>");
  ASSERT_EQ(first.authors.size(), 1u);
  EXPECT_EQ(first.authors[0].name, "Rick");
  EXPECT_EQ(first.published_at, 1185120540);
  EXPECT_FALSE(first.updated_at.has_value());
  EXPECT_EQ(first.tags, (Strings{"News", "Tech"}));
  EXPECT_EQ(first.comment_count, 12);
  EXPECT_EQ(first.comments_url, "https://blog.example/2007/07/first/feed/");
  EXPECT_FALSE(first.in_reply_to.has_value());
  EXPECT_TRUE(first.quality.empty());

  const FeedEntry& second = feed.entries[1];
  EXPECT_EQ(second.title, "Tom & Jerry");  // escaped twice by the feed
  EXPECT_EQ(second.url, "https://blog.example/2007/07/second/");
  EXPECT_EQ(second.native_id, "https://blog.example/2007/07/second/");  // no guid: the link
  EXPECT_EQ(second.summary, "Plain text, wrapped.");
  EXPECT_EQ(second.content_text, "Plain text, wrapped.");
  ASSERT_EQ(second.authors.size(), 1u);
  EXPECT_EQ(second.authors[0].name, "Rick Astley");
  EXPECT_EQ(second.published_at, 1185184800);
  EXPECT_EQ(second.quality, (Strings{"date_missing_zone"}));
  EXPECT_FALSE(second.comment_count.has_value());
  EXPECT_FALSE(second.comments_url.has_value());

  const FeedEntry& third = feed.entries[2];
  EXPECT_FALSE(third.url.has_value());
  EXPECT_FALSE(third.published_at.has_value());
  EXPECT_EQ(third.quality, (Strings{"date_unparseable"}));
  EXPECT_TRUE(third.native_id.starts_with("urn:postwire:hash:"));
  EXPECT_EQ(third.native_id.size(), std::string("urn:postwire:hash:").size() + 32);
  EXPECT_FALSE(third.summary.has_value());
  EXPECT_FALSE(third.content_text.has_value());
  EXPECT_FALSE(third.content_html.has_value());
}

TEST(FeedParserRss2, HashIdIsStable) {
  const ParsedFeed a = parse_ok(kRss2);
  const ParsedFeed b = parse_ok(kRss2);
  ASSERT_EQ(a.entries.size(), 3u);
  EXPECT_EQ(a.entries[2].native_id, b.entries[2].native_id);
}

TEST(FeedParserRss2, RelativeLinksWithoutBaseAreDropped) {
  const ParsedFeed feed = parse_ok(kRss2);
  ASSERT_EQ(feed.entries.size(), 3u);
  EXPECT_FALSE(feed.entries[1].url.has_value());
  EXPECT_EQ(feed.entries[1].native_id, "/2007/07/second/");
}

TEST(FeedParserRss2, GuidPermalinkIsTheLinkWhenThereIsNoLink) {
  const ParsedFeed feed = parse_ok(R"FEED(<rss version="2.0"><channel>
    <item><guid>https://p.example/1</guid><title>a</title></item>
    <item><guid isPermaLink="false">https://p.example/2</guid><title>b</title></item>
  </channel></rss>)FEED");
  ASSERT_EQ(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].url, "https://p.example/1");
  EXPECT_FALSE(feed.entries[1].url.has_value());
  EXPECT_EQ(feed.entries[1].native_id, "https://p.example/2");
}

TEST(FeedParserRss1, ItemsAreSiblingsOfTheChannel) {
  const ParsedFeed feed = parse_ok(R"FEED(<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.org/rss">
    <title>RDF Site</title>
    <link>https://example.org/</link>
    <dc:language>de</dc:language>
    <items><rdf:Seq><rdf:li rdf:resource="https://example.org/a"/></rdf:Seq></items>
  </channel>
  <item rdf:about="https://example.org/a">
    <title>A</title>
    <link>https://example.org/a.html</link>
    <description>Desc A</description>
    <dc:date>2007-07-22T18:09:00+02:00</dc:date>
    <dc:creator>Anna</dc:creator>
    <dc:creator>Anna</dc:creator>
    <dc:subject>topic</dc:subject>
  </item>
  <item rdf:about="https://example.org/b"><title>B</title><link>https://example.org/b</link></item>
</rdf:RDF>)FEED");
  EXPECT_EQ(feed.format, FeedFormat::rss);
  EXPECT_EQ(feed.title, "RDF Site");
  EXPECT_EQ(feed.url, "https://example.org/");
  EXPECT_EQ(feed.language, "de");
  ASSERT_EQ(feed.entries.size(), 2u);
  const FeedEntry& a = feed.entries[0];
  EXPECT_EQ(a.native_id, "https://example.org/a");
  EXPECT_EQ(a.url, "https://example.org/a.html");
  EXPECT_EQ(a.title, "A");
  EXPECT_EQ(a.summary, "Desc A");
  EXPECT_EQ(a.published_at, 1185120540);
  ASSERT_EQ(a.authors.size(), 1u);
  EXPECT_EQ(a.authors[0].name, "Anna");
  EXPECT_EQ(a.tags, (Strings{"topic"}));
  EXPECT_EQ(feed.entries[1].native_id, "https://example.org/b");
}

constexpr std::string_view kAtom = R"FEED(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0"
      xml:lang="en" xml:base="https://atom.example/blog/">
  <title type="text">Atom &amp; Eve</title>
  <link rel="self" href="/feed.atom"/>
  <link rel="alternate" type="text/html" href="./"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2007-07-22T16:09:00Z</updated>
  <author><name>Feed Author</name><uri>/about</uri></author>
  <entry>
    <title type="html">Post &lt;b&gt;one&lt;/b&gt; &amp;amp; more</title>
    <link href="posts/1"/>
    <link rel="replies" type="text/html" href="posts/1#comments" thr:count="3"/>
    <link rel="replies" type="application/atom+xml" href="posts/1/comments.atom" thr:count="5"/>
    <link rel="enclosure" type="audio/mpeg" href="posts/1.mp3"/>
    <id> tag:atom.example,2007:1 </id>
    <published>2007-07-22T16:09:00Z</published>
    <updated>2007-07-23T10:00:00+02:00</updated>
    <category term="t1" label="Topic One"/>
    <category label="Only label"/>
    <summary>Plain summary with &lt;b&gt; literal</summary>
    <content type="xhtml" xml:base="posts/1/"><div xmlns="http://www.w3.org/1999/xhtml">)FEED"
                                   R"FEED(<p>Hello <a href="img/x">x</a></p><p>World</p></div></content>
  </entry>
  <entry>
    <title>A reply</title>
    <id>tag:atom.example,2007:c2</id>
    <thr:in-reply-to ref="tag:atom.example,2007:1" href="posts/1"/>
    <author><name>Commenter</name></author>
    <content type="html">&lt;p&gt;I agree&lt;/p&gt;&lt;script&gt;x&lt;/script&gt;</content>
    <updated>2007-07-24T00:00:00Z</updated>
  </entry>
  <entry>
    <title>Text only</title>
    <id>tag:atom.example,2007:3</id>
    <content type="text">Line one
      continues.

Para &lt;two&gt;</content>
  </entry>
</feed>)FEED";

TEST(FeedParserAtom, EntriesRepliesAndThreading) {
  const ParsedFeed feed = parse_ok(kAtom, with_base("https://atom.example/feed.atom"));
  EXPECT_EQ(feed.format, FeedFormat::atom);
  EXPECT_EQ(feed.title, "Atom & Eve");
  EXPECT_EQ(feed.url, "https://atom.example/blog/");
  EXPECT_EQ(feed.language, "en");
  EXPECT_TRUE(feed.warnings.empty());
  ASSERT_EQ(feed.entries.size(), 3u);

  const FeedEntry& post = feed.entries[0];
  EXPECT_EQ(post.native_id, "tag:atom.example,2007:1");
  EXPECT_EQ(post.url, "https://atom.example/blog/posts/1");
  EXPECT_EQ(post.title, "Post one & more");
  EXPECT_EQ(post.summary, "Plain summary with <b> literal");
  EXPECT_EQ(post.content_text, "Hello x\n\nWorld");
  EXPECT_EQ(post.content_html,
            "<p>Hello <a href=\"https://atom.example/blog/posts/1/img/x\">x</a></p><p>World</p>");
  EXPECT_EQ(post.published_at, 1185120540);
  EXPECT_EQ(post.updated_at, 1185177600);
  EXPECT_EQ(post.tags, (Strings{"t1", "Only label"}));
  EXPECT_EQ(post.comments_url, "https://atom.example/blog/posts/1/comments.atom");
  EXPECT_EQ(post.comment_count, 5);
  ASSERT_EQ(post.authors.size(), 1u);  // inherited from the feed
  EXPECT_EQ(post.authors[0].name, "Feed Author");
  EXPECT_EQ(post.authors[0].url, "https://atom.example/about");

  const FeedEntry& reply = feed.entries[1];
  EXPECT_EQ(reply.in_reply_to, "tag:atom.example,2007:1");
  ASSERT_EQ(reply.authors.size(), 1u);
  EXPECT_EQ(reply.authors[0].name, "Commenter");
  EXPECT_EQ(reply.content_text, "I agree");
  EXPECT_EQ(reply.content_html, "<p>I agree</p>");
  EXPECT_FALSE(reply.published_at.has_value());
  EXPECT_EQ(reply.updated_at, 1185235200);
  EXPECT_FALSE(reply.url.has_value());

  const FeedEntry& text = feed.entries[2];
  EXPECT_EQ(text.content_text, "Line one\ncontinues.\n\nPara <two>");
  EXPECT_FALSE(text.content_html.has_value());
}

TEST(FeedParserAtom, Atom03BestEffort) {
  const ParsedFeed feed = parse_ok(R"FEED(<?xml version="1.0"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#">
  <title>Old</title>
  <link rel="alternate" type="text/html" href="http://old.example/"/>
  <entry>
    <title>E</title>
    <link rel="alternate" type="text/html" href="http://old.example/e"/>
    <id>tag:old.example,2004:1</id>
    <author><name>Oldie</name><url>http://old.example/me</url></author>
    <issued>2004-01-01T00:00:00Z</issued>
    <modified>2004-01-02T00:00:00Z</modified>
    <content type="text/html" mode="escaped">&lt;p&gt;Old &amp;amp; gold&lt;/p&gt;</content>
  </entry>
</feed>)FEED");
  EXPECT_EQ(feed.format, FeedFormat::atom);
  EXPECT_EQ(feed.url, "http://old.example/");
  ASSERT_EQ(feed.entries.size(), 1u);
  const FeedEntry& e = feed.entries[0];
  EXPECT_EQ(e.url, "http://old.example/e");
  EXPECT_EQ(e.published_at, 1072915200);
  EXPECT_EQ(e.updated_at, 1073001600);
  EXPECT_EQ(e.content_text, "Old & gold");
  ASSERT_EQ(e.authors.size(), 1u);
  EXPECT_EQ(e.authors[0].url, "http://old.example/me");
}

constexpr std::string_view kJsonFeed = R"FEED({
  "version": "https://jsonfeed.org/version/1.1",
  "title": "JSON &amp; Feed",
  "home_page_url": "https://json.example/",
  "language": "en-GB",
  "authors": [{"name": "Jay"}],
  "items": [
    {
      "id": "1",
      "url": "/posts/1",
      "title": "Hello",
      "summary": "S",
      "content_html": "<p>Hi <img src=\"a.png\" onerror=\"x\"></p>",
      "date_published": "2007-07-22T16:09:00Z",
      "date_modified": "2007-07-23T16:09:00",
      "tags": ["a", "b", "a", 7],
      "_comments_url": "/posts/1/comments.json"
    },
    {
      "id": 2,
      "content_text": "Just text\n\nwith lines",
      "authors": [{"name": "Kay", "url": "https://kay.example"}],
      "title": 42
    },
    "not an object",
    {"content_text": "no id", "date_published": "2007-07-22T16:09:00Z"}
  ]
})FEED";

TEST(FeedParserJson, JsonFeed11) {
  const ParsedFeed feed = parse_ok(kJsonFeed, with_base("https://json.example/feed.json"));
  EXPECT_EQ(feed.format, FeedFormat::jsonfeed);
  EXPECT_EQ(feed.title, "JSON & Feed");
  EXPECT_EQ(feed.url, "https://json.example/");
  EXPECT_EQ(feed.language, "en-GB");
  EXPECT_TRUE(has_prefix(feed.warnings, "item_skipped"));
  ASSERT_EQ(feed.entries.size(), 3u);

  const FeedEntry& first = feed.entries[0];
  EXPECT_EQ(first.native_id, "1");
  EXPECT_EQ(first.url, "https://json.example/posts/1");
  EXPECT_EQ(first.title, "Hello");
  EXPECT_EQ(first.summary, "S");
  EXPECT_EQ(first.content_text, "Hi");
  EXPECT_EQ(first.content_html, "<p>Hi <img src=\"https://json.example/a.png\"></p>");
  EXPECT_EQ(first.published_at, 1185120540);
  EXPECT_EQ(first.updated_at, 1185206940);
  EXPECT_EQ(first.quality, (Strings{"date_missing_zone"}));
  EXPECT_EQ(first.tags, (Strings{"a", "b"}));
  EXPECT_EQ(first.comments_url, "https://json.example/posts/1/comments.json");
  ASSERT_EQ(first.authors.size(), 1u);
  EXPECT_EQ(first.authors[0].name, "Jay");

  const FeedEntry& second = feed.entries[1];
  EXPECT_EQ(second.native_id, "2");
  EXPECT_FALSE(second.title.has_value());
  EXPECT_EQ(second.content_text, "Just text\n\nwith lines");
  EXPECT_FALSE(second.content_html.has_value());
  ASSERT_EQ(second.authors.size(), 1u);
  EXPECT_EQ(second.authors[0].name, "Kay");
  EXPECT_EQ(second.authors[0].url, "https://kay.example/");

  EXPECT_TRUE(feed.entries[2].native_id.starts_with("urn:postwire:hash:"));
}

TEST(FeedParserJson, JsonFeed10SingleAuthor) {
  const ParsedFeed feed = parse_ok(R"FEED({"version": "https://jsonfeed.org/version/1", "title": "T",
    "author": {"name": "Solo"}, "items": [{"id": "x", "content_text": "t"}]})FEED");
  ASSERT_EQ(feed.entries.size(), 1u);
  ASSERT_EQ(feed.entries[0].authors.size(), 1u);
  EXPECT_EQ(feed.entries[0].authors[0].name, "Solo");
}

TEST(FeedParserJson, AuthorAsAPlainString) {
  const ParsedFeed feed = parse_ok(R"FEED({"version": "https://jsonfeed.org/version/1",
    "items": [{"id": "x", "content_text": "t", "author": "  Plain   Name "}]})FEED");
  ASSERT_EQ(feed.entries.size(), 1u);
  ASSERT_EQ(feed.entries[0].authors.size(), 1u);
  EXPECT_EQ(feed.entries[0].authors[0].name, "Plain Name");
}

TEST(FeedParserJson, BadJson) {
  for (std::string_view body :
       {std::string_view("{"), std::string_view("{\"items\": [1,}"), std::string_view("{\"foo\": 1}"),
        std::string_view("[1, 2]"), std::string_view("{\"title\": \"\xFF\"}")}) {
    const Result<ParsedFeed> result = parse_feed(body, {});
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_EQ(result.error().code, Errc::parse) << body;
    EXPECT_FALSE(result.error().message.empty());
  }
}

TEST(FeedParserJson, HostileNestingIsRejected) {
  const std::string body = "{\"items\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  const Result<ParsedFeed> result = parse_feed(body, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::parse);
}

TEST(FeedParserRecovery, UndeclaredEntitiesAndBareAmpersands) {
  testing::internal::CaptureStderr();
  const ParsedFeed feed = parse_ok(R"FEED(<?xml version="1.0"?>
<rss version="2.0"><channel><title>Caf&eacute; &amp; Bar</title>
<item><title>Fish &amp; Chips&nbsp;today</title>
<description>AT&T &copy; 2007 &mdash; ok</description><guid>x1</guid></item>
<item><title>Second</title><guid>x2</guid></item>
</channel></rss>)FEED");
  const std::string stderr_text = testing::internal::GetCapturedStderr();
  EXPECT_EQ(stderr_text, "");  // libxml2 must not print
  EXPECT_TRUE(has_prefix(feed.warnings, "xml_recovered: "))
      << (feed.warnings.empty() ? "" : feed.warnings[0]);
  EXPECT_EQ(feed.title, "Caf\u00E9 & Bar");
  ASSERT_EQ(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].title, "Fish & Chips today");
  EXPECT_EQ(feed.entries[0].summary, "AT&T \u00A9 2007 \u2014 ok");
  EXPECT_EQ(feed.entries[1].native_id, "x2");
}

TEST(FeedParserRecovery, Rss091DoctypeEntitiesAreDecoded) {
  const ParsedFeed feed = parse_ok(R"FEED(<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Caf&eacute;</title><link>http://x.example/</link>
<item><title>R&eacute;sum&eacute;</title><link>http://x.example/1</link></item></channel></rss>)FEED");
  EXPECT_EQ(feed.title, "Caf\u00E9");
  EXPECT_EQ(feed.warnings, (Strings{"xml_warning: Entity 'eacute' not defined (line 4)"}));
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].title, "R\u00E9sum\u00E9");
  EXPECT_EQ(feed.entries[0].native_id, "http://x.example/1");
}

TEST(FeedParserRecovery, InternalSubsetEntities) {
  const ParsedFeed feed = parse_ok(R"FEED(<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY nbsp "&#160;"><!ENTITY brand "Postwire">]>
<rss version="2.0"><channel><title>&brand;&nbsp;news</title>
<item><title>by &brand;</title><guid>g</guid></item></channel></rss>)FEED");
  EXPECT_EQ(feed.title, "Postwire news");
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].title, "by Postwire");
}

TEST(FeedParserRecovery, TruncatedDocumentKeepsCompleteItems) {
  const std::string_view body = kRss2.substr(0, kRss2.find("<title>Third</title>") + 12);
  const ParsedFeed feed = parse_ok(body);
  EXPECT_TRUE(has_prefix(feed.warnings, "xml_recovered: "));
  ASSERT_GE(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].title, "First post");
  EXPECT_EQ(feed.entries[1].title, "Tom & Jerry");
}

TEST(FeedParserRecovery, UndeclaredNamespacePrefix) {
  const ParsedFeed feed = parse_ok(R"FEED(<rss version="2.0"><channel><item>
    <title>t</title><guid>g</guid><dc:creator>Nobody Declared</dc:creator>
    <slash:comments>3</slash:comments></item></channel></rss>)FEED");
  EXPECT_TRUE(has_prefix(feed.warnings, "xml_warning: "));
  ASSERT_EQ(feed.entries.size(), 1u);
  ASSERT_EQ(feed.entries[0].authors.size(), 1u);
  EXPECT_EQ(feed.entries[0].authors[0].name, "Nobody Declared");
  EXPECT_EQ(feed.entries[0].comment_count, 3);
}

TEST(FeedParserErrors, NotAFeed) {
  struct Case {
    std::string_view body;
    std::string_view message_part;
  };
  const Case cases[] = {
      {"<!DOCTYPE html><html><head><title>x</title></head><body><p>hi</p></body></html>", "html"},
      {"<?xml version=\"1.0\"?><config><a/></config>", "config"},
      {"just some text", "XML"},
      {"", "empty"},
      {"   \n  ", "empty"},
      {"<rss", "RSS document without <channel>"},
      {R"(<?xml version="1.0"?><rss version="2.0"></rss>)", "RSS document without <channel>"},
      {"<feed xmlns=\"http://example.com/not-atom\"/>", "not a feed"},
  };
  for (const Case& c : cases) {
    const Result<ParsedFeed> result = parse_feed(c.body, {});
    ASSERT_FALSE(result.ok()) << c.body;
    EXPECT_EQ(result.error().code, Errc::parse) << c.body;
    EXPECT_NE(result.error().message.find(c.message_part), std::string::npos) << result.error().message;
  }
}

TEST(FeedParserErrors, ForcedFormatMustMatch) {
  ParseOptions options;
  options.format = FeedFormat::rss;
  Result<ParsedFeed> result = parse_feed(kAtom, options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::parse);
  result = parse_feed(kJsonFeed, options);
  ASSERT_FALSE(result.ok());
  options.format = FeedFormat::jsonfeed;
  result = parse_feed(kRss2, options);
  ASSERT_FALSE(result.ok());
  options.format = FeedFormat::atom;
  EXPECT_TRUE(parse_feed(kAtom, options).ok());
}

TEST(FeedParserErrors, TooLarge) {
  const std::string body(kMaxFeedBytes + 1, ' ');
  const Result<ParsedFeed> result = parse_feed(body, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, Errc::too_large);
}

TEST(FeedParserSecurity, ExternalEntitiesAreNeverRead) {
  char path[] = "/tmp/postwire_xxe_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "POSTWIRE_XXE_MARKER";
  const std::string file_url = std::string("file://") + path;

  const std::string general =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"" + file_url +
      "\"><!ENTITY pw SYSTEM \"file:///etc/passwd\">]>\n"
      "<rss version=\"2.0\"><channel><title>&xxe;&pw;</title><item><title>t &xxe;</title>"
      "<description>&pw;&xxe;</description><guid>g&xxe;</guid></item></channel></rss>";
  const std::string parameter = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY % ext SYSTEM \"" +
                                file_url +
                                "\"> %ext;]>\n<rss version=\"2.0\"><channel><title>t</title></channel></rss>";
  const std::string xinclude =
      "<rss version=\"2.0\" xmlns:xi=\"http://www.w3.org/2001/XInclude\"><channel>"
      "<item><title><xi:include href=\"" +
      file_url +
      "\" parse=\"text\"/></title>"
      "<guid>g</guid></item></channel></rss>";
  for (const std::string& body : {general, parameter, xinclude}) {
    const Result<ParsedFeed> result = parse_feed(body, {});
    if (!result.ok()) {
      EXPECT_EQ(result.error().message.find("POSTWIRE_XXE_MARKER"), std::string::npos);
      EXPECT_EQ(result.error().message.find("root:"), std::string::npos);
      continue;
    }
    const std::string all = everything(*result);
    EXPECT_EQ(all.find("POSTWIRE_XXE_MARKER"), std::string::npos) << all;
    EXPECT_EQ(all.find("root:"), std::string::npos) << all;
  }
  std::remove(path);
}

TEST(FeedParserSecurity, BillionLaughsDoesNotBlowUp) {
  std::string dtd = "<!ENTITY lol \"lol\">";
  for (int i = 1; i <= 9; ++i) {
    dtd += "<!ENTITY lol" + std::to_string(i) + " \"";
    for (int j = 0; j < 10; ++j)
      dtd += (i == 1 ? std::string("&lol;") : "&lol" + std::to_string(i - 1) + ";");
    dtd += "\">";
  }
  const std::string body =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [" + dtd +
      "]>\n<rss version=\"2.0\"><channel><title>&lol9;</title>"
      "<item><title>&lol9;</title><description>&lol9;&lol9;</description><guid>g</guid></item>"
      "</channel></rss>";
  const auto start = std::chrono::steady_clock::now();
  const Result<ParsedFeed> result = parse_feed(body, {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  if (result.ok()) {
    EXPECT_LT(everything(*result).size(), 100000u);
  }
}

TEST(FeedParserSecurity, QuadraticBlowupIsBounded) {
  const std::string big(100000, 'a');
  std::string refs;
  for (int i = 0; i < 2000; ++i) refs += "&big;";
  const std::string body = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY big \"" + big +
                           "\">]>\n<rss version=\"2.0\"><channel><item><title>x</title><description>" + refs +
                           "</description><guid>g</guid></item></channel></rss>";
  const Result<ParsedFeed> result = parse_feed(body, {});
  if (result.ok()) {
    EXPECT_LT(everything(*result).size(), 4u << 20);
  }
}

TEST(FeedParserOptions, MaxItems) {
  std::string body = "<rss version=\"2.0\"><channel>";
  for (int i = 0; i < 10; ++i) body += "<item><guid>id" + std::to_string(i) + "</guid></item>";
  body += "</channel></rss>";
  ParseOptions options;
  options.max_items = 3;
  const ParsedFeed feed = parse_ok(body, options);
  ASSERT_EQ(feed.entries.size(), 3u);
  EXPECT_EQ(feed.entries[2].native_id, "id2");
  EXPECT_EQ(feed.warnings, (Strings{"items_truncated: kept 3 of 10"}));
}

TEST(FeedParserOptions, CharsetFromContentTypeWhenTheDocumentHasNone) {
  const std::string latin1 = "<rss version=\"2.0\"><channel><title>Caf\xE9</title></channel></rss>";
  ParseOptions options;
  options.content_type = "application/rss+xml; charset=ISO-8859-1";
  EXPECT_EQ(parse_ok(latin1, options).title, "Caf\u00E9");

  // A declaration in the document wins over the header.
  const std::string declared =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>"
      "<title>Caf\u00E9</title></channel></rss>";
  EXPECT_EQ(parse_ok(declared, options).title, "Caf\u00E9");
  const std::string declared_latin1 =
      "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<rss version=\"2.0\">"
      "<channel><title>Caf\xE9</title></channel></rss>";
  EXPECT_EQ(parse_ok(declared_latin1).title, "Caf\u00E9");
}

TEST(FeedParserRecovery, InvalidBytesInAUtf8FeedBecomeReplacementCharacters) {
  // Mostly UTF-8 (the euro sign), with stray Windows-1252 bytes: not a mislabel, so
  // each invalid byte becomes U+FFFD and the items that hold one are flagged.
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
      "<title>Caf\xE9 \xE2\x82\xAC \x93quoted\x94</title>"
      "<item><guid>1</guid><description><![CDATA[<p>caf\xE9</p>]]></description></item>"
      "<item><guid>2</guid><description>clean</description></item></channel></rss>";
  const ParsedFeed feed = parse_ok(body);
  EXPECT_TRUE(has_prefix(feed.warnings, "invalid_bytes:"));
  EXPECT_EQ(feed.title, "Caf\uFFFD \u20AC \uFFFDquoted\uFFFD");
  ASSERT_EQ(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].content_text, "caf\uFFFD");
  EXPECT_EQ(feed.entries[0].quality, (Strings{"invalid_utf8"}));
  EXPECT_TRUE(feed.entries[1].quality.empty());
}

TEST(FeedParserRecovery, Windows1252FeedLabelledUtf8IsRecovered) {
  // No valid multi-byte sequence at all: the whole document is Windows-1252.
  const std::string body =
      "<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel>"
      "<title>Caf\xE9 \x93quoted\x94</title>"
      "<item><guid>1</guid><description><![CDATA[<p>caf\xE9</p>]]></description></item></channel></rss>";
  const ParsedFeed feed = parse_ok(body);
  EXPECT_TRUE(has_prefix(feed.warnings, "charset_mislabeled:"));
  EXPECT_EQ(feed.charset, "windows-1252");
  EXPECT_EQ(feed.title, "Caf\u00E9 \u201Cquoted\u201D");
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].content_text, "caf\u00E9");
  EXPECT_EQ(feed.entries[0].quality, (Strings{"charset_mislabeled"}));
}

TEST(FeedParserOptions, LeadingWhitespaceAndBom) {
  const std::string body =
      "\n\n  <?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title></channel></rss>";
  const ParsedFeed feed = parse_ok(body);
  EXPECT_EQ(feed.title, "T");
  EXPECT_TRUE(feed.warnings.empty());
  EXPECT_EQ(parse_ok("\xEF\xBB\xBF" + std::string(kJsonFeed)).entries.size(), 3u);
}

TEST(FeedParserOptions, XmlBaseOnTopOfTheDocumentUrl) {
  const ParsedFeed feed = parse_ok(R"FEED(<rss version="2.0" xml:base="/sub/"><channel>
    <item xml:base="dir/"><link>post.html</link><guid>g</guid>
    <description>&lt;a href="x.html"&gt;x&lt;/a&gt;</description></item></channel></rss>)FEED",
                                   with_base("https://host.example/feeds/rss.xml"));
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].url, "https://host.example/sub/dir/post.html");
  EXPECT_EQ(feed.entries[0].content_html, "<a href=\"https://host.example/sub/dir/x.html\">x</a>");
}

TEST(FeedParserOptions, FileBaseUrl) {
  const ParsedFeed feed =
      parse_ok(R"FEED(<rss version="2.0"><channel><item><link>p/1.html</link></item></channel></rss>)FEED",
               with_base("file:///srv/feeds/local.xml"));
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].url, "file:///srv/feeds/p/1.html");
}

TEST(FeedParserOptions, JavascriptLinksAreNotUrls) {
  const ParsedFeed feed = parse_ok(R"FEED(<rss version="2.0"><channel><item><link>javascript:alert(1)</link>
    <guid>g</guid></item></channel></rss>)FEED");
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_FALSE(feed.entries[0].url.has_value());
}

TEST(FeedParser, UnescapedMarkupInDescription) {
  const ParsedFeed feed = parse_ok(R"FEED(<rss version="2.0"><channel><item><guid>g</guid>
    <description><p>Real <b>elements</b></p><script>bad()</script></description>
    </item></channel></rss>)FEED");
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_EQ(feed.entries[0].content_text, "Real elements");
  EXPECT_EQ(feed.entries[0].content_html, "<p>Real <b>elements</b></p>");
}

TEST(FeedParser, FormatNames) {
  for (FeedFormat f : {FeedFormat::auto_detect, FeedFormat::rss, FeedFormat::atom, FeedFormat::jsonfeed}) {
    EXPECT_EQ(parse_format(to_string(f)), f);
  }
  EXPECT_STREQ(to_string(FeedFormat::auto_detect), "auto");
  EXPECT_FALSE(parse_format("RSS").has_value());
  EXPECT_FALSE(parse_format("").has_value());
}

TEST(FeedParser, ThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  threads.reserve(ok.size());
  for (int& t : ok) {
    threads.emplace_back([&t] {
      for (int i = 0; i < 50; ++i) {
        const Result<ParsedFeed> rss = parse_feed(kRss2, {});
        const Result<ParsedFeed> atom = parse_feed(kAtom, {});
        const Result<ParsedFeed> broken = parse_feed("<rss><channel><title>a&nbsp;b</title></channel>", {});
        if (rss.ok() && rss->entries.size() == 3 && atom.ok() && atom->entries.size() == 3 && broken.ok() &&
            broken->title == "a b") {
          ++t;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : ok) EXPECT_EQ(count, 50);
}

TEST(FeedParserLanguage, TheSourcesConfiguredLanguageStandsInForADeclaration) {
  auto doc = [](const std::string& channel_extra, const std::string& item_extra) {
    return R"(<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>)"
           "<title>T</title>" +
           channel_extra + "<item><title>Hallo</title><guid>1</guid>" + item_extra +
           "<description>Ein kurzer Text, lang genug, um die Sprache daran zu erkennen, wenn man "
           "will.</description></item></channel></rss>";
  };
  ParseOptions options;
  // Nothing declared: detected.
  ParsedFeed feed = parse_ok(doc("", ""), options);
  EXPECT_EQ(feed.entries.at(0).language, "de");
  EXPECT_LT(feed.entries.at(0).language_confidence.value_or(1.0), 1.0);
  // Configured for the source: taken as declared, nothing detected.
  options.language = "en";
  feed = parse_ok(doc("", ""), options);
  EXPECT_EQ(feed.entries.at(0).language, "en");
  EXPECT_EQ(feed.entries.at(0).language_confidence, 1.0);
  // What the document or the item declares still wins.
  feed = parse_ok(doc("<language>fr</language>", ""), options);
  EXPECT_EQ(feed.entries.at(0).language, "fr");
  feed = parse_ok(doc("<language>fr</language>", "<dc:language>it</dc:language>"), options);
  EXPECT_EQ(feed.entries.at(0).language, "it");
}

}  // namespace
}  // namespace postwire::feed
