#pragma once

#include <string>

#include "postwire/schema/event.hpp"

namespace postwire {

// The Kafka payload: one JSON object, fields in schema order, unknown values null.
std::string to_json(const Event& event);

}  // namespace postwire
