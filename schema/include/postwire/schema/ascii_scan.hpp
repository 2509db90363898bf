// Scanning text eight bytes at a time for the bytes that need a closer look: the
// inner loops of white-space collapsing (content hashes, HTML to text) and of
// text validation (CDATA sections, field cleaning).
#pragma once

#include <cstdint>
#include <cstring>

namespace postwire {

// Advances `q` over whole 8-byte blocks in which no byte can end such a run: no
// byte below 0x20 (tab, line feed, CR, FF, VT are all there), no two spaces in a
// row, no space in the block's last byte (whether that one ends the run depends on
// the next byte), and no byte equal to `stop` (0: nothing more). Returns where a
// byte-by-byte scan has to go on; `q` itself when the first block already needs it.
inline const char* skip_plain_words(const char* q, const char* end, unsigned char stop = 0) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  // High bit of each byte of x that is zero, exactly (no borrow between bytes).
  const auto zero_bytes = [](std::uint64_t x) { return ~(((x & ~kHigh) + ~kHigh) | x | ~kHigh); };
  while (end - q >= 8) {
    std::uint64_t w;
    std::memcpy(&w, q, 8);
    if (((w - kOnes * 0x20) & ~w & kHigh) != 0) break;  // some byte below 0x20
    const std::uint64_t spaces = zero_bytes(w ^ (kOnes * ' '));
    if ((spaces & (spaces << 8)) != 0 || (spaces >> 63) != 0) break;
    if (stop != 0 && zero_bytes(w ^ (kOnes * stop)) != 0) break;
    q += 8;
  }
  return q;
}

// Advances `q` over whole 8-byte blocks of printable ASCII (0x20-0x7E, and DEL
// when `allow_del`); returns where a byte-by-byte scan has to go on.
inline const char* skip_printable_ascii(const char* q, const char* end, bool allow_del) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  while (end - q >= 8) {
    std::uint64_t w;
    std::memcpy(&w, q, 8);
    std::uint64_t special = w | ((w - kOnes * 0x20) & ~w);  // high bit set, or below 0x20
    if (!allow_del) {
      const std::uint64_t del = w ^ (kOnes * 0x7F);
      special |= (del - kOnes) & ~del;
    }
    if ((special & kHigh) != 0) break;
    q += 8;
  }
  return q;
}

}  // namespace postwire
