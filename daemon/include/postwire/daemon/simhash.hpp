// SimHash for near-duplicate detection of posts syndicated on several sites.
//
// simhash64 normalises the text (ASCII letters lower-cased; everything that is
// not a letter or digit separates words; bytes >= 0x80, i.e. non-ASCII UTF-8,
// are kept as word characters), hashes every word 3-shingle with XXH3-64 and
// folds the shingle hashes into one 64-bit SimHash. Texts that differ by a few
// words are a few bits apart; unrelated texts about 32 bits apart.
//
// Short texts collide too easily: callers should not simhash-match texts with
// fewer than kSimhashMinWords words (simhash_words counts them the same way).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace postwire {

constexpr std::size_t kSimhashMinWords = 30;

// 0 for a text without words; a text of one or two words is one shingle.
std::uint64_t simhash64(std::string_view text);
// simhash64(first + "\n" + second), without building that text; `words` is set
// to its simhash_words.
std::uint64_t simhash64(std::string_view first, std::string_view second, std::size_t& words);
// Words as simhash64 splits them.
std::size_t simhash_words(std::string_view text);
// Number of differing bits.
int hamming(std::uint64_t a, std::uint64_t b);

}  // namespace postwire
