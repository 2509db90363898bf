#include "support/http_server.hpp"

// GCC 12 reports a false -Wnull-dereference inside Asio's scheduler at -O2.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

namespace postwire::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};

  static asio::awaitable<void> session(HttpServer* server, tcp::socket socket) {
    beast::flat_buffer buffer;
    try {
      while (true) {
        http::request<http::string_body> req;
        co_await http::async_read(socket, buffer, req, asio::use_awaitable);
        Request seen;
        seen.method = std::string(req.method_string());
        seen.target = std::string(req.target());
        for (const auto& field : req) {
          seen.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        }
        const Response answer = server->respond(seen);

        http::response<http::string_body> res;
        res.version(req.version());
        res.result(static_cast<unsigned>(answer.status));
        res.set(http::field::server, "postwire-test");
        res.set(http::field::content_type, answer.content_type);
        for (const auto& [name, value] : answer.headers) res.set(name, value);
        if (req.method() != http::verb::head) res.body() = answer.body;
        res.keep_alive(req.keep_alive());
        res.prepare_payload();
        if (req.method() == http::verb::head) res.content_length(answer.body.size());
        co_await http::async_write(socket, res, asio::use_awaitable);
        if (!res.keep_alive()) break;
      }
    } catch (const std::exception&) {
      // Client went away or sent garbage: end this connection only.
    }
    beast::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    socket.close(ec);
  }

  static asio::awaitable<void> accept_loop(HttpServer* server, tcp::acceptor& acceptor) {
    while (true) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;
      }
      asio::co_spawn(acceptor.get_executor(), session(server, std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, Impl::accept_loop(this, impl_->acceptor), asio::detached);
  thread_ = std::thread([this] { impl_->io.run(); });
}

HttpServer::~HttpServer() {
  impl_->io.stop();
  if (thread_.joinable()) thread_.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

std::string HttpServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpServer::set_route(const std::string& path, Response response) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_[path] = std::move(response);
}

void HttpServer::set_route(const std::string& path, std::string body, std::string content_type) {
  Response response;
  response.body = std::move(body);
  response.content_type = std::move(content_type);
  set_route(path, std::move(response));
}

void HttpServer::remove_route(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_.erase(path);
}

int HttpServer::request_count(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = counts_.find(path);
  return it == counts_.end() ? 0 : it->second;
}

int HttpServer::total_requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(log_.size());
}

std::vector<HttpServer::Request> HttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

HttpServer::Response HttpServer::respond(const Request& request) {
  std::string path = request.target;
  const auto query = path.find('?');
  if (query != std::string::npos) path.resize(query);
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[path];
  log_.push_back(request);
  const auto it = routes_.find(path);
  if (it != routes_.end()) return it->second;
  Response not_found;
  not_found.status = 404;
  not_found.body = "not found: " + path + "\n";
  return not_found;
}

}  // namespace postwire::testing
