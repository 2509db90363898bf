// The test support itself, against the real parts it drives: when an
// integration test fails, these tell a broken harness from a broken daemon.
#include <gtest/gtest.h>

#include <csignal>

#include <string>
#include <vector>

#include "support/daemon.hpp"
#include "support/http_get.hpp"
#include "support/http_server.hpp"
#include "support/json_schema.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/process.hpp"
#include "support/promtool.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

TEST(SupportTest, SubprocessCapturesOutputAndTalksOnStdin) {
  // More than a pipe buffer on stdout must not deadlock.
  Subprocess p(
      {"sh", "-c", "echo one; echo two >&2; read x; echo got $x; head -c 300000 /dev/zero | tr '\\0' a"});
  EXPECT_EQ(p.read_line_stdout(std::chrono::seconds(30)).value_or("<none>"), "one");
  ASSERT_TRUE(p.write_stdin("hello\n"));
  EXPECT_EQ(p.read_line_stdout(std::chrono::seconds(30)).value_or("<none>"), "got hello");
  EXPECT_EQ(p.wait(std::chrono::seconds(30)), 0);
  EXPECT_EQ(p.stderr_text(), "two\n");
  EXPECT_EQ(p.stdout_text().size(), 4u + 10u + 300000u);
}

TEST(SupportTest, SubprocessEnvWorkingDirSignalsAndRun) {
  SpawnOptions options;
  options.env = {{"POSTWIRE_TEST_VAR", "bar"}};
  options.working_dir = "/";
  Subprocess p({"sh", "-c", "echo $POSTWIRE_TEST_VAR; pwd; exec sleep 300"}, options);
  EXPECT_EQ(p.read_line_stdout(std::chrono::seconds(30)).value_or("<none>"), "bar");
  EXPECT_EQ(p.read_line_stdout(std::chrono::seconds(30)).value_or("<none>"), "/");
  EXPECT_TRUE(p.running());
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(std::chrono::seconds(30)), 128 + SIGTERM);
  EXPECT_EQ(p.term_signal(), SIGTERM);

  const RunResult r = run({"sh", "-c", "cat; echo err >&2; exit 3"}, std::chrono::seconds(30), {}, "input");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "input");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_THROW(Subprocess({"/nonexistent/postwire-test-binary"}), std::runtime_error);
}

TEST(SupportTest, HttpServerServesRoutesAndCountsRequests) {
  HttpServer server;
  server.set_route("/feed.xml",
                   HttpServer::Response{200, "<rss/>", "application/rss+xml", {{"ETag", "\"v1\""}}});
  const HttpResult ok = http_get(server.url("/feed.xml?ignored=1"));
  EXPECT_EQ(ok.status, 200) << ok.error;
  EXPECT_EQ(ok.body, "<rss/>");
  EXPECT_EQ(ok.content_type, "application/rss+xml");
  EXPECT_EQ(http_get(server.url("/missing")).status, 404);
  EXPECT_EQ(server.request_count("/feed.xml"), 1);
  EXPECT_EQ(server.request_count("/missing"), 1);
  EXPECT_EQ(http_get("http://127.0.0.1:1/").status, 0) << "connection refused reads as status 0";
}

TEST(SupportTest, MockBrokerRoundTripAndOutageCommands) {
  MockBroker broker;
  ASSERT_FALSE(broker.bootstrap().empty());
  EXPECT_TRUE(consume_all(broker.bootstrap(), "postwire.posts").empty());
  EXPECT_TRUE(consume_all(broker.bootstrap(), "postwire.no-such-topic").empty());
  produce_one(broker.bootstrap(), "postwire.posts", "k1", R"({"n":1})", {{"ce_id", "e_1"}});
  produce_one(broker.bootstrap(), "postwire.posts", "k2", R"({"n":2})");
  const auto messages = consume_all(broker.bootstrap(), "postwire.posts");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(message_count(broker.bootstrap(), "postwire.posts"), 2);
  for (const auto& m : messages) {
    EXPECT_EQ(m.topic, "postwire.posts");
    if (m.key == "k1") {
      EXPECT_EQ(m.value, R"({"n":1})");
      EXPECT_EQ(m.header("ce_id").value_or("<missing>"), "e_1");
    } else {
      EXPECT_EQ(m.key, "k2");
      EXPECT_TRUE(m.headers.empty());
    }
  }
  broker.broker_down(1);
  broker.broker_up(1);
  EXPECT_THROW(broker.broker_down(99), std::runtime_error);
}

TEST(SupportTest, SchemaValidatorChecksFormatsAndReportsLines) {
  TempDir dir;
  write_file(dir / "schema.json", R"({"$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object", "required": ["t"],
    "properties": {"t": {"type": "string", "format": "date-time"}}})");
  const std::string schema = (dir / "schema.json").string();
  EXPECT_EQ(validate_events({R"({"t":"2024-01-02T03:04:05Z"})"}, schema), "");
  const std::string report =
      validate_events({R"({"t":"2024-01-02T03:04:05Z"})", R"({"t":"yesterday"})", "{}"}, schema);
  EXPECT_NE(report.find("line 2"), std::string::npos) << report;
  EXPECT_NE(report.find("line 3"), std::string::npos) << report;
  EXPECT_EQ(report.find("line 1"), std::string::npos) << report;
}

TEST(SupportTest, PromtoolAcceptsCleanTextAndRejectsLintAndSyntax) {
  EXPECT_EQ(promtool_check_metrics("# HELP x_total A counter.\n# TYPE x_total counter\nx_total 1\n"), "");
  EXPECT_NE(promtool_check_metrics("# TYPE x counter\nx 1\n"), "") << "lint problems must fail";
  EXPECT_NE(promtool_check_metrics("garbage{{{\n"), "");
}

TEST(SupportTest, MetricLookupAndOnceSummaryParsing) {
  const std::string text =
      "# TYPE a counter\na{topic=\"p\",x=\"1\"} 3\na{topic=\"q\"} 4\nb 1.5e3\nc{l=\"with \\\"quote\\\"\"} "
      "2\n";
  EXPECT_EQ(metric_value(text, "a", {{"topic", "p"}}), 3.0);
  EXPECT_EQ(metric_value(text, "a"), 7.0);
  EXPECT_EQ(metric_value(text, "b"), 1500.0);
  EXPECT_EQ(metric_value(text, "c", {{"l", "with \"quote\""}}), 2.0);
  EXPECT_FALSE(metric_value(text, "a", {{"topic", "r"}}));
  EXPECT_FALSE(metric_value(text, "d"));
  const auto summary = parse_once_summary(
      "noise\n{\"sources\":2,\"published\":5,\"duplicates\":1,\"errors\":0,\"dead_lettered\":0}\n");
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->sources, 2);
  EXPECT_EQ(summary->published, 5);
  EXPECT_EQ(summary->duplicates, 1);
  EXPECT_FALSE(parse_once_summary("no json here\n"));
}

}  // namespace
}  // namespace postwire::testing
