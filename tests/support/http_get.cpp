#include "support/http_get.hpp"

// GCC 12 reports a false -Wnull-dereference inside Asio's scheduler at -O2.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

namespace postwire::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpResult http_get(const std::string& url, std::chrono::milliseconds timeout) {
  HttpResult result;
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    result.error = "only http:// URLs: " + url;
    return result;
  }
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  const std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  const auto colon = authority.rfind(':');
  const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);

  // Each operation is bounded by the stream's timer; run() returns once the
  // chain is done, so this stays blocking without per-call timeouts.
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  http::response<http::string_body> res;
  beast::error_code failure;
  std::string stage;

  tcp::resolver resolver(io);
  beast::error_code ec;
  const auto endpoints = resolver.resolve(host, port, ec);
  if (ec) {
    result.error = "resolve " + authority + ": " + ec.message();
    return result;
  }
  req.set(http::field::host, authority);
  req.set(http::field::user_agent, "postwire-test");
  req.set(http::field::connection, "close");

  stream.expires_after(timeout);
  stream.async_connect(endpoints, [&](beast::error_code connect_ec, const tcp::endpoint&) {
    if (connect_ec) {
      failure = connect_ec;
      stage = "connect";
      return;
    }
    http::async_write(stream, req, [&](beast::error_code write_ec, std::size_t) {
      if (write_ec) {
        failure = write_ec;
        stage = "write";
        return;
      }
      http::async_read(stream, buffer, res, [&](beast::error_code read_ec, std::size_t) {
        if (read_ec) {
          failure = read_ec;
          stage = "read";
        }
      });
    });
  });
  io.run();
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  if (failure) {
    result.error = stage + " " + url + ": " + failure.message();
    return result;
  }
  result.status = static_cast<int>(res.result_int());
  result.body = res.body();
  result.content_type = std::string(res[http::field::content_type]);
  return result;
}

}  // namespace postwire::testing
