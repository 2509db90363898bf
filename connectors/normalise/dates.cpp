#include "normalise/dates.hpp"

#include <array>
#include <cstdint>

#include "postwire/schema/time.hpp"

namespace postwire::normalise {
namespace {

// Long inputs are not dates; the cap keeps a hostile feed from making us scan megabytes.
constexpr std::size_t kMaxDateLength = 256;
constexpr std::size_t kMaxTokens = 40;

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_leap(int year) noexcept { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) noexcept {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[static_cast<std::size_t>(month - 1)];
}

struct Fields {
  int year = -1;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  bool has_time = false;
  bool has_zone = false;
  bool zone_is_gmt = false;  // "GMT" may still be followed by "+0200" (JavaScript's Date format)
  int offset_seconds = 0;
  bool military_zone = false;
  bool unknown_zone = false;
};

ParsedDate unparseable() { return ParsedDate{std::nullopt, {std::string(kDateUnparseable)}}; }

ParsedDate finish(const Fields& f) {
  if (f.year < 1 || f.year > 9999 || f.month < 1 || f.month > 12) return unparseable();
  if (f.day < 1 || f.day > days_in_month(f.year, f.month)) return unparseable();
  if (f.hour < 0 || f.hour > 23 || f.minute < 0 || f.minute > 59 || f.second < 0 || f.second > 60) {
    return unparseable();
  }
  ParsedDate out;
  out.value = unix_from_civil(f.year, static_cast<unsigned>(f.month), static_cast<unsigned>(f.day), f.hour,
                              f.minute, f.second) -
              f.offset_seconds;
  if ((f.has_time && !f.has_zone) || f.military_zone) out.flags.emplace_back(kDateMissingZone);
  if (f.unknown_zone) out.flags.emplace_back(kDateUnknownZone);
  return out;
}

struct ZoneName {
  std::string_view name;
  int minutes;
};

// RFC 822's names plus the abbreviations that turn up in real feeds. Ambiguous ones
// are read the usual way (CST: US Central, BST: British Summer) or left out (IST).
constexpr std::array<ZoneName, 42> kZones = {{
    {"ut", 0},      {"utc", 0},     {"gmt", 0},    {"z", 0},      {"est", -300}, {"edt", -240}, {"cst", -360},
    {"cdt", -300},  {"mst", -420},  {"mdt", -360}, {"pst", -480}, {"pdt", -420}, {"ast", -240}, {"adt", -180},
    {"akst", -540}, {"akdt", -480}, {"hst", -600}, {"nst", -210}, {"ndt", -150}, {"wet", 0},    {"west", 60},
    {"bst", 60},    {"cet", 60},    {"cest", 120}, {"met", 60},   {"mest", 120}, {"eet", 120},  {"eest", 180},
    {"msk", 180},   {"jst", 540},   {"kst", 540},  {"hkt", 480},  {"sgt", 480},  {"awst", 480}, {"acst", 570},
    {"acdt", 630},  {"aest", 600},  {"aedt", 660}, {"nzst", 720}, {"nzdt", 780}, {"pht", 480},  {"wib", 420},
}};

std::optional<int> zone_minutes(std::string_view lower_name) {
  for (const ZoneName& zone : kZones) {
    if (zone.name == lower_name) return zone.minutes;
  }
  return std::nullopt;
}

bool is_military_letter(std::string_view lower_name) {
  return lower_name.size() == 1 && lower_name[0] >= 'a' && lower_name[0] <= 'y' && lower_name[0] != 'j';
}

int month_from_name(std::string_view w) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "january", "february", "march",     "april",   "may",      "june",
      "july",    "august",   "september", "october", "november", "december"};
  if (w == "sept") return 9;
  if (w.size() < 3) return 0;
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i].starts_with(w)) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool is_weekday_name(std::string_view w) {
  static constexpr std::array<std::string_view, 7> kDays = {"monday", "tuesday",  "wednesday", "thursday",
                                                            "friday", "saturday", "sunday"};
  if (w.size() < 3) return false;
  for (std::string_view day : kDays) {
    if (day.starts_with(w)) return true;
  }
  return false;
}

