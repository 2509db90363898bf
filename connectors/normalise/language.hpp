// The language of an item: what the document declares, else what the text looks
// like (CLD2, Debian's libcld2), else unknown.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// The languages of a document's items, each detected from its own text, as
// detect_language would, but cheaper where the document agrees with itself.
// CLD2 costs about 33 ns per byte it reads, so every item is first read from its
// first kPrefixDetectBytes only. When at least kDocumentVoteItems of these
// answers are confident and kDocumentVotePercent of them name one language, an
// item whose prefix names that language with at least kPrefixAcceptPercent of
// its text keeps that answer; every other item is read again from up to
// kMaxDetectBytes, exactly as detect_language does. An item in another language
// (a Spanish comment in an English thread) nearly always disagrees with the
// document on its prefix and so gets the full reading; docs/normalisation.md
// gives the measurements behind these numbers and that "nearly".
inline constexpr std::size_t kPrefixDetectBytes = 64;
inline constexpr std::size_t kDocumentVoteItems = 3;
inline constexpr int kDocumentVotePercent = 80;
inline constexpr int kPrefixAcceptPercent = 80;
struct DocumentLanguages {
  std::vector<std::optional<Language>> languages;  // one per sample, in order
  std::size_t full_readings = 0;                   // samples read past their first kPrefixDetectBytes
};
// `samples`: each item's plain text (title, line feed, body); only the first
// kMaxDetectBytes + 1 bytes of each are read.
DocumentLanguages detect_languages(const std::vector<std::string>& samples);

}  // namespace postwire::normalise
