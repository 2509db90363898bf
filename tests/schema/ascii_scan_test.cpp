#include "postwire/schema/ascii_scan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace postwire {
namespace {

std::size_t skipped(const std::string& s, unsigned char stop = 0) {
  return static_cast<std::size_t>(skip_plain_words(s.data(), s.data() + s.size(), stop) - s.data());
}

TEST(AsciiScan, WholeBlocksOfWordsAndSingleSpacesAreSkipped) {
  EXPECT_EQ(skipped("abcdefgh"), 8U);
  EXPECT_EQ(skipped("ab cd efgh ij kl"), 16U);
  EXPECT_EQ(skipped("ab cd efgh ij klmn"), 16U);  // the last 2 bytes are no whole block
  EXPECT_EQ(skipped("short"), 0U);
  EXPECT_EQ(skipped(""), 0U);
  EXPECT_EQ(skipped("caf\xC3\xA9 au lait, oui"), 16U);  // UTF-8 is word bytes
}

TEST(AsciiScan, ABlockThatMayEndTheRunIsLeftToTheCaller) {
  EXPECT_EQ(skipped("abcdefghij\nklmnop"), 8U);  // line feed in the second block
  EXPECT_EQ(skipped("abc\tdefgh"), 0U);          // tab
  EXPECT_EQ(skipped("abcdefghab  cdefgh"), 8U);  // two spaces
  EXPECT_EQ(skipped("abcdefg abcdefgh"), 0U);    // a space in the last byte
  EXPECT_EQ(skipped("a\x01"
                    "bcdefgh"),
            0U);  // any control byte
  EXPECT_EQ(skipped("abc\xC2\xA0"
                    "defgh",
                    0xC2),
            0U);
  EXPECT_EQ(skipped("abc\xC2\xA0"
                    "defgh"),
            8U);  // 0xC2 only when asked
}

// Every byte skipped is one a byte-by-byte scan would have passed over too.
TEST(AsciiScan, NeverSkipsWhatAByteByByteScanWouldStopAt) {
  const std::string alphabet = std::string("ab  \t\n\r\x0b\x0c\x01") + "\xC2\xA0\xC3\xA9xyz.";
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const std::size_t n = rng() % 40;
    for (std::size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    for (const unsigned char stop : {0, 0xC2}) {
      const std::size_t k = skipped(s, stop);
      ASSERT_EQ(k % 8, 0U);
      for (std::size_t i = 0; i < k; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        ASSERT_GE(c, 0x20) << s;
        ASSERT_TRUE(stop == 0 || c != stop) << s;
        if (c == ' ') {
          ASSERT_LT(i + 1, k) << s;  // never the last byte skipped
          ASSERT_NE(s[i + 1], ' ') << s;
        }
      }
    }
  }
}

std::size_t printable(const std::string& s, bool allow_del) {
  return static_cast<std::size_t>(skip_printable_ascii(s.data(), s.data() + s.size(), allow_del) - s.data());
}

TEST(AsciiScan, PrintableBlocksAreSkippedUpToTheFirstOtherByte) {
  EXPECT_EQ(printable("Hello, world! 0123456789 ~", false), 24U);
  EXPECT_EQ(printable("tab in\tthe first block", false), 0U);
  EXPECT_EQ(printable("12345678caf\xC3\xA9 au", false), 8U);
  EXPECT_EQ(printable("12345678del\x7f"
                      "del..",
                      false),
            8U);
  EXPECT_EQ(printable("12345678del\x7f"
                      "del..",
                      true),
            16U);
  EXPECT_EQ(printable("1234567", false), 0U);
  const std::string alphabet = std::string("az ~\t\n\x01\x7f\x80\xC3\xA9");
  std::mt19937 rng(3);
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const std::size_t n = rng() % 40;
    for (std::size_t i = 0; i < n; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    for (const bool allow_del : {false, true}) {
      const std::size_t k = printable(s, allow_del);
      ASSERT_EQ(k % 8, 0U);
      for (std::size_t i = 0; i < k; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        ASSERT_TRUE((c >= 0x20 && c < 0x7F) || (allow_del && c == 0x7F)) << s;
      }
    }
  }
}

}  // namespace
}  // namespace postwire
