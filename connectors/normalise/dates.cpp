#include "normalise/dates.hpp"

#include <unicode/basictz.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

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
  std::string_view iana_zone;  // a zone word that stands for a region's rules ("ET")
};

// ICU zones by IANA name, per thread (TimeZone objects are not thread safe to share
// while computing offsets). nullptr for names ICU does not know.
const icu::BasicTimeZone* zone_named(std::string_view name) {
  thread_local std::map<std::string, std::unique_ptr<icu::TimeZone>, std::less<>> cache;
  if (name.empty() || name.size() > 64) return nullptr;
  auto it = cache.find(name);
  if (it == cache.end()) {
    std::unique_ptr<icu::TimeZone> tz(icu::TimeZone::createTimeZone(
        icu::UnicodeString::fromUTF8(icu::StringPiece(name.data(), static_cast<int32_t>(name.size())))));
    icu::UnicodeString id;
    if (tz && tz->getID(id) == icu::UnicodeString(UCAL_UNKNOWN_ZONE_ID)) tz.reset();
    if (cache.size() > 256) cache.clear();
    it = cache.emplace(std::string(name), std::move(tz)).first;
  }
  return dynamic_cast<const icu::BasicTimeZone*>(it->second.get());
}

// Local civil time in `zone` to UTC. Times that a daylight-saving change skips or
// repeats are read with the offset in force before the change.
std::optional<UnixSeconds> local_to_utc(const icu::BasicTimeZone& zone, UnixSeconds local) {
  UErrorCode status = U_ZERO_ERROR;
  int32_t raw = 0;
  int32_t dst = 0;
  zone.getOffsetFromLocal(static_cast<UDate>(local) * 1000.0, UCAL_TZ_LOCAL_FORMER, UCAL_TZ_LOCAL_FORMER, raw,
                          dst, status);
  if (U_FAILURE(status)) return std::nullopt;
  return local - (raw + dst) / 1000;
}

ParsedDate unparseable() { return ParsedDate{std::nullopt, {std::string(kDateUnparseable)}}; }

thread_local const DateContext* t_context = nullptr;

ParsedDate finish(const Fields& f) {
  if (f.year < 1 || f.year > 9999 || f.month < 1 || f.month > 12) return unparseable();
  if (f.day < 1 || f.day > days_in_month(f.year, f.month)) return unparseable();
  if (f.hour < 0 || f.hour > 23 || f.minute < 0 || f.minute > 59 || f.second < 0 || f.second > 60) {
    return unparseable();
  }
  ParsedDate out;
  const UnixSeconds local = unix_from_civil(f.year, static_cast<unsigned>(f.month),
                                            static_cast<unsigned>(f.day), f.hour, f.minute, f.second);
  const std::string_view source_zone = t_context == nullptr ? std::string_view() : t_context->timezone;
  const icu::BasicTimeZone* zone = nullptr;
  if (!f.iana_zone.empty()) {
    zone = zone_named(f.iana_zone);
  } else if (!f.has_zone && (f.has_time || !source_zone.empty())) {
    zone = zone_named(source_zone);
    if (zone != nullptr) out.flags.emplace_back(kDateSourceZone);
  }
  if (zone != nullptr) {
    out.value = local_to_utc(*zone, local);
    if (!out.value) return unparseable();
  } else {
    out.value = local - f.offset_seconds;
    if ((f.has_time && !f.has_zone) || f.military_zone) out.flags.emplace_back(kDateMissingZone);
  }
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

// Zone words that name a region's rules rather than one offset.
std::string_view generic_zone(std::string_view lower_name) {
  if (lower_name == "et") return "America/New_York";
  if (lower_name == "ct") return "America/Chicago";
  if (lower_name == "mt") return "America/Denver";
  if (lower_name == "pt") return "America/Los_Angeles";
  return {};
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
  if (const std::string_view iana = generic_zone(lower_name); !iana.empty()) {
    f.has_zone = true;
    f.iana_zone = iana;
    return true;
  }
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
      const bool after_number = i > 0 && t[i - 1].kind == TokenKind::number;
      ++i;
      if (after_number && (w == "st" || w == "nd" || w == "rd" || w == "th")) continue;  // "22nd"
      // weekday: optional, often wrong, never checked; "at", "on", "of" join the parts
      if (is_weekday_name(w) || w == "at" || w == "on" || w == "of") continue;
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
    if ((c == '+' || c == '-') && f.has_time) {
      if (f.has_zone) return unparseable();
      if (!offset_from_tokens(t, i, f.offset_seconds)) return unparseable();
      f.has_zone = true;
      numeric_zone = true;
    } else if (c == ',' || c == '.' || c == '-') {
      ++i;  // separators; '-' before the time as in RFC 850 "22-Jul-07"
    } else {
      return unparseable();
    }
  }
  if (f.year < 0) return unparseable();
  return finish(f);
}

