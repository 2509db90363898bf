// A tiny blocking HTTP/1.1 GET for tests (admin endpoints on loopback).
#pragma once

#include <chrono>
#include <string>

namespace postwire::testing {

struct HttpResult {
  int status = 0;  // 0: no answer (connection refused, timeout, bad URL)
  std::string body;
  std::string content_type;
  std::string error;  // why status is 0
};

// url: "http://host:port/path". Never throws.
HttpResult http_get(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace postwire::testing
