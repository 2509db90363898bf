#include "normalise/text_clean.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utypes.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <vector>

#include "normalise/html_text.hpp"
#include "postwire/schema/ascii_scan.hpp"
#include "postwire/schema/utf8.hpp"

namespace postwire::normalise {
char32_t windows1252_c1(unsigned char byte) {
  static constexpr std::array<char16_t, 32> kHigh = {
      0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
  if (byte < 0x80 || byte > 0x9F) return byte;
  return kHigh[byte - 0x80];
}

namespace {

// Code points up to U+1FFFF (the BMP and the plane of emoji) that cannot make a
// text non-NFC: NFC_Quick_Check=Yes and canonical combining class 0. A text made
// only of such characters is NFC; anything else (combining marks, Hangul vowel
// jamo, compatibility ideographs, other planes, broken UTF-8) goes to ICU.
class NfcInert {
 public:
  NfcInert() : bits_((kLimit + 63) / 64, 0) {
    for (UChar32 c = 0; c < static_cast<UChar32>(kLimit); ++c) {
      if (u_getIntPropertyValue(c, UCHAR_NFC_QUICK_CHECK) == UNORM_YES && u_getCombiningClass(c) == 0) {
        bits_[static_cast<std::size_t>(c) / 64] |= std::uint64_t{1} << (static_cast<std::size_t>(c) % 64);
      }
    }
  }
  bool inert(char32_t c) const { return c < kLimit && ((bits_[c / 64] >> (c % 64)) & 1U) != 0; }

 private:
  static constexpr std::size_t kLimit = 0x20000;
  std::vector<std::uint64_t> bits_;
};

// Built once (131,072 ICU property lookups), shared by every check below.
const NfcInert& nfc_inert() {
  static const NfcInert table;
  return table;
}

// False when every character of `text` is NFC-inert (NfcInert): ICU's own check,
// a full pass over the text, is then not needed. Curly quotes, dashes, bullets
// and most scripts are inert; only combining characters and the like are not.
bool may_need_nfc(std::string_view text) {
  const NfcInert& table = nfc_inert();
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0xCC) {  // ASCII, or a 2-byte sequence below U+0300: always inert
      i = b < 0x80 ? skip_ascii8(text, i + 1) : i + 1;
      continue;
    }
    std::size_t bad = 0;
    char32_t cp = 0;
    const std::size_t n = utf8_sequence_at(text, i, bad, cp);
    if (n == 0 || !table.inert(cp)) return true;
    i += n;
  }
  return false;
}

// Whether valid UTF-8 `text` is already NFC: the inert-character scan, then ICU's
// own check only where that scan cannot tell. (If ICU is unavailable the text is
// kept as it is.)
bool is_nfc(std::string_view text) {
  if (!may_need_nfc(text)) return true;
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || nfc == nullptr) return true;
  const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  return nfc->isNormalizedUTF8(piece, status) && U_SUCCESS(status);
}

// NFC of text is_nfc said is not NFC.
std::string normalize_nfc(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status) || nfc == nullptr) return std::string(text);
  std::string out;
  icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
  nfc->normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), sink, nullptr,
                     status);
  if (U_FAILURE(status)) return std::string(text);
  return out;
}

// to_nfc without a copy when the text already is NFC.
std::string to_nfc_owned(std::string&& owned) {
  if (is_nfc(owned)) return std::move(owned);
  return normalize_nfc(owned);
}

}  // namespace

std::string to_nfc(std::string_view text) {
  if (is_nfc(text)) return std::string(text);
  return normalize_nfc(text);
}

bool is_clean_text(std::string_view text) {
  const NfcInert& table = nfc_inert();
  std::size_t i = 0;
  while (i < text.size()) {
    i = static_cast<std::size_t>(skip_printable_ascii(text.data() + i, text.data() + text.size(), false) -
                                 text.data());
    if (i >= text.size()) break;
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      // Other C0 controls, CR and DEL are what clean_text removes or rewrites.
      if (!((b >= 0x20 && b < 0x7F) || b == '\n' || b == '\t')) return false;
      ++i;
      continue;
    }
    std::size_t bad = 0;
    char32_t cp = 0;
    const std::size_t n = utf8_sequence_at(text, i, bad, cp);
    // Invalid bytes, C1 controls, U+FFFD (flagged), U+FFFE/U+FFFF, or a character
    // NFC might change: all for clean_text.
    if (n == 0 || cp <= 0x9F || cp == 0xFFFD || cp == 0xFFFE || cp == 0xFFFF || !table.inert(cp)) {
      return false;
    }
    i += n;
  }
  return true;
}

std::string clean_text(std::string_view text, CleanResult& result) {
  std::string out;
  out.reserve(text.size());
  bool plain = true;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b >= 0x20 && b < 0x7F) || b == '\n' || b == '\t') {
      // A run of bytes kept as they are.
      std::size_t end = i + 1;
      while (end < text.size()) {
        const auto d = static_cast<unsigned char>(text[end]);
        if (!((d >= 0x20 && d < 0x7F) || d == '\n' || d == '\t')) break;
        ++end;
      }
      out.append(text.data() + i, end - i);
      i = end;
      continue;
    }
    if (b < 0x20 || b == 0x7F) {
      if (b == '\n' || b == '\t') {
        out.push_back(static_cast<char>(b));
      } else if (b == '\r') {
        out.push_back('\n');
        if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
      }
      ++i;  // NUL, other C0 controls and DEL are dropped
      continue;
    }
    std::size_t bad = 0;
    char32_t cp = 0;
    const std::size_t n = utf8_sequence_at(text, i, bad, cp);
    if (n == 0) {
      append_utf8(out, 0xFFFD);
      result.replaced = true;
      i += bad;
      continue;
    }
    plain = false;
    if (cp >= 0x80 && cp <= 0x9F) {
      if (const char32_t mapped = windows1252_c1(static_cast<unsigned char>(cp)); mapped != 0) {
        append_utf8(out, mapped);
      }
    } else if (cp == 0xFFFE || cp == 0xFFFF) {
      // noncharacters: dropped
    } else {
      if (cp == 0xFFFD) result.replaced = true;
      out.append(text.substr(i, n));
    }
    i += n;
  }
  if (plain) return out;
  return to_nfc_owned(std::move(out));
}

}  // namespace postwire::normalise