// Reads between min_digits and max_digits digits at s[pos]; more digits than
// max_digits is a failure, so "20071-01-01" is not read as 2007.
bool read_number(std::string_view s, std::size_t& pos, std::size_t min_digits, std::size_t max_digits,
                 int& value) {
  std::size_t n = 0;
  int v = 0;
  while (pos + n < s.size() && is_digit(s[pos + n])) {
    if (n == max_digits) return false;
    v = v * 10 + (s[pos + n] - '0');
    ++n;
  }
  if (n < min_digits) return false;
  pos += n;
  value = v;
  return true;
}

// "+hh:mm", "+hhmm", "+hh" (also "+h"); `s` starts at the sign.
bool parse_numeric_offset(std::string_view s, std::size_t& pos, int& offset_seconds) {
  const int sign = s[pos] == '-' ? -1 : 1;
  std::size_t p = pos + 1;
  std::size_t start = p;
  int hh = 0;
  int mm = 0;
  if (!read_number(s, p, 1, 4, hh)) return false;
  const std::size_t digits = p - start;
  if (digits == 4) {
    mm = hh % 100;
    hh /= 100;
  } else if (digits == 3) {
    return false;
  } else if (p < s.size() && s[p] == ':') {
    ++p;
    if (!read_number(s, p, 2, 2, mm)) return false;
  }
  if (hh > 23 || mm > 59) return false;
  offset_seconds = sign * (hh * 3600 + mm * 60);
  pos = p;
  return true;
}

// Applies a zone word ("GMT", "EST", "Z", "CEST", "A"); false when it is not one.
// Unknown names count only when `allow_unknown` and written in capitals, as zone
// abbreviations are: "2007-07-22T16:09:00Zjunk" is garbage, not a zone.
bool apply_zone_word(std::string_view lower_name, bool upper_case, Fields& f, bool allow_unknown) {
  if (std::optional<int> minutes = zone_minutes(lower_name)) {
    f.has_zone = true;
    f.offset_seconds = *minutes * 60;
    f.zone_is_gmt = *minutes == 0 && lower_name != "z";
    return true;
  }
  if (is_military_letter(lower_name)) {
    f.has_zone = true;
    f.military_zone = true;
    f.offset_seconds = 0;
    return true;
  }
  if (allow_unknown && upper_case && lower_name.size() >= 2 && lower_name.size() <= 5) {
    f.has_zone = true;
    f.unknown_zone = true;
    f.offset_seconds = 0;
    return true;
  }
  return false;
}

// RFC 3339 / ISO 8601 / W3CDTF; `s` is trimmed and starts with four digits.
ParsedDate parse_iso(std::string_view s) {
  Fields f;
  std::size_t pos = 0;
  if (!read_number(s, pos, 4, 4, f.year)) return unparseable();
  f.month = 1;
  f.day = 1;
  if (pos == s.size()) return finish(f);
  if (s[pos] != '-') return unparseable();
  ++pos;
  if (!read_number(s, pos, 1, 2, f.month)) return unparseable();
  if (pos == s.size()) return finish(f);
  if (s[pos] != '-') return unparseable();
  ++pos;
  if (!read_number(s, pos, 1, 2, f.day)) return unparseable();
  if (pos == s.size()) return finish(f);

  if (s[pos] == 'T' || s[pos] == 't') {
    ++pos;
  } else if (is_space(s[pos])) {
    while (pos < s.size() && is_space(s[pos])) ++pos;
  } else {
    return unparseable();
  }
  if (!read_number(s, pos, 1, 2, f.hour)) return unparseable();
  if (pos == s.size() || s[pos] != ':') return unparseable();
  ++pos;
  if (!read_number(s, pos, 2, 2, f.minute)) return unparseable();
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!read_number(s, pos, 2, 2, f.second)) return unparseable();
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      const std::size_t start = pos;
      while (pos < s.size() && is_digit(s[pos])) ++pos;
      if (pos == start) return unparseable();
    }
  }
  f.has_time = true;
  while (pos < s.size() && is_space(s[pos])) ++pos;
  if (pos == s.size()) return finish(f);

  if (s[pos] == '+' || s[pos] == '-') {
    if (!parse_numeric_offset(s, pos, f.offset_seconds)) return unparseable();
    f.has_zone = true;
  } else if (is_alpha(s[pos])) {
    std::string name;
    bool upper_case = true;
    while (pos < s.size() && is_alpha(s[pos])) {
      upper_case = upper_case && s[pos] >= 'A' && s[pos] <= 'Z';
      name.push_back(lower(s[pos++]));
    }
    if (!apply_zone_word(name, upper_case, f, /*allow_unknown=*/true)) return unparseable();
    if (f.zone_is_gmt && pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
      if (!parse_numeric_offset(s, pos, f.offset_seconds)) return unparseable();
    }
  } else {
    return unparseable();
  }
  while (pos < s.size() && is_space(s[pos])) ++pos;
  if (pos != s.size()) return unparseable();
  return finish(f);
}

