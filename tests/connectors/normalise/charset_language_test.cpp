#include <gtest/gtest.h>

#include "normalise/charset.hpp"
#include "normalise/html_text.hpp"
#include "normalise/language.hpp"
#include "normalise/text_clean.hpp"

namespace postwire::normalise {
namespace {

TEST(Charset, OrderIsBomThenHttpThenDeclaration) {
  const std::string latin1 = "<?xml version=\"1.0\" encoding=\"utf-8\"?><r>\xC4</r>";
  EXPECT_EQ(decode_document(latin1, "text/xml; charset=ISO-8859-1").charset, "windows-1252");
  EXPECT_EQ(decode_document("\xEF\xBB\xBF<r>\xC3\xA4</r>", "text/xml; charset=koi8-r").charset, "utf-8");
  EXPECT_EQ(decode_document("<?xml version='1.0' encoding='koi8-r'?><r/>", std::nullopt).charset, "koi8-r");
  EXPECT_EQ(decode_document("<html><meta charset=\"windows-1251\"><p>x</p>", std::nullopt).charset,
            "windows-1251");
  EXPECT_EQ(decode_document("<r/>", std::nullopt).from, "default");
}

TEST(Charset, Latin1MeansWindows1252) {
  const DecodedDocument d = decode_document("<r>\x93q\x94 \x80</r>", "text/xml; charset=iso-8859-1");
  EXPECT_EQ(d.text, "<r>\u201Cq\u201D \u20AC</r>");
  EXPECT_FALSE(d.mislabeled);
}

TEST(Charset, MislabelsAreRecovered) {
  const DecodedDocument utf8_as_latin1 =
      decode_document("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><r>caf\xC3\xA9</r>", std::nullopt);
  EXPECT_EQ(utf8_as_latin1.charset, "utf-8");
  EXPECT_TRUE(utf8_as_latin1.mislabeled);
  const DecodedDocument latin1_as_utf8 = decode_document("<r>caf\xE9</r>", "text/xml; charset=utf-8");
  EXPECT_EQ(latin1_as_utf8.text, "<r>caf\u00E9</r>");
  EXPECT_TRUE(latin1_as_utf8.mislabeled);
}

TEST(Charset, Utf16WithAndWithoutBom) {
  const std::string le("\xFF\xFE<\0r\0>\0\xE9\0<\0/\0r\0>\0", 18);
  EXPECT_EQ(decode_document(le, std::nullopt).text, "<r>\u00E9</r>");
  const std::string be("\0<\0r\0>\0\xE9\0<\0/\0r\0>", 16);
  EXPECT_EQ(decode_document(be, std::nullopt).text, "<r>\u00E9</r>");
}

TEST(Charset, InvalidBytesInUtf8BecomeReplacementCharacters) {
  const DecodedDocument ok = decode_document("\xEF\xBB\xBF<r>\xE2\x82\xAC</r>", std::nullopt);
  EXPECT_TRUE(ok.unchanged);
  EXPECT_EQ(ok.utf8("\xEF\xBB\xBF<r>\xE2\x82\xAC</r>"), "<r>\u20AC</r>");
  const DecodedDocument d = decode_document("<r>\xE2\x82\xAC \xFF \xE2\x82</r>", std::nullopt);
  EXPECT_EQ(d.text, "<r>\u20AC \uFFFD \uFFFD</r>");
  EXPECT_TRUE(d.replaced);
}

TEST(TextClean, ControlsNfcAndReplacement) {
  CleanResult r;
  EXPECT_EQ(clean_text(std::string("a\0b\x01"
                                   "c\r\nd\x7F",
                                   9),
                       r),
            "abc\nd");
  EXPECT_FALSE(r.replaced);
  EXPECT_EQ(clean_text("Cafe\u0301", r), "Caf\u00E9");
  EXPECT_EQ(clean_text("\xC2\x93quoted\xC2\x94", r), "\u201Cquoted\u201D");  // C1 read as 1252
  EXPECT_EQ(clean_text("bad \xC3 byte", r), "bad \uFFFD byte");
  EXPECT_TRUE(r.replaced);
  EXPECT_TRUE(is_valid_utf8("\u00E9\u4E2D"));
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // surrogate
}

TEST(Entities, AllOfHtml5) {
  EXPECT_EQ(decode_entities("&NewLine;&check;&rsquo;&eacute;&fjlig;&nbsp;&bogus;"),
            "\n\u2713\u2019\u00E9fj\u00A0&bogus;");
  EXPECT_EQ(decode_entities("&NotEqualTilde;"), "\u2242\u0338");  // two code points
  EXPECT_EQ(html_to_text("&copy 2007 &check; caf&eacute"), "\u00A9 2007 \u2713 caf\u00E9");
  EXPECT_EQ(html_to_text("<a href=\"?a=1&copy=2\">x</a>AT&T"), "xAT&T");
}

TEST(DoubleEscape, IsUndoneOnlyWithoutRealMarkup) {
  EXPECT_TRUE(looks_double_escaped("&lt;p&gt;Hi&lt;/p&gt;"));
  EXPECT_FALSE(looks_double_escaped("<code>&lt;p&gt;</code> shows a tag"));
  EXPECT_FALSE(looks_double_escaped("5 &lt; 6"));
  EXPECT_EQ(undo_double_escape("&lt;p&gt;Hi&lt;/p&gt;"), "<p>Hi</p>");
}

TEST(Language, DeclaredTagsAreNormalised) {
  EXPECT_EQ(normalise_language_tag("en-us"), "en-US");
  EXPECT_EQ(normalise_language_tag(" EN_gb "), "en-GB");
  EXPECT_EQ(normalise_language_tag("zh-hant-tw"), "zh-Hant-TW");
  EXPECT_EQ(normalise_language_tag("fr"), "fr");
  EXPECT_FALSE(normalise_language_tag(""));
  EXPECT_FALSE(normalise_language_tag("english language"));
  EXPECT_FALSE(normalise_language_tag("12"));
}

TEST(Language, DetectedWithConfidenceOrNullWhenTooShort) {
  const auto en = detect_language(
      "The ambassadors of the two countries will meet this week in Baghdad to discuss the security "
      "situation.");
  ASSERT_TRUE(en);
  EXPECT_EQ(en->tag, "en");
  EXPECT_GT(en->confidence, 0.5);
  EXPECT_LE(en->confidence, 1.0);
  const auto fr = detect_language(
      "Les ambassadeurs des deux pays se rencontreront cette semaine pour discuter de la situation.");
  ASSERT_TRUE(fr);
  EXPECT_EQ(fr->tag, "fr");
  EXPECT_FALSE(detect_language("Too short."));
  EXPECT_FALSE(detect_language(""));
}

}  // namespace
}  // namespace postwire::normalise
