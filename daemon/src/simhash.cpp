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

// Calls f(word) for every normalised word.
template <class F>
void for_each_word(std::string_view text, std::string& word, F&& f) {
  word.clear();
  for (const char ch : text) {
    const unsigned char c = lower(static_cast<unsigned char>(ch));
    if (word_char(c)) {
      word.push_back(static_cast<char>(c));
    } else if (!word.empty()) {
      f(std::string_view(word));
      word.clear();
    }
  }
  if (!word.empty()) f(std::string_view(word));
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

std::uint64_t simhash64(std::string_view text) {
  // Each word is hashed once; a shingle's hash is the hash of its three word
  // hashes (24 bytes), so no shingle text is ever built. A bit of the result is
  // set when more shingle hashes have it set than not.
  std::array<std::uint64_t, 3> window{};
  std::size_t words = 0;
  BitCounts counts;
  auto hash_shingle = [&](std::size_t count) {
    std::array<std::uint64_t, 3> ordered{};
    for (std::size_t i = 0; i < count; ++i) ordered[i] = window[(words - count + i) % 3];
    return XXH3_64bits(ordered.data(), count * sizeof(std::uint64_t));
  };
  std::string word;
  for_each_word(text, word, [&](std::string_view w) {
    window[words % 3] = XXH3_64bits(w.data(), w.size());
    ++words;
    if (words >= 3) counts.add(hash_shingle(3));
  });
  if (words == 0) return 0;
  if (words < 3) counts.add(hash_shingle(words));
  return counts.majority();
}

int hamming(std::uint64_t a, std::uint64_t b) { return __builtin_popcountll(a ^ b); }

}  // namespace postwire
