#include "normalise/language.hpp"

#include <cld2/public/compact_lang_det.h>

#include <cmath>
#include <map>

namespace postwire::normalise {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_alnum(char c) { return is_alpha(c) || (c >= '0' && c <= '9'); }
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

}  // namespace

std::optional<std::string> normalise_language_tag(std::string_view declared) {
  while (!declared.empty() && (declared.front() == ' ' || declared.front() == '\t' ||
                               declared.front() == '\n' || declared.front() == '\r')) {
    declared.remove_prefix(1);
  }
  while (!declared.empty() && (declared.back() == ' ' || declared.back() == '\t' || declared.back() == '\n' ||
                               declared.back() == '\r')) {
    declared.remove_suffix(1);
  }
  if (declared.empty() || declared.size() > 35) return std::nullopt;
  std::string out;
  std::size_t index = 0;
  std::size_t pos = 0;
  while (pos <= declared.size()) {
    std::size_t end = pos;
    while (end < declared.size() && declared[end] != '-' && declared[end] != '_') ++end;
    const std::string_view sub = declared.substr(pos, end - pos);
    if (sub.empty() || sub.size() > 8) return std::nullopt;
    for (char c : sub) {
      if (!is_alnum(c)) return std::nullopt;
    }
    if (index == 0) {
      // primary language: 2-3 letters (or i-/x- grandfathered forms)
      for (char c : sub) {
        if (!is_alpha(c)) return std::nullopt;
      }
      if (sub.size() < 2 && !(sub == "i" || sub == "x" || sub == "I" || sub == "X")) return std::nullopt;
      if (sub.size() > 3) return std::nullopt;
      for (char c : sub) out.push_back(lower(c));
    } else {
      out.push_back('-');
      if (sub.size() == 2 && is_alpha(sub[0]) && is_alpha(sub[1])) {
        out.push_back(upper(sub[0]));  // region
        out.push_back(upper(sub[1]));
      } else if (sub.size() == 4 && is_alpha(sub[0])) {
        out.push_back(upper(sub[0]));  // script
        for (char c : sub.substr(1)) out.push_back(lower(c));
      } else {
        for (char c : sub) out.push_back(lower(c));
      }
    }
    ++index;
    if (end == declared.size()) break;
    pos = end + 1;
  }
  return out;
}

namespace {

// One CLD2 reading of at most max_bytes of the text.
struct Reading {
  std::optional<Language> language;
  int percent = 0;  // CLD2's share of the text for `language`
};

Reading read_language(std::string_view plain_text, std::size_t max_bytes) {
  const std::string_view text = plain_text.substr(0, max_bytes);
  // Count letters (and any non-ASCII byte, which is mostly letters in practice).
  int letters = 0;
  for (char c : text) {
    if ((is_alpha(c) || static_cast<unsigned char>(c) >= 0x80) && ++letters >= kMinDetectBytes) break;
  }
  if (letters < kMinDetectBytes) return {};
  CLD2::Language language3[3];
  int percent3[3] = {0, 0, 0};
  int text_bytes = 0;
  bool reliable = false;
  // The cut may have split a UTF-8 sequence; back up to a character boundary.
  std::size_t length = text.size();
  while (length > 0 && length < plain_text.size() &&
         (static_cast<unsigned char>(plain_text[length]) & 0xC0) == 0x80) {
    --length;
  }
  const CLD2::Language lang = CLD2::DetectLanguageSummary(text.data(), static_cast<int>(length), true,
                                                          language3, percent3, &text_bytes, &reliable);
  if (!reliable || lang == CLD2::UNKNOWN_LANGUAGE || lang == CLD2::TG_UNKNOWN_LANGUAGE) return {};
  std::string code = CLD2::LanguageCode(lang);
  // CLD2 keeps a few withdrawn ISO 639 codes.
  if (code == "iw") code = "he";
  if (code == "in") code = "id";
  if (code == "jw") code = "jv";
  const int percent = language3[0] == lang ? percent3[0] : 0;
  if (percent <= 0) return {};
  return Reading{Language{code, std::round(percent) / 100.0}, percent};
}

}  // namespace

std::optional<Language> detect_language(std::string_view plain_text) {
  return read_language(plain_text, kMaxDetectBytes).language;
}

DocumentLanguages detect_languages(const std::vector<std::string>& samples) {
  DocumentLanguages out;
  out.languages.resize(samples.size());
  // Too few items to speak for the document: each is read as detect_language would.
  if (samples.size() < kDocumentVoteItems) {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      out.languages[i] = detect_language(samples[i]);
      if (samples[i].size() > kPrefixDetectBytes) ++out.full_readings;
    }
    return out;
  }
  std::vector<Reading> prefix(samples.size());
  std::map<std::string, std::size_t> votes;
  std::size_t confident = 0;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    prefix[i] = read_language(samples[i], kPrefixDetectBytes);
    if (prefix[i].language) {
      ++votes[prefix[i].language->tag];
      ++confident;
    }
  }
  std::string document;
  if (confident >= kDocumentVoteItems) {
    for (const auto& [tag, count] : votes) {
      if (count * 100 >= confident * static_cast<std::size_t>(kDocumentVotePercent)) document = tag;
    }
  }
  for (std::size_t i = 0; i < samples.size(); ++i) {
    // A prefix that is the whole text already was the full reading.
    const bool whole = samples[i].size() <= kPrefixDetectBytes;
    const bool agrees = !document.empty() && prefix[i].language && prefix[i].language->tag == document &&
                        prefix[i].percent >= kPrefixAcceptPercent;
    if (whole || agrees) {
      out.languages[i] = std::move(prefix[i].language);
      continue;
    }
    out.languages[i] = detect_language(samples[i]);
    ++out.full_readings;
  }
  return out;
}

}  // namespace postwire::normalise
