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

std::uint64_t simhash64(std::string_view text) {
  // Each word is hashed once; a shingle's hash is the hash of its three word
  // hashes (24 bytes), so no shingle text is ever built.
  std::array<std::uint64_t, 3> window{};
  std::size_t words = 0;
  std::array<int, 64> weights{};
  auto add = [&](std::uint64_t h) {
    for (int bit = 0; bit < 64; ++bit)
      weights[static_cast<std::size_t>(bit)] += ((h >> bit) & 1U) != 0 ? 1 : -1;
  };
  auto hash_shingle = [&](std::size_t count) {
    std::array<std::uint64_t, 3> ordered{};
    for (std::size_t i = 0; i < count; ++i) ordered[i] = window[(words - count + i) % 3];
    return XXH3_64bits(ordered.data(), count * sizeof(std::uint64_t));
  };
  std::string word;
  for_each_word(text, word, [&](std::string_view w) {
    window[words % 3] = XXH3_64bits(w.data(), w.size());
    ++words;
    if (words >= 3) add(hash_shingle(3));
  });
  if (words == 0) return 0;
  if (words < 3) add(hash_shingle(words));
  std::uint64_t out = 0;
  for (int bit = 0; bit < 64; ++bit) {
    if (weights[static_cast<std::size_t>(bit)] > 0) out |= 1ULL << bit;
  }
  return out;
}

int hamming(std::uint64_t a, std::uint64_t b) { return __builtin_popcountll(a ^ b); }

}  // namespace postwire
