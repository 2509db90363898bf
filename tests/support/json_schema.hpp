// JSON Schema (Draft 2020-12) validation of event payloads with python3-jsonschema.
#pragma once

#include <string>
#include <vector>

namespace postwire::testing {

// Empty if every payload is valid against `schema_file`; otherwise the
// validator's report ("line N: /path: message", N = 1-based index in payloads).
std::string validate_events(const std::vector<std::string>& payloads, const std::string& schema_file);

// POSTWIRE_SOURCE_DIR "/schema/" + name, e.g. schema_path("post.v1.schema.json").
std::string schema_path(const std::string& name);

}  // namespace postwire::testing
