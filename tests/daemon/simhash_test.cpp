#include "postwire/daemon/simhash.hpp"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace postwire {
namespace {

constexpr const char* kArticle =
    "The city council voted on Tuesday to approve a new budget for public transport, adding forty electric "
    "buses "
    "to the fleet and extending night service on six routes. The mayor said the plan would be paid for by a "
    "parking levy in the centre and by federal grants that were confirmed last month. Opposition members "
    "argued "
    "that the levy would hurt small shops, and asked for a review of the fares before the end of the year. "
    "Construction of two new depots is due to start in spring, and the first buses should arrive in autumn.";

constexpr const char* kUnrelated =
    "A recipe for sourdough bread needs only flour, water and salt, but patience matters more than any "
    "ingredient. Feed the starter the evening before, mix the dough in the morning, fold it every half hour "
    "and let it rise slowly in a cool kitchen. Bake it in a heavy pot with the lid on for the first twenty "
    "minutes so the crust stays thin and crackles as it cools on a rack by the open window.";

// The definition, bit by bit: +1 for every shingle hash with the bit set, -1 otherwise.
std::uint64_t reference_simhash(const std::string& text) {
  std::vector<std::string> words;
  std::string w;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      w.push_back(static_cast<char>(c));
    } else if (!w.empty()) {
      words.push_back(w);
      w.clear();
    }
  }
  if (!w.empty()) words.push_back(w);
  if (words.empty()) return 0;
  std::vector<std::uint64_t> hashes;
  hashes.reserve(words.size());
  for (const auto& word : words) hashes.push_back(XXH3_64bits(word.data(), word.size()));
  std::array<int, 64> weights{};
  auto add = [&](std::size_t from, std::size_t count) {
    const std::uint64_t h = XXH3_64bits(&hashes[from], count * sizeof(std::uint64_t));
    for (int bit = 0; bit < 64; ++bit) weights[static_cast<std::size_t>(bit)] += ((h >> bit) & 1U) ? 1 : -1;
  };
  if (hashes.size() < 3) {
    add(0, hashes.size());
  } else {
    for (std::size_t i = 0; i + 3 <= hashes.size(); ++i) add(i, 3);
  }
  std::uint64_t out = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (weights[static_cast<std::size_t>(bit)] > 0) out |= 1ULL << bit;
  }
  return out;
}

TEST(Simhash, MatchesTheBitByBitDefinition) {
  std::mt19937 rng(11);
  const std::vector<std::string> vocabulary = {"the",        "Iraq",     "talks",     "ambassador",
                                               "Zo\xC3\xAB", "2007",     "meeting",   "a",
                                               "of",         "security", "officials", "Baghdad"};
  // Lengths around the 255-shingle lane drain, and short texts of 1 and 2 words.
  for (int len : {1, 2, 3, 4, 50, 254, 255, 256, 257, 258, 600, 2000}) {
    for (int round = 0; round < 5; ++round) {
      std::string text;
      for (int i = 0; i < len; ++i) {
        text += vocabulary[rng() % vocabulary.size()];
        text += (rng() % 7 == 0) ? ", " : " ";
      }
      EXPECT_EQ(simhash64(text), reference_simhash(text)) << len;
    }
  }
  EXPECT_EQ(simhash64(kArticle), reference_simhash(kArticle));
  EXPECT_EQ(simhash64(""), 0U);
}

TEST(Simhash, TwoPartsHashAsTheirJoinedText) {
  std::mt19937 rng(5);
  const std::vector<std::string> pieces = {"Iraq", "talks", "ZO\xC3\x8B", "2007", ",", " ", "-", "a", "B52"};
  for (int round = 0; round < 400; ++round) {
    std::string first;
    std::string second;
    for (std::size_t i = rng() % 6; i > 0; --i) first += pieces[rng() % pieces.size()];
    for (std::size_t i = rng() % 40; i > 0; --i) second += pieces[rng() % pieces.size()];
    const std::string joined = first + "\n" + second;
    std::size_t words = 99;
    EXPECT_EQ(simhash64(first, second, words), reference_simhash(joined)) << joined;
    EXPECT_EQ(words, simhash_words(joined)) << joined;
  }
  std::size_t words = 99;
  EXPECT_EQ(simhash64("", "", words), 0U);
  EXPECT_EQ(words, 0U);
}

TEST(Simhash, IdenticalTextIsDistanceZero) {
  EXPECT_EQ(hamming(simhash64(kArticle), simhash64(kArticle)), 0);
  EXPECT_NE(simhash64(kArticle), 0U);
}

TEST(Simhash, CaseAndPunctuationAreNormalisedAway) {
  std::string shouted;
  for (const char* p = kArticle; *p != '\0'; ++p) {
    const char c = *p;
    if (c == ',' || c == '.') continue;
    shouted.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  EXPECT_EQ(simhash64(shouted), simhash64(kArticle));
  EXPECT_EQ(simhash64("  Hello,   world!\n"), simhash64("hello world"));
}

TEST(Simhash, ASmallEditIsASmallDistance) {
  // Unweighted 3-shingles: one changed word changes three shingles. On a text of
  // about 170 words that moves a few bits; unrelated texts are ~32 bits apart.
  const std::string text = std::string(kArticle) + " " + kUnrelated;
  std::string edited = text;
  edited.replace(edited.find("forty"), 5, "fifty");
  const int d = hamming(simhash64(text), simhash64(edited));
  EXPECT_GT(d, 0);
  EXPECT_LE(d, 8);
  // The same article with a different byline appended (a syndicated copy).
  const int byline = hamming(simhash64(text), simhash64(text + " Reporting by the city desk"));
  EXPECT_LE(byline, 8);
}

TEST(Simhash, UnrelatedTextIsALargeDistance) {
  EXPECT_GE(hamming(simhash64(kArticle), simhash64(kUnrelated)), 16);
}

TEST(Simhash, CountsWordsTheWayItSplitsThem) {
  EXPECT_EQ(simhash_words(""), 0U);
  EXPECT_EQ(simhash_words("  --  "), 0U);
  EXPECT_EQ(simhash_words("one, two;three"), 3U);
  EXPECT_EQ(simhash_words("caf\xc3\xa9 au lait"), 3U);  // UTF-8 letters stay inside words
  EXPECT_GE(simhash_words(kArticle), kSimhashMinWords);
  EXPECT_EQ(simhash64(""), 0U);
  EXPECT_NE(simhash64("two words"), 0U);  // fewer than three words: one shingle
}

TEST(Simhash, HammingCountsDifferingBits) {
  EXPECT_EQ(hamming(0, 0), 0);
  EXPECT_EQ(hamming(0, ~0ULL), 64);
  EXPECT_EQ(hamming(0b1011, 0b0001), 2);
}

}  // namespace
}  // namespace postwire
