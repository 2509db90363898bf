// UTF-8 decoding shared by the JSON writer (validation on the way out) and the
// normaliser (cleaning, NFC): one definition of a valid sequence (RFC 3629: no
// overlong forms, surrogates or code points past U+10FFFF).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace postwire {

// Length (1-4) of the valid UTF-8 sequence at s[i], its code point in `cp`; 0 when
// the bytes there are invalid, with `bad` set to the length of the maximal invalid
// prefix to skip (WHATWG's "maximal subpart" rule: one U+FFFD per broken sequence).
inline std::size_t utf8_sequence_at(std::string_view s, std::size_t i, std::size_t& bad, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0U; };
  const unsigned b0 = byte(i);
  bad = 1;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  std::size_t need = 0;
  unsigned lo = 0x80;
  unsigned hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // UTF-16 surrogate
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  for (std::size_t k = 1; k <= need; ++k) {
    const unsigned b = byte(i + k);
    if (i + k >= s.size() || b < lo || b > hi) {
      bad = k;
      return 0;
    }
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3F);
  }
  return need + 1;
}

// Just the length: 0 when invalid.
inline std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  std::size_t bad = 0;
  char32_t cp = 0;
  return utf8_sequence_at(s, i, bad, cp);
}

// Writes the UTF-8 encoding of `cp` (U+FFFD for surrogates and values past
// U+10FFFF) at `out`, which has room for four bytes; returns how many it wrote.
inline std::size_t encode_utf8(char32_t cp, char* out) {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  const auto byte = [](char32_t v) { return static_cast<char>(static_cast<unsigned char>(v)); };
  if (cp < 0x80) {
    out[0] = byte(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = byte(0xC0 | (cp >> 6));
    out[1] = byte(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = byte(0xE0 | (cp >> 12));
    out[1] = byte(0x80 | ((cp >> 6) & 0x3F));
    out[2] = byte(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = byte(0xF0 | (cp >> 18));
  out[1] = byte(0x80 | ((cp >> 12) & 0x3F));
  out[2] = byte(0x80 | ((cp >> 6) & 0x3F));
  out[3] = byte(0x80 | (cp & 0x3F));
  return 4;
}

// Appends the UTF-8 encoding of `cp` (U+FFFD for surrogates and values past U+10FFFF).
inline void append_utf8(std::string& out, char32_t cp) {
  std::array<char, 4> bytes{};
  out.append(bytes.data(), encode_utf8(cp, bytes.data()));
}

// The first index at or after i whose byte may be >= 0x80 (or s.size()), passing
// over ASCII eight bytes at a time.
inline std::size_t skip_ascii8(std::string_view s, std::size_t i) {
  while (i + 8 <= s.size()) {
    std::uint64_t word = 0;
    std::memcpy(&word, s.data() + i, 8);
    if ((word & 0x8080808080808080ULL) != 0) break;
    i += 8;
  }
  return i;
}

// True if `text` is well-formed UTF-8.
inline bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      i = skip_ascii8(text, i + 1);
      while (i < text.size() && static_cast<unsigned char>(text[i]) < 0x80) ++i;
      continue;
    }
    const std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace postwire
