#include "postwire/daemon/simhash.hpp"

#include <array>
#include <string>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace postwire {
namespace {

bool word_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80; }

unsigned char lower(unsigned char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c - 'A' + 'a') : c;
}

// Calls f(word) for every normalised word: a view of the text itself, or of
// `scratch` holding a lower-cased copy when the word has ASCII capitals.
template <class F>
void for_each_word(std::string_view text, std::string& scratch, F&& f) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    while (i < n && !word_char(lower(p[i]))) ++i;
    if (i == n) break;
    const std::size_t start = i;
    bool capitals = false;
    for (; i < n; ++i) {
      if (p[i] >= 'A' && p[i] <= 'Z') {
        capitals = true;
      } else if (!word_char(p[i])) {
        break;
      }
    }
    std::string_view word = text.substr(start, i - start);
    if (capitals) {
      scratch.assign(word);
      for (char& ch : scratch) ch = static_cast<char>(lower(static_cast<unsigned char>(ch)));
      word = scratch;
    }
    f(word);
  }
}

}  // namespace

std::size_t simhash_words(std::string_view text) {
  std::string word;
  std::size_t n = 0;
  for_each_word(text, word, [&](std::string_view) { ++n; });
  return n;
}

namespace {

// Byte i of kSpread[v] is bit i of v: eight bit counters advance with one add.
constexpr std::array<std::uint64_t, 256> make_spread() {
  std::array<std::uint64_t, 256> t{};
  for (std::size_t v = 0; v < 256; ++v) {
    for (std::size_t i = 0; i < 8; ++i) t[v] |= static_cast<std::uint64_t>((v >> i) & 1U) << (8 * i);
  }
  return t;
}
constexpr std::array<std::uint64_t, 256> kSpread = make_spread();

// How often each of the 64 bits was set, over all hashes added. Counts live in
// byte lanes (eight per word) and move to 32-bit totals before a lane can overflow.
class BitCounts {
 public:
  void add(std::uint64_t h) {
    for (std::size_t b = 0; b < 8; ++b) lanes_[b] += kSpread[(h >> (8 * b)) & 0xFFU];
    ++added_;
    if (++pending_ == 255) drain();
  }
  // The SimHash: bits set in more than half of the hashes.
  std::uint64_t majority() {
    drain();
    std::uint64_t out = 0;
    for (std::size_t bit = 0; bit < 64; ++bit) {
      if (2 * static_cast<std::uint64_t>(totals_[bit]) > added_) out |= 1ULL << bit;
    }
    return out;
  }

 private:
  void drain() {
    for (std::size_t b = 0; b < 8; ++b) {
      for (std::size_t i = 0; i < 8; ++i) totals_[8 * b + i] += (lanes_[b] >> (8 * i)) & 0xFFU;
      lanes_[b] = 0;
    }
    pending_ = 0;
  }
  std::array<std::uint64_t, 8> lanes_{};
  std::array<std::uint32_t, 64> totals_{};
  unsigned pending_ = 0;
  std::uint64_t added_ = 0;
};

}  // namespace

std::uint64_t simhash64(std::string_view first, std::string_view second, std::size_t& words) {
  // Each word is hashed once; a shingle's hash is the hash of its three word
  // hashes (24 bytes), so no shingle text is ever built. A bit of the result is
  // set when more shingle hashes have it set than not.
  std::array<std::uint64_t, 3> window{};
  words = 0;
  BitCounts counts;
  auto hash_shingle = [&](std::size_t count) {
    std::array<std::uint64_t, 3> ordered{};
    for (std::size_t i = 0; i < count; ++i) ordered[i] = window[(words - count + i) % 3];
    return XXH3_64bits(ordered.data(), count * sizeof(std::uint64_t));
  };
  auto add_word = [&](std::string_view w) {
    window[words % 3] = XXH3_64bits(w.data(), w.size());
    ++words;
    if (words >= 3) counts.add(hash_shingle(3));
  };
  // The line feed between the parts only separates words: the parts are read
  // one after the other, as one text, without joining them.
  std::string scratch;
  for_each_word(first, scratch, add_word);
  for_each_word(second, scratch, add_word);
  if (words == 0) return 0;
  if (words < 3) counts.add(hash_shingle(words));
  return counts.majority();
}

std::uint64_t simhash64(std::string_view text) {
  std::size_t words = 0;
  return simhash64(text, {}, words);
}

int hamming(std::uint64_t a, std::uint64_t b) { return __builtin_popcountll(a ^ b); }

}  // namespace postwire
