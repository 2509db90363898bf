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
inline constexpr std::string_view kDateSourceZone =
    "date_source_zone";  // has no zone: read in the source's configured time zone
inline constexpr std::string_view kDateApproximate =
    "date_approximate";  // relative ("2 hours ago"): resolved against the reference time
inline constexpr std::string_view kDateFuture = "date_future";  // more than a day after the reference time

// What a date is read against.
struct DateContext {
  // IANA zone ("America/New_York") for a date that has a time but no zone; empty or
  // unknown: such dates are read as UTC and flagged date_missing_zone.
  std::string_view timezone;
  // What relative dates count back from: the page's own date; without it `now`.
  std::optional<UnixSeconds> reference;
  // The fetch time: a date more than a day after it is flagged date_future. Without
  // reference and now a relative date is unparseable and nothing is flagged future.
  std::optional<UnixSeconds> now;
};

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
//  - Human forms from web pages: "July 22nd, 2007 12:09 PM ET", "July 22, 2007 06:16 pm",
//    "22nd of July 2007"; ET/CT/MT/PT are the US zones with their daylight-saving rules.
//  - ISO 8601 basic format: "20070722T160900Z", "20070722".
//  - Relative dates with a reference: "11 years ago", "2 hours ago", "an hour ago",
//    "yesterday", "today", "just now" (flagged date_approximate).
//  - Unix timestamps: 9 to 11 digits (seconds) or 13 (milliseconds).
// A time without a zone is read in context.timezone (flagged date_source_zone) or,
// without one, as UTC (flagged date_missing_zone). A result more than a day after
// context.now (else context.reference) is flagged date_future.
ParsedDate parse_date(std::string_view text, const DateContext& context);
ParsedDate parse_date(std::string_view text);

// Whether ICU knows the IANA zone name.
bool is_known_timezone(std::string_view iana);

}  // namespace postwire::normalise
