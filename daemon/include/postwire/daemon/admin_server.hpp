// Admin HTTP endpoints on the daemon's event loop: /metrics, /healthz, /readyz.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "postwire/schema/result.hpp"

namespace postwire {

struct AdminHandlers {
  std::function<std::string()> metrics;    // Prometheus text format
  std::function<bool()> ready;             // config loaded and Kafka reachable
  std::function<std::string()> readiness;  // a line saying why (not) ready
};

class AdminServer {
 public:
  // Binds `listen` ("host:port"; port 0 picks a free one).
  static Result<std::unique_ptr<AdminServer>> start(boost::asio::io_context& io, const std::string& listen,
                                                    AdminHandlers handlers);
  ~AdminServer();
  std::string local_address() const;  // "127.0.0.1:9464"
  void stop();

 private:
  AdminServer(boost::asio::io_context& io, AdminHandlers handlers);
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  AdminHandlers handlers_;
};

}  // namespace postwire
