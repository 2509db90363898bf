// Checks Prometheus exposition text with the real promtool (Debian package prometheus).
#pragma once

#include <string>

namespace postwire::testing {

// Empty if `promtool check metrics` accepts `text` without a word; otherwise
// its output (errors and lint warnings alike) and exit code.
std::string promtool_check_metrics(const std::string& text);

}  // namespace postwire::testing
