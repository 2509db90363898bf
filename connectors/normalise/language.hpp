// The language of an item: what the document declares, else what the text looks
// like (CLD2, Debian's libcld2), else unknown.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace postwire::normalise {

struct Language {
  std::string tag;    // BCP 47, e.g. "en", "en-US", "zh-Hant"
  double confidence;  // 1.0 when declared; detected: CLD2's share of the text, 0.01 steps
};

// A declared language ("en-us", "EN_gb", "fr", " de-DE ") in BCP 47 case
// conventions ("en-US", "en-GB", "fr", "de-DE"); nullopt when it is not a
// language tag (empty, digits, "unknown", longer than 35 characters, ...).
std::optional<std::string> normalise_language_tag(std::string_view declared);

// Detected language of plain text. nullopt when the text is too short to tell
// (under kMinDetectBytes of letters) or CLD2 is not confident.
inline constexpr int kMinDetectBytes = 40;
// Text CLD2 is given at most: plenty to tell a language (CLD2 is reliable from a
// few hundred letters), bounded cost per item. Only the first kMaxDetectBytes + 1
// bytes of `plain_text` are ever read (the extra one to find a character boundary),
// so callers may pass a prefix of that length.
inline constexpr std::size_t kMaxDetectBytes = 1024;
std::optional<Language> detect_language(std::string_view plain_text);

}  // namespace postwire::normalise
