#pragma once

#include <string>

#include "postwire/schema/event.hpp"

namespace postwire {

// The Kafka payload: one JSON object, fields in schema order, unknown values null.
std::string to_json(const Event& event);

// An item that could not be processed (schema/deadletter.v1.schema.json).
struct DeadLetter {
  std::string event_id;
  SourceRef source;
  UnixMillis failed_at = 0;
  std::string reason;   // short machine token
  std::string message;  // human explanation
  std::string locator;  // URL or native id of what failed
  std::string excerpt;  // a few KiB of the offending input
};
std::string to_json(const DeadLetter& dead_letter);

}  // namespace postwire
