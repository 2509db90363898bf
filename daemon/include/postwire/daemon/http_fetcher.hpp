// Fetcher driven by the daemon's Asio event loop: libcurl's multi-socket API
// for http(s):// (no thread per source), a capped read for file://.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "postwire/connectors/fetcher.hpp"

namespace postwire {

struct HttpFetcherOptions {
  std::string user_agent = "postwire";
  long max_redirects = 5;
};

class HttpFetcher final : public Fetcher {
 public:
  HttpFetcher(boost::asio::io_context& io, HttpFetcherOptions options);
  ~HttpFetcher() override;
  HttpFetcher(const HttpFetcher&) = delete;
  HttpFetcher& operator=(const HttpFetcher&) = delete;

  boost::asio::awaitable<Result<Document>> fetch(FetchRequest request) override;

 private:
  struct Transfer;
  struct Watch;
  static int on_socket(void* easy, int fd, int what, void* self, void* socketp);
  static int on_timer(void* multi, long timeout_ms, void* self);
  void arm(const std::shared_ptr<Watch>& watch);
  void socket_action(int fd, int events);
  void collect_done();

  boost::asio::io_context& io_;
  HttpFetcherOptions options_;
  void* multi_ = nullptr;  // CURLM*
  boost::asio::steady_timer timer_;
  std::map<int, std::shared_ptr<Watch>> watches_;
};

// Reads a file:// URL, refusing to read more than `max_bytes`.
Result<Document> read_file_url(const std::string& url, std::size_t max_bytes);

}  // namespace postwire
