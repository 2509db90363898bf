// A small streaming JSON writer for event payloads. It is the last line of
// defence for "output is always valid UTF-8": invalid sequences become U+FFFD
// and C0 controls are escaped, whatever a connector let through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postwire/schema/utf8.hpp"  // is_valid_utf8, for users checking what they write

namespace postwire {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view name);
  void value(std::string_view text);
  void value(const char* text) { value(std::string_view(text)); }
  void value(const std::string& text) { value(std::string_view(text)); }
  void value(std::int64_t number);
  void value(double number);  // finite; written with up to 6 significant digits
  void value(bool flag);
  void null();
  void value(const std::optional<std::string>& text);
  void value(const std::vector<std::string>& items);
  // Inserts an already serialised JSON value (written by another JsonWriter).
  void raw(std::string_view json);

  // Number of invalid UTF-8 sequences replaced so far.
  std::size_t replaced() const { return replaced_; }

 private:
  void separator();
  std::string& out_;
  // Per open container, innermost at bit 0: whether it has no element yet. Events
  // nest four deep; a writer nested deeper than 64 containers keeps writing valid
  // JSON only up to there (nothing postwire writes comes close).
  std::uint64_t empty_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
  std::size_t replaced_ = 0;
};

// Appends `text` as a JSON string literal (quotes included), replacing invalid
// UTF-8 with U+FFFD. Returns how many sequences it replaced.
std::size_t append_json_string(std::string& out, std::string_view text);

}  // namespace postwire
