#include "postwire/daemon/http_fetcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "support/http_server.hpp"
#include "support/temp_dir.hpp"

namespace postwire {
namespace {

using testing::HttpServer;

Result<Document> fetch(FetchRequest request) {
  boost::asio::io_context io;
  HttpFetcher fetcher(io, {});
  std::optional<Result<Document>> out;
  boost::asio::co_spawn(
      io, [&]() -> boost::asio::awaitable<void> { out.emplace(co_await fetcher.fetch(request)); },
      boost::asio::detached);
  io.run();
  return std::move(*out);
}

FetchRequest req(std::string url) {
  FetchRequest r;
  r.url = std::move(url);
  r.timeout = std::chrono::seconds(20);
  return r;
}

TEST(HttpFetcher, FetchesBodyAndValidators) {
  HttpServer server;
  server.set_route("/feed.xml", HttpServer::Response{200,
                                                     "<rss/>",
                                                     "application/rss+xml",
                                                     {{"ETag", "\"v1\""},
                                                      {"Last-Modified", "Sun, 22 Jul 2007 16:09:00 GMT"}}});
  auto doc = fetch(req(server.url("/feed.xml")));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->body, "<rss/>");
  EXPECT_EQ(doc->status, 200);
  EXPECT_EQ(doc->content_type, "application/rss+xml");
  EXPECT_EQ(doc->etag, "\"v1\"");
  EXPECT_EQ(doc->last_modified, "Sun, 22 Jul 2007 16:09:00 GMT");
  EXPECT_EQ(doc->final_url, server.url("/feed.xml"));
}

TEST(HttpFetcher, SendsConditionalHeadersAndHandles304) {
  HttpServer server;
  server.set_route("/feed.xml", HttpServer::Response{304, "", "text/plain", {}});
  auto r = req(server.url("/feed.xml"));
  r.if_none_match = "\"v1\"";
  auto doc = fetch(r);
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_TRUE(doc->not_modified);
  bool saw = false;
  for (const auto& request : server.requests()) {
    for (const auto& [k, v] : request.headers) {
      if ((k == "If-None-Match" || k == "if-none-match") && v == "\"v1\"") saw = true;
    }
  }
  EXPECT_TRUE(saw);
}

TEST(HttpFetcher, StatusErrorsAreClassified) {
  HttpServer server;
  server.set_route("/gone", HttpServer::Response{410, "gone", "text/plain", {}});
  server.set_route("/boom", HttpServer::Response{500, "boom", "text/plain", {}});
  EXPECT_EQ(fetch(req(server.url("/missing"))).error().code, Errc::not_found);
  EXPECT_EQ(fetch(req(server.url("/gone"))).error().code, Errc::not_found);
  auto boom = fetch(req(server.url("/boom")));
  ASSERT_FALSE(boom);
  EXPECT_EQ(boom.error().code, Errc::http_status);
  EXPECT_NE(boom.error().message.find("HTTP 500"), std::string::npos);
}

TEST(HttpFetcher, FollowsRedirectsAndReportsTheFinalUrl) {
  HttpServer server;
  server.set_route("/old", HttpServer::Response{301, "", "text/plain", {{"Location", "/new"}}});
  server.set_route("/new", "moved here", "text/plain");
  auto doc = fetch(req(server.url("/old")));
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ(doc->body, "moved here");
  EXPECT_EQ(doc->final_url, server.url("/new"));
}

TEST(HttpFetcher, CapsTheSizeWhileReading) {
  HttpServer server;
  server.set_route("/big", std::string(100000, 'x'), "text/plain");
  auto r = req(server.url("/big"));
  r.max_bytes = 1000;
  auto doc = fetch(r);
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, Errc::too_large);
}

TEST(HttpFetcher, ConnectionRefusedIsANetworkError) {
  auto doc = fetch(req("http://127.0.0.1:1/feed"));
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code, Errc::network);
  EXPECT_NE(doc.error().message.find("127.0.0.1:1"), std::string::npos);
}

TEST(HttpFetcher, RejectsOtherSchemes) {
  EXPECT_EQ(fetch(req("ftp://example.com/x")).error().code, Errc::invalid_argument);
  EXPECT_EQ(fetch(req("gopher://example.com/x")).error().code, Errc::invalid_argument);
}

TEST(HttpFetcher, ManyConcurrentFetchesOnOneLoop) {
  HttpServer server;
  for (int i = 0; i < 20; ++i)
    server.set_route("/f" + std::to_string(i), "body" + std::to_string(i), "text/plain");
  boost::asio::io_context io;
  HttpFetcher fetcher(io, {});
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> boost::asio::awaitable<void> {
          auto doc = co_await fetcher.fetch(req(server.url("/f" + std::to_string(i))));
          if (doc && doc->body == "body" + std::to_string(i)) ++ok;
        },
        boost::asio::detached);
  }
  io.run();
  EXPECT_EQ(ok, 20);
}

TEST(FileUrl, ReadsCapsAndReportsMissingFiles) {
  testing::TempDir dir;
  testing::write_file(dir / "feed.xml", "<rss/>");
  auto doc = read_file_url("file://" + (dir / "feed.xml").string(), 1000);
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->body, "<rss/>");
  auto missing = read_file_url("file://" + (dir / "nope.xml").string(), 1000);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_NE(missing.error().message.find("nope.xml"), std::string::npos);
  EXPECT_EQ(read_file_url("file://" + (dir / "feed.xml").string(), 3).error().code, Errc::too_large);
  EXPECT_EQ(read_file_url("file://" + dir.str(), 1000).error().code, Errc::io);
}

TEST(FileUrl, ReadsWholeFilesOfEverySize) {
  testing::TempDir dir;
  for (const std::size_t size :
       {std::size_t{0}, std::size_t{1}, std::size_t{4095}, std::size_t{65536}, std::size_t{200001}}) {
    std::string content(size, 'x');
    for (std::size_t i = 0; i < size; i += 997) content[i] = static_cast<char>('a' + i % 26);
    const auto path = dir / ("f" + std::to_string(size));
    testing::write_file(path, content);
    auto doc = read_file_url("file://" + path.string(), 1 << 20);
    ASSERT_TRUE(doc) << size;
    EXPECT_EQ(doc->body, content) << size;
  }
  // Exactly at the cap is allowed; one byte more is not.
  testing::write_file(dir / "cap", std::string(100, 'y'));
  EXPECT_TRUE(read_file_url("file://" + (dir / "cap").string(), 100));
  EXPECT_EQ(read_file_url("file://" + (dir / "cap").string(), 99).error().code, Errc::too_large);
}

TEST(FileUrl, ReadsFilesThatDoNotKnowTheirSize) {
  // procfs says 0 bytes and hands out about a page per read(): the size from
  // fstat must not end the read early.
  auto doc = read_file_url("file:///proc/self/maps", 1 << 20);
  ASSERT_TRUE(doc);
  EXPECT_GT(doc->body.size(), 4096U);
  EXPECT_EQ(doc->body.back(), '\n');
}

}  // namespace
}  // namespace postwire
