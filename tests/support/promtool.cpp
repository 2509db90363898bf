#include "support/promtool.hpp"

#include <unistd.h>

#include <cstdlib>

#include "support/process.hpp"

namespace postwire::testing {

std::string promtool_check_metrics(const std::string& text) {
  std::string promtool = "promtool";
  if (const char* chosen = std::getenv("POSTWIRE_TEST_PROMTOOL"); chosen != nullptr && *chosen != '\0') {
    promtool = chosen;
  } else if (::access("/usr/bin/promtool", X_OK) == 0) {
    promtool = "/usr/bin/promtool";
  }
  const RunResult result = run({promtool, "check", "metrics"}, std::chrono::seconds(60), {}, text);
  const bool clean = result.exit_code && *result.exit_code == 0 && result.out.empty() && result.err.empty();
  if (clean) return {};
  std::string report = "promtool check metrics ";
  report += result.exit_code ? "exited " + std::to_string(*result.exit_code) : std::string("timed out");
  report += ":\n" + result.out + result.err;
  return report;
}

}  // namespace postwire::testing