// ISO 8601 basic format: "20070722", "20070722T1609Z", "20070722T160900+0200".
ParsedDate parse_iso_basic(std::string_view s) {
  std::string extended;
  extended.append(s.substr(0, 4)).push_back('-');
  extended.append(s.substr(4, 2)).push_back('-');
  extended.append(s.substr(6, 2));
  std::size_t pos = 8;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't') return unparseable();
    ++pos;
    std::size_t digits = 0;
    while (pos + digits < s.size() && is_digit(s[pos + digits])) ++digits;
    if (digits != 4 && digits != 6) return unparseable();
    extended.push_back('T');
    extended.append(s.substr(pos, 2)).push_back(':');
    extended.append(s.substr(pos + 2, 2));
    if (digits == 6) extended.append(":").append(s.substr(pos + 4, 2));
    extended.append(s.substr(pos + digits));
  }
  return parse_iso(extended);
}

// Calendar arithmetic for "N months/years ago": the day is clamped to the month.
UnixSeconds months_before(UnixSeconds t, int months) {
  const std::int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
  const UnixSeconds time_of_day = t - days * 86400;
  // civil from days (Howard Hinnant's algorithm)
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = yoe + era * 400;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  std::int64_t index = y * 12 + (m - 1) - months;
  const int year = static_cast<int>(index / 12);
  const int month = static_cast<int>(index % 12) + 1;
  if (year < 1) return t;
  const int day = std::min<int>(static_cast<int>(d), days_in_month(year, month));
  return unix_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day), 0, 0, 0) +
         time_of_day;
}

