#include "postwire/schema/event.hpp"

#include "postwire/schema/result.hpp"

namespace postwire {

const char* to_string(EventKind kind) noexcept { return kind == EventKind::post ? "post" : "comment"; }

const char* to_string(EventType type) noexcept {
  switch (type) {
    case EventType::created:
      return "created";
    case EventType::updated:
      return "updated";
    case EventType::deleted:
      return "deleted";
  }
  return "created";
}

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::ok:
      return "ok";
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::io:
      return "io";
    case Errc::not_found:
      return "not_found";
    case Errc::network:
      return "network";
    case Errc::timeout:
      return "timeout";
    case Errc::http_status:
      return "http_status";
    case Errc::too_large:
      return "too_large";
    case Errc::parse:
      return "parse";
    case Errc::unsupported:
      return "unsupported";
    case Errc::encoding:
      return "encoding";
    case Errc::storage:
      return "storage";
    case Errc::kafka:
      return "kafka";
    case Errc::config:
      return "config";
    case Errc::cancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace postwire
