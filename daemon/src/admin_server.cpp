#include "postwire/daemon/admin_server.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace postwire {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

AdminServer::AdminServer(asio::io_context& io, AdminHandlers handlers)
    : io_(io), acceptor_(io), handlers_(std::move(handlers)) {}

AdminServer::~AdminServer() { stop(); }

Result<std::unique_ptr<AdminServer>> AdminServer::start(asio::io_context& io, const std::string& listen,
                                                        AdminHandlers handlers) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return make_error(Errc::config, "admin.listen must be host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = listen.substr(colon + 1);
  std::unique_ptr<AdminServer> server(new AdminServer(io, std::move(handlers)));
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host, port, asio::ip::tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty())
    return make_error(Errc::config, "admin.listen " + listen + ": " + ec.message());
  const auto endpoint = endpoints.begin()->endpoint();
  server->acceptor_.open(endpoint.protocol(), ec);
  if (!ec) server->acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) server->acceptor_.bind(endpoint, ec);
  if (!ec) server->acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(Errc::io, "admin server cannot listen on " + listen + ": " + ec.message());
  asio::co_spawn(io, server->accept_loop(), asio::detached);
  return server;
}

std::string AdminServer::local_address() const {
  boost::system::error_code ec;
  const auto ep = acceptor_.local_endpoint(ec);
  if (ec) return {};
  const auto addr = ep.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" + std::to_string(ep.port());
}

void AdminServer::stop() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

asio::awaitable<void> AdminServer::accept_loop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    auto socket = co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      spdlog::warn("admin server accept failed: {}", ec.message());
      continue;
    }
    asio::co_spawn(io_, session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::session(asio::ip::tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer(8192);
  for (;;) {
    stream.expires_after(std::chrono::seconds(30));
    http::request_parser<http::empty_body> parser;
    parser.header_limit(8192);
    boost::system::error_code ec;
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    const auto& req = parser.get();
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(req.keep_alive());
    res.set(http::field::server, "postwire");
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET");
      res.body() = "method not allowed\n";
    } else if (path == "/metrics") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = handlers_.metrics();
    } else if (path == "/healthz") {
      res.result(http::status::ok);
      res.body() = "ok\n";
    } else if (path == "/readyz") {
      const bool ready = handlers_.ready();
      res.result(ready ? http::status::ok : http::status::service_unavailable);
      res.body() = handlers_.readiness() + "\n";
    } else if (path == "/") {
      res.result(http::status::ok);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = "postwire admin: /metrics /healthz /readyz\n";
    } else {
      res.result(http::status::not_found);
      res.body() = "not found\n";
    }
    if (res[http::field::content_type].empty()) {
      res.set(http::field::content_type, "text/plain; charset=utf-8");
    }
    res.prepare_payload();
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace postwire
