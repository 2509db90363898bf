#include <gtest/gtest.h>

#include <random>

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

// to_nfc skips ICU for text whose every character is NFC-inert; each row holds a
// character that is not (or is, and must come out unchanged).
TEST(TextClean, NfcIsAppliedWheneverACharacterCanChangeTheText) {
  struct Row {
    const char* in;
    const char* nfc;
  };
  const Row rows[] = {
      {"\u201CCafe\u0301\u201D \u2014 fine", "\u201CCaf\u00E9\u201D \u2014 fine"},  // combining acute
      {"\u1100\u1161 ok", "\uAC00 ok"},                                             // Hangul jamo
      {"\uF900", "\u8C48"},                                                         // compatibility ideograph
      {"\U0002F800", "\u4E3D"},                                                     // another plane
      {"a\u0301\u0323", "\u1EA1\u0301"},  // combining marks reordered
      {"e\u0308\u0304", "\u00EB\u0304"},
      {"\u0915\u093C", "\u0915\u093C"},  // composition exclusion: stays decomposed
      {"\U0001F600 \u2018x\u2019 \u2022 done", "\U0001F600 \u2018x\u2019 \u2022 done"},  // inert
      {"\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC",
       "\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC"},
      {"\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8",
       "\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8"},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(to_nfc(row.in), row.nfc) << row.in;
    CleanResult r;
    EXPECT_EQ(clean_text(row.in, r), row.nfc) << row.in;
    EXPECT_FALSE(r.replaced) << row.in;
  }
}

