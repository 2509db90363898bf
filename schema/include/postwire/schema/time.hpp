#pragma once

#include <optional>
#include <string>

#include "postwire/schema/event.hpp"

namespace postwire {

// "2007-07-22T16:09:00Z"
std::string format_rfc3339(UnixSeconds t);
// "2007-07-22T16:09:00.123Z"
std::string format_rfc3339_millis(UnixMillis t);
// Days-from-civil (proleptic Gregorian), the building block of every date parser.
UnixSeconds unix_from_civil(int year, unsigned month, unsigned day, int hour, int minute, int second);

}  // namespace postwire
