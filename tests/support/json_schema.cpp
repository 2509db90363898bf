#include "support/json_schema.hpp"

#include <unistd.h>

#include <cstdlib>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

// Debian's interpreter carries python3-jsonschema; POSTWIRE_TEST_PYTHON overrides.
std::string python() {
  if (const char* chosen = std::getenv("POSTWIRE_TEST_PYTHON"); chosen != nullptr && *chosen != '\0')
    return chosen;
  if (::access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  return "python3";
}

}  // namespace

std::string schema_path(const std::string& name) {
  return std::string(POSTWIRE_SOURCE_DIR) + "/schema/" + name;
}

std::string validate_events(const std::vector<std::string>& payloads, const std::string& schema_file) {
  TempDir dir("postwire-schema");
  std::string lines;
  for (const auto& payload : payloads) {
    // One document per line: a payload with a raw newline would be split, so say so.
    if (payload.find('\n') != std::string::npos) return "payload contains a raw newline: " + payload;
    lines += payload;
    lines += '\n';
  }
  const auto events = dir / "events.jsonl";
  write_file(events, lines);
  const std::string script = std::string(POSTWIRE_SOURCE_DIR) + "/tests/tools/validate_events.py";
  const RunResult result = run({python(), script, schema_file, events.string()}, std::chrono::seconds(120));
  if (result.exit_code && *result.exit_code == 0) return {};
  std::string report = result.out + result.err;
  if (!result.exit_code) report += "\n(validator timed out)";
  if (report.empty()) report = "validator exited with " + std::to_string(result.exit_code.value_or(-1));
  return report;
}

}  // namespace postwire::testing