// is_clean_text is the shortcut for "clean_text would change nothing": never true
// when clean_text would change something (it may say false for text that is
// clean, e.g. a lone combining mark, and clean_text then runs).
TEST(TextClean, IsCleanTextAgreesWithCleanText) {
  const auto unchanged = [](std::string_view s) {
    CleanResult r;
    return clean_text(s, r) == s && !r.replaced;
  };
  const std::vector<std::string> cases = {
      "",
      "plain ASCII text, long enough for whole blocks",
      "tab\tand\nline feed",
      "carriage\r\nreturn",
      std::string("nul\0byte", 8),
      "del\x7f",
      "caf\u00e9 \u201cquoted\u201d \u2014 \u65e5\u672c \U0001F600",
      "Cafe\u0301",
      "c1 \xC2\x93",
      "replacement \uFFFD",
      "nonchar \uFFFF",
      "broken \xC3",
      "overlong \xC0\xAF",
  };
  for (const std::string& c : cases) EXPECT_EQ(is_clean_text(c), unchanged(c)) << c;
  EXPECT_TRUE(is_clean_text(cases[1]));
  EXPECT_TRUE(is_clean_text(cases[6]));
  const std::string alphabet = std::string("ab \t\n\r\x01\x7f", 8) +
                               "\xC2\x93\xA0\xC3\xA9\xCC\x81\xE2\x80\x9C\xEF\xBF\xBD\xF0\x9F\x98\x80";
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const std::size_t n = rng() % 24;
    for (std::size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    if (is_clean_text(s)) {
      ASSERT_TRUE(unchanged(s)) << s;
    }
  }
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

// Comments of one English thread, each longer than the prefix detect_languages
// reads first.
const std::vector<std::string> kEnglishThread = {
    "I have lived in this neighbourhood for twenty years and I have never seen the council act so "
    "quickly. The new crossing by the school was finished in a week, and the children are safer for it.",
    "The article leaves out the cost. Somebody has to pay for the repairs, and every time the city "
    "borrows money the interest ends up on our water bills, which have doubled since the last election.",
    "My brother drives a bus on that route and he says the traffic has been much worse since the bridge "
    "closed. Nobody told the drivers how long the works would take or which streets they should use.",
    "Thank you for writing about this. Most of the local papers only cover the football now, and it is "
    "hard to find out what the planning committee decided unless you go to the meetings yourself.",
    "We asked the same questions at the public meeting in March and nobody from the department could "
    "answer them. I would like to know who approved the contract and why it was never put out to tender.",
};
const std::string kFrenchComment =
    "Je ne suis pas d'accord avec cet article. Les habitants du quartier attendent ces travaux depuis des "
    "années, et la mairie n'a jamais expliqué pourquoi le chantier a pris autant de retard cet hiver.";

TEST(DocumentLanguages, AThreadThatAgreesWithItselfIsReadFromEachItemsFirstBytes) {
  for (const auto& comment : kEnglishThread) ASSERT_GT(comment.size(), kPrefixDetectBytes);
  const DocumentLanguages detected = detect_languages(kEnglishThread);
  ASSERT_EQ(detected.languages.size(), kEnglishThread.size());
  EXPECT_EQ(detected.full_readings, 0U);
  for (std::size_t i = 0; i < kEnglishThread.size(); ++i) {
    ASSERT_TRUE(detected.languages[i]) << i;
    // The same language as reading the whole comment, with the share of its prefix.
    EXPECT_EQ(detected.languages[i]->tag, detect_language(kEnglishThread[i])->tag) << i;
    EXPECT_GE(detected.languages[i]->confidence, kPrefixAcceptPercent / 100.0) << i;
    EXPECT_LE(detected.languages[i]->confidence, 1.0) << i;
  }
}

TEST(DocumentLanguages, AnItemInAnotherLanguageIsReadInFullAndKeepsItsLanguage) {
  std::vector<std::string> thread = kEnglishThread;
  thread.insert(thread.begin() + 2, kFrenchComment);
  const DocumentLanguages detected = detect_languages(thread);
  ASSERT_EQ(detected.languages.size(), thread.size());
  ASSERT_TRUE(detected.languages[2]);
  EXPECT_EQ(detected.languages[2]->tag, "fr");
  EXPECT_EQ(detected.languages[2]->confidence, detect_language(kFrenchComment)->confidence);
  EXPECT_EQ(detected.full_readings, 1U);
  for (std::size_t i : {0, 1, 3, 4, 5}) {
    ASSERT_TRUE(detected.languages[i]) << i;
    EXPECT_EQ(detected.languages[i]->tag, "en") << i;
  }
}

TEST(DocumentLanguages, TooFewItemsToSpeakForTheDocumentAreEachReadInFull) {
  const std::vector<std::string> two = {kEnglishThread[0], kFrenchComment};
  const DocumentLanguages detected = detect_languages(two);
  ASSERT_EQ(detected.languages.size(), 2U);
  EXPECT_EQ(detected.full_readings, 2U);
  for (std::size_t i = 0; i < two.size(); ++i) {
    const auto alone = detect_language(two[i]);
    ASSERT_TRUE(alone && detected.languages[i]) << i;
    EXPECT_EQ(detected.languages[i]->tag, alone->tag) << i;
    EXPECT_EQ(detected.languages[i]->confidence, alone->confidence) << i;
  }
}

TEST(DocumentLanguages, ShortItemsStayUnknownAndMixedDocumentsAreReadInFull) {
  // Without a language that 80 % of the confident prefixes name, nothing is taken
  // from a prefix: every long item is read in full.
  const std::vector<std::string> mixed = {kEnglishThread[0], kFrenchComment, kEnglishThread[1],
                                          kFrenchComment,    "Too short.",   ""};
  const DocumentLanguages detected = detect_languages(mixed);
  ASSERT_EQ(detected.languages.size(), mixed.size());
  EXPECT_EQ(detected.full_readings, 4U);
  EXPECT_EQ(detected.languages[0]->tag, "en");
  EXPECT_EQ(detected.languages[1]->tag, "fr");
  EXPECT_FALSE(detected.languages[4]);
  EXPECT_FALSE(detected.languages[5]);
  EXPECT_TRUE(detect_languages({}).languages.empty());
}

}  // namespace
}  // namespace postwire::normalise
