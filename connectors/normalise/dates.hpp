// Date parsing for feed timestamps. Feeds claim RFC 822 or RFC 3339 and deliver
// anything in between, so the parser is lenient about shape and strict about
// values: an impossible date is reported as unparseable, never guessed, and never
// replaced by "now" (that is the caller's decision, with a quality flag).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postwire/schema/event.hpp"

namespace postwire::normalise {

// Quality flags parse_date can report (they end up in PostData::quality).
inline constexpr std::string_view kDateMissingZone = "date_missing_zone";  // has a time, no zone: read as UTC
inline constexpr std::string_view kDateUnknownZone =
    "date_unknown_zone";  // zone name we do not know: read as UTC
inline constexpr std::string_view kDateUnparseable = "date_unparseable";  // value is nullopt

struct ParsedDate {
  std::optional<UnixSeconds> value;
  std::vector<std::string> flags;
};

// Accepts, with surrounding and repeated white space:
//  - RFC 822/2822/850 and asctime: "Sun, 22 Jul 2007 16:09:00 GMT", "22 Jul 07 16:09 +0200",
//    "Sunday, 22-Jul-07 16:09:00 EST", "Sun Jul 22 16:09:00 2007". The weekday is optional
//    and not checked; years of 2 digits are 20xx below 50 and 19xx otherwise. Zones: UT,
//    UTC, GMT, Z, the North American names, a few common others (CET, JST, ...), numeric
//    offsets, and "GMT+0200". Military letters other than Z are read as UTC with
//    date_missing_zone, as RFC 2822 section 4.3 recommends (RFC 822 got their signs wrong).
//  - RFC 3339 / ISO 8601 / W3CDTF: "2007-07-22T16:09:00.5+02:00", "2007-07-22 16:09:00Z",
//    offsets as +hh:mm, +hhmm or +hh, and the reduced forms "2007", "2007-07", "2007-07-22"
//    (midnight UTC; a date without a time is not flagged).
//  - Unix timestamps: 9 to 11 digits.
// A time without a zone is read as UTC and flagged date_missing_zone.
ParsedDate parse_date(std::string_view text);

}  // namespace postwire::normalise
