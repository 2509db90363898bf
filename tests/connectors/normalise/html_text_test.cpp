#include "normalise/html_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace postwire::normalise {
namespace {

struct TextRow {
  const char* html;
  const char* text;
};

const TextRow kTextRows[] = {
    {"", ""},
    {"plain text", "plain text"},
    {"  lots   of\n\t white  space  ", "lots of white space"},
    {"<p>One</p><p>Two</p>", "One\n\nTwo"},
    {"One<br>Two<br/>Three", "One\nTwo\nThree"},
    {"One<br><br><br><br>Two", "One\n\nTwo"},
    {"<div><div><p>Deep</p></div></div><p>Next</p>", "Deep\n\nNext"},
    {"<p>  padded  </p>\n\n\n<p>  text </p>", "padded\n\ntext"},
    {"<ul><li>a</li><li>b</li></ul>", "a\n\nb"},
    {"<h1>Title</h1>Body", "Title\n\nBody"},
    {"<blockquote>Quote</blockquote>after", "Quote\n\nafter"},
    {"<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\n\nc"},
    {"a<b>b</b>c <i>d</i> e", "abc d e"},
    {"<section>s</section><article>a</article>", "s\n\na"},
    {"Tom &amp; Jerry &lt;3 &quot;x&quot; &#39;y&#39; &#x263A; &eacute;",
     "Tom & Jerry <3 \"x\" 'y' \u263A \u00E9"},
    {"&rsquo;quoted&lsquo; &mdash; &hellip;", "\u2019quoted\u2018 \u2014 \u2026"},
    {"non&nbsp;breaking&nbsp;&nbsp;space", "non breaking space"},
    {"\u00A0leading and trailing\u00A0", "leading and trailing"},
    {"<script>alert('x')</script>visible<style>p{}</style>", "visible"},
    {"a<!-- comment -->b", "ab"},
    {"<noscript>no</noscript><template>t</template><iframe>i</iframe>ok", "ok"},
    {"<pre>  line 1\n    line 2</pre>after", "line 1\n    line 2\n\nafter"},
    {"unclosed <b>bold <i>both", "unclosed bold both"},
    {"stray </p> close", "stray close"},
    {"5 < 6 and 7 > 3", "5 < 6 and 7 > 3"},
    {"AT&T", "AT&T"},
    {"&bogus; stays", "&bogus; stays"},
    {"<p>para</p></body></html> after the end", "para\n\nafter the end"},
    {"<html><head><title>Page</title></head><body><p>Body</p></body></html>", "Body"},
    {"smart&#146;quote", "smart\u2019quote"},  // Windows-1252 in a numeric reference
    {"<img src=x alt=pic>text", "text"},
    {"<p>x</p><hr><p>y</p>", "x\n\ny"},
    {" <![CDATA[<p>escaped cdata</p>]]>\n", "escaped cdata"},
};

class HtmlToTextTable : public ::testing::TestWithParam<TextRow> {};

TEST_P(HtmlToTextTable, Converts) { EXPECT_EQ(html_to_text(GetParam().html), GetParam().text); }

INSTANTIATE_TEST_SUITE_P(Rows, HtmlToTextTable, ::testing::ValuesIn(kTextRows),
                         [](const ::testing::TestParamInfo<TextRow>& row_info) {
                           return std::to_string(row_info.index);
                         });

TEST(HtmlToText, DeepNestingDoesNotOverflowTheStack) {
  std::string html;
  for (int i = 0; i < 200; ++i) html += "<span>";
  EXPECT_EQ(html_to_text(html + "deep"), "deep");
  // Hostile depth: libxml2 gives up past its own limit; what matters is no crash.
  for (int i = 0; i < 200000; ++i) html += "<div><span>";
  (void)html_to_text(html + "deeper");
  (void)sanitize_html(html + "deeper", "");
}

TEST(HtmlToText, InvalidUtf8DoesNotCrash) {
  const std::string out = html_to_text("<p>bad \xFF\xFE bytes</p>");
  EXPECT_NE(out.find("bytes"), std::string::npos);
}

TEST(HtmlToText, ThreadSafe) {
  std::vector<std::thread> threads;
  std::vector<std::string> results(4);
  threads.reserve(results.size());
  for (auto& result : results) {
    threads.emplace_back([&result] {
      for (int i = 0; i < 200; ++i) result = html_to_text("<p>a &eacute;</p><p>b</p>");
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& r : results) EXPECT_EQ(r, "a \u00E9\n\nb");
}

struct SanitizeRow {
  const char* html;
  const char* base;
  const char* expected;
};

const SanitizeRow kSanitizeRows[] = {
    {"<p>Hello <b>world</b></p>", "", "<p>Hello <b>world</b></p>"},
    {"text only", "", "text only"},
    {"<script>alert(1)</script><p>ok</p>", "", "<p>ok</p>"},
    {"<style>p{color:red}</style>x", "", "x"},
    {"<iframe src=\"https://evil\">fallback</iframe>x", "", "x"},
    {"<object data=x><embed src=y></object><form><input></form>x", "", "x"},
    {"<font color=red>unwrapped</font>", "", "unwrapped"},
    {"<p onclick=\"evil()\" class=c id=i style=\"x\">p</p>", "", "<p>p</p>"},
    {"<a href=\"javascript:alert(1)\">x</a>", "", "<a>x</a>"},
    {"<a href=\" JaVaScRiPt:alert(1)\">x</a>", "", "<a>x</a>"},
    {"<a href=\"java&#x09;script:alert(1)\">x</a>", "", "<a>x</a>"},
    {R"(<a href="vbscript:x">x</a><img src="data:image/png;base64,AAAA">)", "", "<a>x</a><img>"},
    {R"(<a href="/post/1" title="T" target=_blank rel=x>x</a>)", "https://blog.example/feed",
     R"(<a href="https://blog.example/post/1" title="T">x</a>)"},
    {R"(<img src="pic.png" alt="A &quot;pic&quot;" width=10 height=20 onerror=x>)",
     "https://blog.example/2007/feed.xml",
     R"(<img src="https://blog.example/2007/pic.png" alt="A &quot;pic&quot;" width="10" height="20">)"},
    {"<a href=\"relative.html\">x</a>", "", "<a href=\"relative.html\">x</a>"},
    {"<a href=\"mailto:a@example.com\">m</a>", "https://e.example/",
     "<a href=\"mailto:a@example.com\">m</a>"},
    {"<table><tr><td colspan=2 bgcolor=red>c</td></tr></table>", "",
     "<table><tr><td colspan=\"2\">c</td></tr></table>"},
    {"<abbr title=\"HyperText\">HTML</abbr>", "", "<abbr title=\"HyperText\">HTML</abbr>"},
    {"a<br>b<hr>c", "", "a<br>b<hr>c"},
    {"5 &lt; 6 &amp;&amp; 7 &gt; 3", "", "5 &lt; 6 &amp;&amp; 7 &gt; 3"},
    {"<p>unclosed <em>em", "", "<p>unclosed <em>em</em></p>"},
    {"<!-- secret --><p>x</p>", "", "<p>x</p>"},
    {"<svg><script>alert(1)</script><text>t</text></svg>ok", "", "ok"},
    {"<h2>h</h2><figure><img src=\"https://x.example/i.png\"><figcaption>cap</figcaption></figure>", "",
     "<h2>h</h2><figure><img src=\"https://x.example/i.png\"><figcaption>cap</figcaption></figure>"},
    {"<meta http-equiv=refresh content=\"0;url=https://evil\"><link rel=stylesheet href=x>x", "", "x"},
};

class SanitizeHtmlTable : public ::testing::TestWithParam<SanitizeRow> {};

TEST_P(SanitizeHtmlTable, Sanitizes) {
  EXPECT_EQ(sanitize_html(GetParam().html, GetParam().base), GetParam().expected);
}

INSTANTIATE_TEST_SUITE_P(Rows, SanitizeHtmlTable, ::testing::ValuesIn(kSanitizeRows),
                         [](const ::testing::TestParamInfo<SanitizeRow>& row_info) {
                           return std::to_string(row_info.index);
                         });

TEST(SanitizeHtml, OutputReparsesToTheSameText) {
  const char* html =
      "<div class=x><p>One &amp; <a href=\"/a?b=1&amp;c=2\">two</a></p><script>x</script></div>";
  const std::string clean = sanitize_html(html, "https://e.example/");
  EXPECT_EQ(clean, "<div><p>One &amp; <a href=\"https://e.example/a?b=1&amp;c=2\">two</a></p></div>");
  EXPECT_EQ(html_to_text(clean), html_to_text(html));
}

TEST(DecodeEntities, Decodes) {
  EXPECT_EQ(decode_entities("no entities"), "no entities");
  EXPECT_EQ(decode_entities("Tom &amp; Jerry"), "Tom & Jerry");
  EXPECT_EQ(decode_entities("&amp;amp;"), "&amp;");  // one level only
  EXPECT_EQ(decode_entities("&lt;b&gt;"), "<b>");
  EXPECT_EQ(decode_entities("caf&eacute; &Eacute;"), "caf\u00E9 \u00C9");
  EXPECT_EQ(decode_entities("&#233;&#xE9;&#XE9;"), "\u00E9\u00E9\u00E9");
  EXPECT_EQ(decode_entities("&#x1F600;"), "\U0001F600");
  EXPECT_EQ(decode_entities("&#8217;&rsquo;&#146;"), "\u2019\u2019\u2019");
  EXPECT_EQ(decode_entities("&#0;&#xD800;&#x110000;"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(decode_entities("&#99999999999999999999;"), "\uFFFD");
  EXPECT_EQ(decode_entities("&apos;&nbsp;&hyphen;"), "'\u00A0\u2010");
  EXPECT_EQ(decode_entities("AT&T & co; &unknown; &amp"), "AT&T & co; &unknown; &amp");
  EXPECT_EQ(decode_entities("&#; &#x; &"), "&#; &#x; &");
  EXPECT_EQ(decode_entities("&#65"), "A");
}

TEST(CollapseWhitespace, Collapses) {
  EXPECT_EQ(collapse_whitespace(""), "");
  EXPECT_EQ(collapse_whitespace("   "), "");
  EXPECT_EQ(collapse_whitespace("  a  b\t\nc \r\n"), "a b c");
  EXPECT_EQ(collapse_whitespace("\u00A0a\u00A0\u00A0b\u2003c\u3000"), "a b c");
  EXPECT_EQ(collapse_whitespace("caf\u00E9 cr\u00E8me"), "caf\u00E9 cr\u00E8me");
  EXPECT_EQ(collapse_whitespace("\u202Fx\u2028y\u205F"), "x y");
}

TEST(HtmlEntityCodePoint, Lookup) {
  EXPECT_EQ(html_entity_code_point("eacute"), U'\u00E9');
  EXPECT_EQ(html_entity_code_point("nbsp"), U'\u00A0');
  EXPECT_EQ(html_entity_code_point("nope"), 0u);
  EXPECT_EQ(html_entity_code_point(""), 0u);
  EXPECT_EQ(html_entity_code_point(std::string(100, 'a')), 0u);
}

}  // namespace
}  // namespace postwire::normalise
