// A loopback HTTP/1.1 server for tests (Boost.Beast), on a kernel-chosen port
// and its own thread. Routes are exact paths; anything else answers 404.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace postwire::testing {

class HttpServer {
 public:
  struct Response {
    int status = 200;
    std::string body;
    std::string content_type = "text/plain; charset=utf-8";
    std::vector<std::pair<std::string, std::string>> headers;
  };
  struct Request {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
  };

  HttpServer();   // binds 127.0.0.1:0 and starts serving
  ~HttpServer();  // stops and joins
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port><path>"
  std::string url(const std::string& path) const;

  // Routes match the request path (query string ignored). Thread-safe; may be
  // changed while clients are polling.
  void set_route(const std::string& path, Response response);
  void set_route(const std::string& path, std::string body, std::string content_type);
  void remove_route(const std::string& path);

  // Requests seen for a path (any method, any status).
  int request_count(const std::string& path) const;
  int total_requests() const;
  std::vector<Request> requests() const;

 private:
  struct Impl;
  friend struct Impl;
  Response respond(const Request& request);

  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, Response> routes_;
  std::map<std::string, int> counts_;
  std::vector<Request> log_;
  std::thread thread_;
};

}  // namespace postwire::testing