// "11 years ago", "2 hours ago", "an hour ago", "yesterday", "just now"; nullopt when
// the text is not a relative date.
std::optional<ParsedDate> parse_relative(std::string_view s, std::optional<UnixSeconds> reference) {
  std::string l;
  for (char c : s) l.push_back(lower(c));
  std::vector<std::string_view> words;
  std::string_view rest = l;
  while (!rest.empty()) {
    while (!rest.empty() && is_space(rest.front())) rest.remove_prefix(1);
    std::size_t n = 0;
    while (n < rest.size() && !is_space(rest[n])) ++n;
    if (n > 0) words.push_back(rest.substr(0, n));
    rest.remove_prefix(n);
  }
  std::int64_t seconds = -1;
  int months = 0;
  if ((words.size() == 1 && (words[0] == "today" || words[0] == "now")) ||
      (words.size() == 2 && words[0] == "just" && words[1] == "now")) {
    seconds = 0;
  } else if (words.size() == 1 && words[0] == "yesterday") {
    seconds = 86400;
  } else if (words.size() == 3 && words[2] == "ago") {
    std::int64_t n = -1;
    if (words[0] == "a" || words[0] == "an" || words[0] == "one") {
      n = 1;
    } else if (words[0].size() <= 4) {
      n = 0;
      for (char c : words[0]) {
        if (!is_digit(c)) return std::nullopt;
        n = n * 10 + (c - '0');
      }
      if (words[0].empty()) return std::nullopt;
    } else {
      return std::nullopt;
    }
    std::string_view unit = words[1];
    if (unit.size() > 1 && unit.back() == 's') unit.remove_suffix(1);
    if (unit == "second" || unit == "sec") {
      seconds = n;
    } else if (unit == "minute" || unit == "min") {
      seconds = n * 60;
    } else if (unit == "hour" || unit == "hr") {
      seconds = n * 3600;
    } else if (unit == "day") {
      seconds = n * 86400;
    } else if (unit == "week" || unit == "wk") {
      seconds = n * 7 * 86400;
    } else if (unit == "month" || unit == "mo") {
      seconds = 0;
      months = static_cast<int>(n);
    } else if (unit == "year" || unit == "yr") {
      seconds = 0;
      months = static_cast<int>(n) * 12;
    } else {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (!reference) return unparseable();
  ParsedDate out;
  out.value = months_before(*reference, months) - seconds;
  out.flags.emplace_back(kDateApproximate);
  return out;
}

// The RFC 822 form nearly every RSS feed writes, "Mon, 23 Jul 2007 03:31:26 EST"
// or "... +0000", read straight into the Fields parse_words would fill, with the
// same helpers; any other shape (one more space, a one-digit hour, a two-digit
// year, "GMT+0200") returns nullopt and goes the general way.
std::optional<ParsedDate> parse_rfc822_common(std::string_view s) {
  if (s.size() < 27 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s[25] != ' ') {
    return std::nullopt;
  }
  const auto digits = [&](std::size_t pos, std::size_t n, int& out) {
    out = 0;
    for (std::size_t k = 0; k < n; ++k) {
      if (!is_digit(s[pos + k])) return false;
      out = out * 10 + (s[pos + k] - '0');
    }
    return true;
  };
  const auto word3 = [&](std::size_t pos, std::array<char, 3>& out) {
    for (std::size_t k = 0; k < 3; ++k) {
      if (!is_alpha(s[pos + k])) return false;
      out[k] = lower(s[pos + k]);
    }
    return true;
  };
  std::array<char, 3> weekday{};
  std::array<char, 3> month{};
  Fields f;
  if (!word3(0, weekday) || !is_weekday_name(std::string_view(weekday.data(), 3))) return std::nullopt;
  if (!word3(8, month)) return std::nullopt;
  f.month = month_from_name(std::string_view(month.data(), 3));
  if (f.month == 0 || !digits(5, 2, f.day) || !digits(12, 4, f.year) || !digits(17, 2, f.hour) ||
      !digits(20, 2, f.minute) || !digits(23, 2, f.second)) {
    return std::nullopt;
  }
  f.has_time = true;
  const std::string_view zone = s.substr(26);
  if (zone[0] == '+' || zone[0] == '-') {
    std::size_t pos = 0;
    if (zone.size() != 5 || !parse_numeric_offset(zone, pos, f.offset_seconds) || pos != zone.size()) {
      return std::nullopt;
    }
    f.has_zone = true;
  } else {
    std::array<char, 5> name{};
    if (zone.size() > name.size()) return std::nullopt;
    bool upper_case = true;
    for (std::size_t k = 0; k < zone.size(); ++k) {
      if (!is_alpha(zone[k])) return std::nullopt;
      upper_case = upper_case && zone[k] >= 'A' && zone[k] <= 'Z';
      name[k] = lower(zone[k]);
    }
    if (!apply_zone_word(std::string_view(name.data(), zone.size()), upper_case, f, /*allow_unknown=*/true)) {
      return std::nullopt;
    }
  }
  return finish(f);
}

ParsedDate parse_any(std::string_view s, const DateContext& context) {
  if (s.empty() || s.size() > kMaxDateLength) return unparseable();
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && is_digit(c);
  if (all_digits) {
    std::int64_t v = 0;
    if (s.size() <= 13) {
      for (char c : s) v = v * 10 + (c - '0');
    }
    if (s.size() >= 9 && s.size() <= 11) return ParsedDate{v, {}};
    if (s.size() == 13) return ParsedDate{v / 1000, {}};  // milliseconds (2001-2286)
    if (s.size() == 8) return parse_iso_basic(s);
    if (s.size() == 4) return parse_iso(s);
    return unparseable();
  }
  if (s.size() >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) && s[4] == '-') {
    return parse_iso(s);
  }
  if (s.size() >= 9 && s.size() <= 24 && (s[8] == 'T' || s[8] == 't')) {
    bool digits8 = true;
    for (std::size_t i = 0; i < 8; ++i) digits8 = digits8 && is_digit(s[i]);
    if (digits8) return parse_iso_basic(s);
  }
  if (std::optional<ParsedDate> common = parse_rfc822_common(s)) return *common;
  if (std::optional<ParsedDate> relative =
          parse_relative(s, context.reference ? context.reference : context.now)) {
    return *relative;
  }
  return parse_words(s);
}

}  // namespace

bool is_known_timezone(std::string_view iana) { return zone_named(iana) != nullptr; }

ParsedDate parse_date(std::string_view text, const DateContext& context) {
  const DateContext* const previous = t_context;
  t_context = &context;
  ParsedDate out = parse_any(trim(text), context);
  t_context = previous;
  const std::optional<UnixSeconds> now = context.now ? context.now : context.reference;
  if (out.value && now && *out.value > *now + 86400) {
    out.flags.emplace_back(kDateFuture);
  }
  return out;
}

ParsedDate parse_date(std::string_view text) { return parse_date(text, DateContext{}); }

}  // namespace postwire::normalise
