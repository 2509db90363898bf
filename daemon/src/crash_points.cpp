#include "postwire/daemon/crash_points.hpp"

#include <csignal>
#include <cstdlib>
#include <string>

namespace postwire {
namespace {

const char* name_of(CrashPoint p) {
  switch (p) {
    case CrashPoint::fetched:
      return "fetched";
    case CrashPoint::produced:
      return "produced";
    case CrashPoint::acked:
      return "acked";
    case CrashPoint::committing:
      return "committing";
  }
  return "";
}

struct Armed {
  bool enabled = false;
  std::string point;
  long remaining = 0;
  Armed() {
    const char* spec = std::getenv("POSTWIRE_CRASH_AT");
    if (spec == nullptr) return;
    const std::string s(spec);
    const auto colon = s.find(':');
    point = s.substr(0, colon);
    remaining = colon == std::string::npos ? 1 : std::strtol(s.c_str() + colon + 1, nullptr, 10);
    enabled = remaining > 0;
  }
};

}  // namespace

void crash_point(CrashPoint p) {
  static Armed armed;
  if (!armed.enabled || armed.point != name_of(p)) return;
  if (--armed.remaining == 0) std::raise(SIGKILL);
}

}  // namespace postwire
