#include "postwire/schema/utf8.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace postwire {
namespace {

// The shortest encoding of a scalar value: the only form a valid sequence may take.
std::string encode(char32_t cp) {
  std::string out;
  append_utf8(out, cp);
  return out;
}

bool is_scalar(char32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

TEST(Utf8, EncodesAsRfc3629Says) {
  EXPECT_EQ(encode(U'A'), "A");
  EXPECT_EQ(encode(0xE9), "\xC3\xA9");
  EXPECT_EQ(encode(0x7FF), "\xDF\xBF");
  EXPECT_EQ(encode(0x800), "\xE0\xA0\x80");
  EXPECT_EQ(encode(0x20AC), "\xE2\x82\xAC");
  EXPECT_EQ(encode(0x1F600), "\xF0\x9F\x98\x80");
  EXPECT_EQ(encode(0x10FFFF), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(encode(0xD800), "\xEF\xBF\xBD");  // a surrogate is no character
  EXPECT_EQ(encode(0x110000), "\xEF\xBF\xBD");
}

TEST(Utf8, EveryScalarValueDecodesFromItsEncoding) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (!is_scalar(cp)) continue;
    const std::string bytes = encode(cp);
    std::size_t bad = 0;
    char32_t decoded = 0;
    ASSERT_EQ(utf8_sequence_at(bytes, 0, bad, decoded), bytes.size()) << static_cast<std::uint32_t>(cp);
    ASSERT_EQ(static_cast<std::uint32_t>(decoded), static_cast<std::uint32_t>(cp));
    ASSERT_EQ(utf8_sequence_length(bytes, 0), bytes.size());
    ASSERT_TRUE(is_valid_utf8(bytes));
  }
}

// Any byte string the decoder accepts is the shortest encoding of a scalar value:
// no overlong forms, surrogates or values past U+10FFFF get through. Every string
// of one, two and three bytes is tried, and a million random four-byte ones.
TEST(Utf8, NothingButShortestEncodingsOfScalarValuesIsAccepted) {
  auto check = [](const std::string& bytes) {
    std::size_t bad = 0;
    char32_t cp = 0;
    const std::size_t n = utf8_sequence_at(bytes, 0, bad, cp);
    if (n == 0) {
      EXPECT_GE(bad, 1U);
      EXPECT_LE(bad, bytes.size());
      return;
    }
    ASSERT_TRUE(is_scalar(cp));
    ASSERT_EQ(encode(cp), bytes.substr(0, n));
  };
  std::string s(1, '\0');
  for (unsigned a = 0; a < 256; ++a) {
    s[0] = static_cast<char>(a);
    check(s);
  }
  s.assign(2, '\0');
  for (unsigned a = 0; a < 0x10000; ++a) {
    s[0] = static_cast<char>(a >> 8);
    s[1] = static_cast<char>(a & 0xFF);
    check(s);
  }
  s.assign(3, '\0');
  for (std::uint32_t a = 0xC00000; a < 0x1000000; ++a) {  // a lead byte below 0xC0 is a one-byte verdict
    s[0] = static_cast<char>(a >> 16);
    s[1] = static_cast<char>((a >> 8) & 0xFF);
    s[2] = static_cast<char>(a & 0xFF);
    check(s);
  }
  std::mt19937 rng(3);
  s.assign(4, '\0');
  for (int i = 0; i < 1'000'000; ++i) {
    const std::uint32_t a = rng();
    s[0] = static_cast<char>(0xF0 | ((a >> 24) & 0x0F));
    s[1] = static_cast<char>((a >> 16) & 0xFF);
    s[2] = static_cast<char>((a >> 8) & 0xFF);
    s[3] = static_cast<char>(a & 0xFF);
    check(s);
  }
}

TEST(Utf8, BrokenSequencesReportTheirMaximalSubpart) {
  std::size_t bad = 0;
  char32_t cp = 0;
  EXPECT_EQ(utf8_sequence_at("\xE2\x82", 0, bad, cp), 0U);  // truncated: both bytes are one U+FFFD
  EXPECT_EQ(bad, 2U);
  EXPECT_EQ(utf8_sequence_at("\xE2\x82x", 0, bad, cp), 0U);
  EXPECT_EQ(bad, 2U);
  EXPECT_EQ(utf8_sequence_at("\xE0\x80\x80", 0, bad, cp), 0U);  // overlong: the lead byte alone
  EXPECT_EQ(bad, 1U);
  EXPECT_EQ(utf8_sequence_at("\xFF", 0, bad, cp), 0U);
  EXPECT_EQ(bad, 1U);
  EXPECT_FALSE(is_valid_utf8("plain text, then \xC3"));
  EXPECT_TRUE(is_valid_utf8("long enough to take the eight-byte path: \xE2\x82\xAC and more ASCII after it"));
}

}  // namespace
}  // namespace postwire
