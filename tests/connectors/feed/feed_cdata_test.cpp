// CDATA sections read the same whichever parser reads the document: without a
// DOCTYPE these documents take the pugixml fast path, with one they go to libxml2
// (feed/xml_tree.hpp), so every document here is parsed both ways and must give the
// same result.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "feed/feed_parser.hpp"

namespace postwire::feed {
namespace {

std::string summary_of(const Result<ParsedFeed>& result) {
  if (!result.ok()) return "error: " + result.error().message;
  std::string out;
  const ParsedFeed& feed = result.value();
  out += "title=" + feed.title.value_or("<null>") + "\n";
  for (const std::string& w : feed.warnings) out += "warning=" + w + "\n";
  for (const FeedEntry& e : feed.entries) {
    out += "id=" + e.native_id + "\n";
    out += "title=" + e.title.value_or("<null>") + "\n";
    out += "summary=" + e.summary.value_or("<null>") + "\n";
    out += "text=" + e.content_text.value_or("<null>") + "\n";
    out += "html=" + e.content_html.value_or("<null>") + "\n";
    out += "url=" + e.url.value_or("<null>") + "\n";
    for (const std::string& q : e.quality) out += "quality=" + q + "\n";
  }
  return out;
}

// `body` starts with its root element; the second parse gets a DOCTYPE first.
void expect_same_both_ways(const std::string& body, const std::string& must_contain = {}) {
  ParseOptions options;
  options.base_url = "http://example.com/feed.xml";
  const std::string plain = summary_of(parse_feed(body, options));
  // On the same line, so that line numbers in messages stay comparable.
  const std::string with_doctype = summary_of(parse_feed("<!DOCTYPE x>" + body, options));
  EXPECT_EQ(plain, with_doctype) << body;
  if (!must_contain.empty()) {
    EXPECT_NE(plain.find(must_contain), std::string::npos) << plain;
  }
}

const std::string kLong =
    "<p>A paragraph long enough to be taken out of the document before parsing, "
    "with <a href=\"/x?a=1&b=2\">a link</a> &amp; entities that stay as written.</p>";

std::string rss(const std::string& items) {
  return "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"><channel>"
         "<title>T</title><link>http://example.com/</link>" +
         items + "</channel></rss>";
}

TEST(FeedCdata, LongSectionsRoundTrip) {
  expect_same_both_ways(rss("<item><guid>1</guid><title><![CDATA[" + kLong +
                            "]]></title>"
                            "<description><![CDATA[" +
                            kLong +
                            "]]></description>"
                            "<content:encoded><![CDATA[" +
                            kLong +
                            "\n<p>two</p>\n\n<p>three</p>]]></content:encoded>"
                            "</item>"),
                        "a link");
}

TEST(FeedCdata, AdjacentAndMixedSections) {
  expect_same_both_ways(rss("<item><guid>1</guid><description>before <![CDATA[" + kLong + "]]><![CDATA[" +
                            kLong + "]]>between<![CDATA[short]]> after &amp; <![CDATA[" + kLong +
                            "]]></description></item>"));
}

TEST(FeedCdata, SectionsLibxml2RewritesStayWithLibxml2) {
  expect_same_both_ways(rss("<item><guid>1</guid><description><![CDATA[" + kLong +
                            "\r\nwith CR LF\rand CR]]></description></item>"));
  expect_same_both_ways(rss("<item><guid>1</guid><description><![CDATA[" + kLong +
                            " private use \xEE\x80\x80 0 \xEE\x80\x81]]></description></item>"));
  expect_same_both_ways(rss("<item><guid>1</guid><description><![CDATA[" + kLong +
                            " escaped ]]&gt; and a bracket ]] ]]></description></item>"));
}

TEST(FeedCdata, VeryLongSections) {
  std::string big;
  while (big.size() < std::size_t{1100} * 1024) big += kLong;
  expect_same_both_ways(rss("<item><guid>1</guid><description><![CDATA[" + big + "]]></description></item>"));
}

TEST(FeedCdata, CommentsAndProcessingInstructions) {
  expect_same_both_ways(
      rss("<!-- <![CDATA[ not a section --><?pi <![CDATA[ ?><item><guid>1</guid>"
          "<description><![CDATA[" +
          kLong + "]]></description></item>"));
  expect_same_both_ways(rss("<item><guid>1</guid><description><![CDATA[" + kLong +
                            " <!-- inside --> ]]></description></item><!-- unterminated"));
}

TEST(FeedCdata, ErrorLinesDoNotMove) {
  // Ill-formed after a multi-line section: the recovered parse names the same line.
  const std::string broken = rss("<item><guid>1</guid><description><![CDATA[" + kLong + "\n\n\n" + kLong +
                                 "\n]]></description>\n\n<title>x</titel></item>");
  ParseOptions options;
  const Result<ParsedFeed> result = parse_feed(broken, options);
  ASSERT_TRUE(result.ok());
  ASSERT_FALSE(result.value().warnings.empty());
  EXPECT_NE(result.value().warnings[0].find("(line 7)"), std::string::npos) << result.value().warnings[0];
  // Well-formed with a non-fatal error after a section.
  const std::string warned = rss("<item><guid>1</guid><description><![CDATA[" + kLong + "\n\n" + kLong +
                                 "]]></description>\n<undeclared:x>y</undeclared:x></item>");
  const Result<ParsedFeed> w = parse_feed(warned, options);
  ASSERT_TRUE(w.ok());
  ASSERT_FALSE(w.value().warnings.empty());
  EXPECT_NE(w.value().warnings[0].find("(line 4)"), std::string::npos) << w.value().warnings[0];
}

TEST(FeedCdata, AtomXhtmlAndHtmlContent) {
  expect_same_both_ways(
      "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title><id>urn:f</id>"
      "<entry><id>urn:1</id><title type=\"html\"><![CDATA[" +
      kLong +
      "]]></title>"
      "<summary type=\"html\"><![CDATA[" +
      kLong +
      "]]></summary>"
      "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x<![CDATA[" +
      kLong + "]]></p></div></content></entry></feed>");
}

}  // namespace
}  // namespace postwire::feed
