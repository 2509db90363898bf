#include "postwire/schema/json_writer.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>

#include <charconv>

namespace postwire {

namespace {

// The bytes a run copied as it is stops at: those JSON must escape ('"', '\\',
// controls) and those that start a multi-byte sequence to be checked (>= 0x80).
constexpr std::array<bool, 256> make_stops() {
  std::array<bool, 256> stops{};
  for (std::size_t b = 0; b < 256; ++b) stops[b] = b < 0x20 || b >= 0x80 || b == '"' || b == '\\';
  return stops;
}
constexpr std::array<bool, 256> kStops = make_stops();

// True when none of the eight bytes at p is a stop.
bool plain_block(const char* p) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  std::uint64_t w = 0;
  std::memcpy(&w, p, 8);
  const std::uint64_t quote = w ^ (kOnes * '"');
  const std::uint64_t backslash = w ^ (kOnes * '\\');
  const std::uint64_t control = (w - kOnes * 0x20) & ~w;  // a byte < 0x20 (no false negatives)
  const std::uint64_t is_quote = (quote - kOnes) & ~quote;
  const std::uint64_t is_backslash = (backslash - kOnes) & ~backslash;
  return ((control | is_quote | is_backslash | w) & kHigh) == 0;
}

}  // namespace

std::size_t append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  std::size_t replaced = 0;
  out.push_back('"');
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    // The longest run copied as it is: printable ASCII other than '"' and '\\',
    // and valid UTF-8 sequences (most fields are valid text with a few of them).
    // Eight bytes at a time, then byte by byte up to the next stop.
    std::size_t j = i;
    for (;;) {
      while (n - j >= 8 && plain_block(text.data() + j)) j += 8;
      while (j < n && !kStops[bytes[j]]) ++j;
      if (j >= n || bytes[j] < 0x80) break;
      const std::size_t len = utf8_sequence_length(text, j);
      if (len == 0) break;
      j += len;
    }
    out.append(text.data() + i, j - i);
    i = j;
    if (i >= n) break;
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(hex_digits[c >> 4]);
          out.push_back(hex_digits[c & 0xF]);
        } else {
          out += "\xEF\xBF\xBD";  // an invalid UTF-8 byte
          ++replaced;
        }
        break;
    }
    ++i;
  }
  out.push_back('"');
  return replaced;
}

void JsonWriter::separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0) {
    if ((empty_ & 1U) == 0) out_.push_back(',');
    empty_ &= ~std::uint64_t{1};
  }
}

void JsonWriter::begin_object() {
  separator();
  out_.push_back('{');
  assert(depth_ < 64);
  empty_ = (empty_ << 1) | 1U;
  ++depth_;
}

void JsonWriter::end_object() {
  out_.push_back('}');
  empty_ >>= 1;
  --depth_;
}

void JsonWriter::begin_array() {
  separator();
  out_.push_back('[');
  assert(depth_ < 64);
  empty_ = (empty_ << 1) | 1U;
  ++depth_;
}

void JsonWriter::end_array() {
  out_.push_back(']');
  empty_ >>= 1;
  --depth_;
}

void JsonWriter::key(std::string_view name) {
  separator();
  // Keys are nearly always short ASCII identifiers: with no stop among their bytes
  // (nothing to escape, no UTF-8 to check) they are written in one append.
  const bool plain = name.size() <= 64 && std::none_of(name.begin(), name.end(), [](char c) {
                       return kStops[static_cast<unsigned char>(c)];
                     });
  if (plain) {
    std::array<char, 68> buf{};
    buf[0] = '"';
    std::memcpy(buf.data() + 1, name.data(), name.size());
    buf[name.size() + 1] = '"';
    buf[name.size() + 2] = ':';
    out_.append(buf.data(), name.size() + 3);
  } else {
    replaced_ += append_json_string(out_, name);
    out_.push_back(':');
  }
  after_key_ = true;
}

void JsonWriter::value(std::string_view text) {
  separator();
  replaced_ += append_json_string(out_, text);
}

void JsonWriter::value(std::int64_t number) {
  separator();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
  (void)ec;
  out_.append(buf, end);
}

void JsonWriter::value(double number) {
  separator();
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number, std::chars_format::general, 6);
  (void)ec;
  out_.append(buf, end);
}

void JsonWriter::raw(std::string_view json) {
  separator();
  out_.append(json);
}

void JsonWriter::value(bool flag) {
  separator();
  out_ += flag ? "true" : "false";
}

void JsonWriter::null() {
  separator();
  out_ += "null";
}

void JsonWriter::value(const std::optional<std::string>& text) {
  if (text) {
    value(std::string_view(*text));
  } else {
    null();
  }
}

void JsonWriter::value(const std::vector<std::string>& items) {
  begin_array();
  for (const auto& item : items) value(std::string_view(item));
  end_array();
}

}  // namespace postwire
