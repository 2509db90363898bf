#include "postwire/schema/time.hpp"

#include <cstdio>

namespace postwire {
namespace {

// Howard Hinnant's civil-from-days, the inverse of unix_from_civil.
void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t year = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(year + (m <= 2 ? 1 : 0));
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

}  // namespace

UnixSeconds unix_from_civil(int year, unsigned month, unsigned day, int hour, int minute, int second) {
  const int y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second;
}

namespace {

void put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

std::string format_rfc3339(UnixSeconds t) {
  const std::int64_t days = floor_div(t, 86400);
  const std::int64_t secs = t - days * 86400;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  const auto hh = static_cast<unsigned>(secs / 3600);
  const auto mm = static_cast<unsigned>(secs / 60 % 60);
  const auto ss = static_cast<unsigned>(secs % 60);
  if (y < 0 || y > 9999) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m, d, hh, mm, ss);
    return buf;
  }
  // Every event carries several timestamps: no printf on this path.
  std::string out = "0000-00-00T00:00:00Z";
  const auto year = static_cast<unsigned>(y);
  put2(out.data(), year / 100);
  put2(out.data() + 2, year % 100);
  put2(out.data() + 5, m);
  put2(out.data() + 8, d);
  put2(out.data() + 11, hh);
  put2(out.data() + 14, mm);
  put2(out.data() + 17, ss);
  return out;
}

std::string format_rfc3339_millis(UnixMillis t) {
  const std::int64_t secs = floor_div(t, 1000);
  const auto ms = static_cast<unsigned>(t - secs * 1000);
  std::string s = format_rfc3339(secs);
  const char frac[5] = {'.', static_cast<char>('0' + ms / 100), static_cast<char>('0' + ms / 10 % 10),
                        static_cast<char>('0' + ms % 10), '\0'};
  s.insert(s.size() - 1, frac);
  return s;
}

}  // namespace postwire
