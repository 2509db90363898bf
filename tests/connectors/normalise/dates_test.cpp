#include "normalise/dates.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace postwire::normalise {
namespace {

// Expected values are written as RFC 3339 UTC and converted here, independently of
// the code under test and of schema/time.cpp.
std::int64_t epoch(const char* rfc3339) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (std::sscanf(rfc3339, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s) != 6) return INT64_MIN;
  y -= mo <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (era * 146097 + doe - 719468) * 86400 + std::int64_t{h} * 3600 + std::int64_t{mi} * 60 + s;
}

struct Row {
  const char* input;
  const char* expected;  // nullptr: unparseable
  std::vector<std::string> flags;
};

const std::vector<std::string> kNone;
const std::vector<std::string> kMissing = {"date_missing_zone"};
const std::vector<std::string> kUnknown = {"date_unknown_zone"};
const std::vector<std::string> kBad = {"date_unparseable"};

const Row kRows[] = {
    // RFC 822 / 2822 with every named zone.
    {"Sun, 22 Jul 2007 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 16:09:00 UT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 16:09:00 UTC", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 16:09:00 Z", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 16:09:00 z", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 12:09:00 EDT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 11:09:00 EST", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 11:09:00 CDT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 10:09:00 CST", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 10:09:00 MDT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 09:09:00 MST", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 09:09:00 PDT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 08:09:00 PST", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 18:09:00 CEST", "2007-07-22T16:09:00Z", kNone},
    {"sun, 22 jul 2007 16:09:00 gmt", "2007-07-22T16:09:00Z", kNone},
    // Numeric offsets.
    {"Sun, 22 Jul 2007 18:09:00 +0200", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 11:39:00 -0430", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 18:09:00 +02:00", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 16:09:00 -0000", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 18:09:00 GMT+0200", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 16:09:00 +0000 (UTC)", "2007-07-22T16:09:00Z", kNone},
    {"Mon, 23 Jul 2007 01:09:00 +0900", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 16:09:00 +0000 GMT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 18:09:00 +0200 CEST", "2007-07-22T16:09:00Z", kNone},
    {"July 22, 2007 at 4:09 pm", "2007-07-22T16:09:00Z", kMissing},
    // Shape variations.
    {"Sun, 22 Jul 2007 16:09 GMT", "2007-07-22T16:09:00Z", kNone},
    {"22 Jul 2007 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},
    {"Mon, 22 Jul 2007 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},  // wrong weekday
    {"Sun,22 Jul 2007 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},
    {"  Sun,  22   Jul  2007\t16:09:00   GMT \n", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 2 Jul 2007 16:09:00 GMT", "2007-07-02T16:09:00Z", kNone},
    {"Sunday, 22 July 2007 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},
    {"Sat, 22 Sept 2007 16:09:00 GMT", "2007-09-22T16:09:00Z", kNone},
    {"Sunday, 22-Jul-07 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},  // RFC 850
    {"Sun, 22 Jul 2007 4:09:00 PM GMT", "2007-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 2007 12:09:00 AM GMT", "2007-07-22T00:09:00Z", kNone},
    {"Jul 22, 2007 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},
    {"Sat, 29 Feb 2020 00:00:00 GMT", "2020-02-29T00:00:00Z", kNone},
    {"Wed, 31 Dec 1969 23:59:59 GMT", "1969-12-31T23:59:59Z", kNone},
    {"Sun, 22 Jul 2007 16:09:60 GMT", "2007-07-22T16:10:00Z", kNone},  // leap second
    // Two- and three-digit years.
    {"Sun, 22 Jul 07 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},
    {"Thu, 22 Jul 99 16:09:00 GMT", "1999-07-22T16:09:00Z", kNone},
    {"Thu, 22 Jul 49 16:09:00 GMT", "2049-07-22T16:09:00Z", kNone},
    {"Sat, 22 Jul 50 16:09:00 GMT", "1950-07-22T16:09:00Z", kNone},
    {"Sun, 22 Jul 107 16:09:00 GMT", "2007-07-22T16:09:00Z", kNone},
    // No zone, military zones, unknown zones: read as UTC, flagged.
    {"Sun, 22 Jul 2007 16:09:00", "2007-07-22T16:09:00Z", kMissing},
    {"Sun Jul 22 16:09:00 2007", "2007-07-22T16:09:00Z", kMissing},  // asctime
    {"Sun, 22 Jul 2007 16:09:00 A", "2007-07-22T16:09:00Z", kMissing},
    {"Sun, 22 Jul 2007 16:09:00 Y", "2007-07-22T16:09:00Z", kMissing},
    {"Sun, 22 Jul 2007 16:09:00 XYZ", "2007-07-22T16:09:00Z", kUnknown},
    {"22 Jul 2007", "2007-07-22T00:00:00Z", kNone},
    // RFC 3339 / ISO 8601 / W3CDTF.
    {"2007-07-22T16:09:00Z", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22t16:09:00z", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T18:09:00+02:00", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T10:39:00-05:30", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T18:09:00+0200", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T18:09:00+02", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22 16:09:00Z", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T16:09:00.123456Z", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T16:09:00,5Z", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T18:09:00.5+02:00", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T16:09Z", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22 18:09:00 +0200", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22 16:09:00 UTC", "2007-07-22T16:09:00Z", kNone},
    {"  2007-07-22T16:09:00Z \n", "2007-07-22T16:09:00Z", kNone},
    {"2007-07-22T16:09:00", "2007-07-22T16:09:00Z", kMissing},
    {"2007-07-22", "2007-07-22T00:00:00Z", kNone},
    {"2007-07", "2007-07-01T00:00:00Z", kNone},
    {"2007", "2007-01-01T00:00:00Z", kNone},
    {"2007/07/22 16:09:00", "2007-07-22T16:09:00Z", kMissing},
    // Unix timestamps.
    {"1185120540", "2007-07-22T16:09:00Z", kNone},
    {"999999999", "2001-09-09T01:46:39Z", kNone},
    {"12345678901", "2361-03-21T19:15:01Z", kNone},
    // Not dates, or impossible ones.
    {"", nullptr, kBad},
    {"   ", nullptr, kBad},
    {"not a date", nullptr, kBad},
    {"now", nullptr, kBad},
    {"12345678", nullptr, kBad},
    {"123456789012", nullptr, kBad},
    {"-1185120540", nullptr, kBad},
    {"Sun, 32 Jul 2007 16:09:00 GMT", nullptr, kBad},
    {"Sun, 0 Jul 2007 16:09:00 GMT", nullptr, kBad},
    {"Sun, 22 Foo 2007 16:09:00 GMT", nullptr, kBad},
    {"Sun, 22 Jul 2007 25:09:00 GMT", nullptr, kBad},
    {"Sun, 22 Jul 2007 16:61:00 GMT", nullptr, kBad},
    {"Sun, 22 Jul 16:09:00 GMT", nullptr, kBad},  // no year
    {"Sun, 22 Jul 2007 16:09:00 GMT GMT", nullptr, kBad},
    {"Sun, 22 Jul 2007 16:09:00 +2500", nullptr, kBad},
    {"Sun, 22 Jul 2007 16:09:00 #GMT", nullptr, kBad},
    {"Fri, 29 Feb 2019 00:00:00 GMT", nullptr, kBad},
    {"22/07/2007", nullptr, kBad},
    {"2007-13-01", nullptr, kBad},
    {"2007-00-10", nullptr, kBad},
    {"2007-02-30", nullptr, kBad},
    {"2007-07-22T24:00:00Z", nullptr, kBad},
    {"2007-07-22T16:60:00Z", nullptr, kBad},
    {"2007-07-22T16:09:61Z", nullptr, kBad},
    {"2007-07-22T16:09:00+25:00", nullptr, kBad},
    {"2007-07-22T16:09:00Zjunk", nullptr, kBad},
    {"2007-07-22T", nullptr, kBad},
    {"2007-07-22X16:09:00Z", nullptr, kBad},
    {"20071-07-22", nullptr, kBad},
    {"\xC3\xA9t\xC3\xA9 2007", nullptr, kBad},
};

class ParseDateTable : public ::testing::TestWithParam<Row> {};

TEST_P(ParseDateTable, Parses) {
  const Row& row = GetParam();
  const ParsedDate parsed = parse_date(row.input);
  if (row.expected == nullptr) {
    EXPECT_FALSE(parsed.value.has_value()) << "value " << *parsed.value;
  } else {
    ASSERT_TRUE(parsed.value.has_value());
    EXPECT_EQ(*parsed.value, epoch(row.expected)) << "expected " << row.expected;
  }
  EXPECT_EQ(parsed.flags, row.flags);
}

INSTANTIATE_TEST_SUITE_P(Rows, ParseDateTable, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& row_info) {
                           return std::to_string(row_info.index);
                         });

TEST(ParseDate, TableIsLargeEnough) { EXPECT_GE(std::size(kRows), 60u); }

TEST(ParseDate, VeryLongInputIsRejectedQuickly) {
  const std::string long_input(1 << 20, '1');
  EXPECT_FALSE(parse_date(long_input).value.has_value());
  std::string many_tokens;
  for (int i = 0; i < 10000; ++i) many_tokens += "Jul ";
  EXPECT_FALSE(parse_date(many_tokens).value.has_value());
}

TEST(ParseDate, UnterminatedCommentIsIgnoredSafely) {
  const ParsedDate parsed = parse_date("Sun, 22 Jul 2007 16:09:00 GMT (UTC");
  ASSERT_TRUE(parsed.value.has_value());
  EXPECT_EQ(*parsed.value, epoch("2007-07-22T16:09:00Z"));
}

// RFC 822 dates in the exact shape most feeds write take a shortcut in parse_date;
// the same date with one more space anywhere cannot, so both readings must agree
// (value and flags), with and without a source time zone, for valid and invalid
// weekdays, months, days, times and zones.
TEST(ParseDate, TheCommonRfc822ShapeReadsAsTheGeneralParserReadsIt) {
  const char* weekdays[] = {"Mon", "tue", "SUN", "Fri", "Xyz"};
  const char* months[] = {"Jan", "feb", "Jul", "Sep", "DEC", "Foo"};
  const char* days[] = {"01", "23", "29", "31", "00", "7x"};
  const char* years[] = {"2007", "2024", "1999", "0000"};
  const char* times[] = {"03:31:26", "23:59:60", "24:00:00", "12:60:00", "00:00:00"};
  const char* zones[] = {"GMT",   "UT",    "UTC",   "Z",      "EST",      "EDT",   "PDT",
                         "CEST",  "A",     "Q",     "XYZW",   "abc",      "+0000", "-0500",
                         "+0530", "+2400", "-9999", "+05:30", "GMT+0200", "ET",    "1"};
  DateContext with_zone;
  with_zone.timezone = "America/New_York";
  int compared = 0;
  int parsed = 0;
  for (const char* wd : weekdays) {
    for (const char* mo : months) {
      for (const char* d : days) {
        for (const char* y : years) {
          for (const char* t : times) {
            for (const char* z : zones) {
              const std::string common = std::string(wd) + ", " + d + " " + mo + " " + y + " " + t + " " + z;
              const std::string spaced =
                  std::string(wd) + ",  " + d + " " + mo + " " + y + " " + t + "  " + z;
              for (const DateContext& context : {DateContext{}, with_zone}) {
                const ParsedDate a = parse_date(common, context);
                const ParsedDate b = parse_date(spaced, context);
                ASSERT_EQ(a.value, b.value) << common;
                ASSERT_EQ(a.flags, b.flags) << common;
                ++compared;
                parsed += a.value ? 1 : 0;
              }
            }
          }
        }
      }
    }
  }
  EXPECT_GT(parsed, compared / 10);  // the grid is not all garbage
}

}  // namespace
}  // namespace postwire::normalise
