// The one way connectors read the outside world. The daemon supplies an
// implementation driven by its Asio event loop (libcurl multi for http(s)://,
// capped reads for file://); tests supply their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "postwire/schema/result.hpp"

namespace postwire {

struct FetchRequest {
  std::string url;  // absolute http://, https:// or file:// URL
  std::chrono::milliseconds timeout{30000};
  std::size_t max_bytes = std::size_t{16} * 1024 * 1024;  // cap while reading, not after
  std::optional<std::string> if_none_match;               // ETag from the previous fetch
  std::optional<std::string> if_modified_since;           // Last-Modified from the previous fetch
};

struct Document {
  std::string body;
  std::string final_url;  // after redirects: the base for relative links
  std::string content_type;
  long status = 200;          // HTTP status; 200 for file://
  bool not_modified = false;  // 304: body is empty, nothing changed
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
};

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  virtual boost::asio::awaitable<Result<Document>> fetch(FetchRequest request) = 0;
};

}  // namespace postwire
