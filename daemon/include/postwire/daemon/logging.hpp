#pragma once

#include <string>

namespace postwire {

// Logs go to stderr, as text ("2026-11-28T10:52:52.123Z warn source=x ...") or
// as one JSON object per line for log shippers. Returns false for an unknown level.
bool setup_logging(const std::string& format, const std::string& level);

}  // namespace postwire