enum class TokenKind { word, number, punct };

struct Token {
  TokenKind kind;
  std::string_view text;
};

// Words, digit runs and single punctuation characters; parenthesised comments
// ("+0000 (UTC)") are skipped as RFC 822 allows. False on characters no date has.
bool tokenize(std::string_view s, std::vector<Token>& tokens) {
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      ++i;
    } else if (c == '(') {
      int depth = 0;
      while (i < s.size()) {
        if (s[i] == '(') ++depth;
        if (s[i] == ')' && --depth == 0) break;
        ++i;
      }
      ++i;
    } else if (is_alpha(c) || is_digit(c)) {
      const bool alpha = is_alpha(c);
      std::size_t j = i;
      while (j < s.size() && (alpha ? is_alpha(s[j]) : is_digit(s[j]))) ++j;
      tokens.push_back({alpha ? TokenKind::word : TokenKind::number, s.substr(i, j - i)});
      i = j;
    } else if (c == ',' || c == '.' || c == ':' || c == '+' || c == '-' || c == '/') {
      tokens.push_back({TokenKind::punct, s.substr(i, 1)});
      ++i;
    } else {
      return false;
    }
    if (tokens.size() > kMaxTokens) return false;
  }
  return true;
}

int to_int(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

bool is_punct(const std::vector<Token>& t, std::size_t i, char c) {
  return i < t.size() && t[i].kind == TokenKind::punct && t[i].text[0] == c;
}
bool is_number(const std::vector<Token>& t, std::size_t i, std::size_t max_len) {
  return i < t.size() && t[i].kind == TokenKind::number && t[i].text.size() <= max_len;
}

// Numeric offset from tokens: sign, then "hhmm" | "hh" [":" "mm"]. `i` is at the sign.
bool offset_from_tokens(const std::vector<Token>& t, std::size_t& i, int& offset_seconds) {
  if (!is_number(t, i + 1, 4)) return false;
  std::string text(t[i].text);
  text.append(t[i + 1].text);
  std::size_t next = i + 2;
  if (t[i + 1].text.size() <= 2 && is_punct(t, next, ':') && is_number(t, next + 1, 2)) {
    text.push_back(':');
    text.append(t[next + 1].text);
    next += 2;
  }
  std::size_t pos = 0;
  if (!parse_numeric_offset(text, pos, offset_seconds) || pos != text.size()) return false;
  i = next;
  return true;
}

int expand_year(std::string_view digits) {
  const int v = to_int(digits);
  if (digits.size() == 2) return v < 50 ? 2000 + v : 1900 + v;
  if (digits.size() == 3) return 1900 + v;  // RFC 2822 obs-year
  return v;
}

// RFC 822/2822/850, asctime and similar word-based forms, in any order that is
// unambiguous: numbers are day then year unless four digits long.
ParsedDate parse_words(std::string_view s) {
  std::vector<Token> t;
  if (!tokenize(s, t) || t.empty()) return unparseable();
  Fields f;
  bool numeric_zone = false;
  for (std::size_t i = 0; i < t.size();) {
    const Token& tok = t[i];
    if (tok.kind == TokenKind::word) {
      std::string w;
      bool upper_case = true;
      for (char c : tok.text) {
        upper_case = upper_case && c >= 'A' && c <= 'Z';
        w.push_back(lower(c));
      }
      ++i;
      if (is_weekday_name(w) || w == "at") continue;  // weekday: optional, often wrong, never checked
      if (const int m = month_from_name(w); m != 0) {
        if (f.month != 0) return unparseable();
        f.month = m;
        continue;
      }
      if ((w == "am" || w == "pm") && f.has_time) {
        if (f.hour < 1 || f.hour > 12) return unparseable();
        if (w == "pm" && f.hour != 12) f.hour += 12;
        if (w == "am" && f.hour == 12) f.hour = 0;
        continue;
      }
      if (f.has_zone && numeric_zone && (zone_minutes(w) || upper_case)) continue;  // "+0000 GMT": digits win
      if (f.has_zone || !apply_zone_word(w, upper_case, f, /*allow_unknown=*/f.has_time))
        return unparseable();
      if (f.zone_is_gmt && (is_punct(t, i, '+') || is_punct(t, i, '-'))) {
        if (!offset_from_tokens(t, i, f.offset_seconds)) return unparseable();
      }
      continue;
    }
    if (tok.kind == TokenKind::number) {
      if (is_punct(t, i + 1, ':')) {  // hh:mm[:ss[.fff]]
        if (f.has_time || tok.text.size() > 2 || !is_number(t, i + 2, 2) || t[i + 2].text.size() != 2) {
          return unparseable();
        }
        f.hour = to_int(tok.text);
        f.minute = to_int(t[i + 2].text);
        i += 3;
        if (is_punct(t, i, ':')) {
          if (!is_number(t, i + 1, 2) || t[i + 1].text.size() != 2) return unparseable();
          f.second = to_int(t[i + 1].text);
          i += 2;
          if (is_punct(t, i, '.') && is_number(t, i + 1, 64)) i += 2;
        }
        f.has_time = true;
        continue;
      }
      if (tok.text.size() == 4 && is_punct(t, i + 1, '/')) {  // yyyy/mm/dd
        if (f.year >= 0 || f.month != 0 || !is_number(t, i + 2, 2) || !is_punct(t, i + 3, '/') ||
            !is_number(t, i + 4, 2)) {
          return unparseable();
        }
        f.year = to_int(tok.text);
        f.month = to_int(t[i + 2].text);
        f.day = to_int(t[i + 4].text);
        i += 5;
        continue;
      }
      if (tok.text.size() == 4) {
        if (f.year >= 0) return unparseable();
        f.year = to_int(tok.text);
      } else if (tok.text.size() <= 2 && f.day == 0) {
        f.day = to_int(tok.text);
      } else if (tok.text.size() <= 3 && f.year < 0 && f.day != 0) {
        f.year = expand_year(tok.text);
      } else {
        return unparseable();
      }
      ++i;
      continue;
    }
    // Punctuation.
    const char c = tok.text[0];
    if (c == ',' || c == '.') {
      ++i;
    } else if ((c == '+' || c == '-') && f.has_time) {
      if (f.has_zone) return unparseable();
      if (!offset_from_tokens(t, i, f.offset_seconds)) return unparseable();
      f.has_zone = true;
      numeric_zone = true;
    } else if (c == '-' && !f.has_time) {
      ++i;  // RFC 850 "22-Jul-07"
    } else {
      return unparseable();
    }
  }
  if (f.year < 0) return unparseable();
  return finish(f);
}

}  // namespace

ParsedDate parse_date(std::string_view text) {
  const std::string_view s = trim(text);
  if (s.empty() || s.size() > kMaxDateLength) return unparseable();

  bool all_digits = true;
  for (char c : s) all_digits = all_digits && is_digit(c);
  if (all_digits) {
    if (s.size() >= 9 && s.size() <= 11) {
      std::int64_t v = 0;
      for (char c : s) v = v * 10 + (c - '0');
      return ParsedDate{v, {}};
    }
    if (s.size() == 4) return parse_iso(s);
    return unparseable();
  }
  if (s.size() >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-') {
    return parse_iso(s);
  }
  return parse_words(s);
}

}  // namespace postwire::normalise
