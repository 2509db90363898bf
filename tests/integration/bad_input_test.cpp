// What `postwire once` does with bad input: a feed that is not XML, a missing
// file:// document, an unreachable host (exit 2, a log line with the source id
// and a reason token, the good source still published, and after the fix only
// the missing events go out), and an invalid configuration (exit 78 with
// FILE:LINE:COL errors from both `check` and `once`).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postwire/schema/ids.hpp"
#include "support/daemon.hpp"
#include "support/feeds.hpp"
#include "support/http_server.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

constexpr const char* kPosts = "postwire.posts";

std::string describe(const RunResult& r) {
  return "exit=" + (r.exit_code ? std::to_string(*r.exit_code) : std::string("timeout")) + "\n--- stdout:\n" +
         r.out + "\n--- stderr:\n" + r.err;
}

RssChannel site(const std::string& name, int posts) {
  RssChannel channel;
  channel.title = "Site " + name;
  channel.link = "http://" + name + ".example/";
  channel.description = name;
  for (int i = 1; i <= posts; ++i) {
    RssItem item;
    item.guid = "http://" + name + ".example/?p=" + std::to_string(i);
    item.title = name + " post " + std::to_string(i);
    item.link = "http://" + name + ".example/" + std::to_string(i);
    item.description = "Words of " + name + " " + std::to_string(i);
    channel.items.push_back(item);
  }
  return channel;
}

// True if a line of `log` names `source` and carries `reason` as a token
// (e.g. "reason=parse", "reason":"parse").
bool has_log_line(const std::string& log, const std::string& source, const std::string& reason) {
  const std::regex token("(^|[^a-z0-9_])" + reason + "([^a-z0-9_]|$)");
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find(source) != std::string::npos && std::regex_search(line, token)) return true;
  }
  return false;
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override { http_.set_route("/good.xml", rss_document(good_), "application/rss+xml"); }

  std::string good_yaml() const { return feed_source_yaml("good", http_.url("/good.xml")); }

  // The whole scenario: `bad_source_yaml` fails with `reason`; then `fix()`
  // (which may return a new YAML for the bad source) makes it work.
  void run_scenario(const std::string& bad_id, const std::string& bad_source_yaml, const std::string& reason,
                    const std::function<std::string()>& fix) {
    ConfigFile config = write_config(dir_.str(), broker_.bootstrap(), good_yaml() + bad_source_yaml);
    const RunResult failing = postwire({"once", "--config", config.path});
    EXPECT_EQ(failing.exit_code, 2) << describe(failing);
    const auto summary = parse_once_summary(failing.out);
    ASSERT_TRUE(summary) << "no JSON summary line\n" << describe(failing);
    EXPECT_EQ(summary->sources, 2);
    EXPECT_EQ(summary->errors, 1) << describe(failing);
    EXPECT_EQ(summary->published, static_cast<long>(good_.items.size())) << describe(failing);
    EXPECT_TRUE(has_log_line(failing.err, bad_id, reason))
        << "no stderr line naming source '" << bad_id << "' with reason '" << reason << "'\n"
        << failing.err;

    // The good source went out in full.
    std::set<std::string> keys;
    for (const auto& m : consume_all(broker_.bootstrap(), kPosts)) keys.insert(m.key);
    for (const auto& item : good_.items)
      EXPECT_EQ(keys.count(make_post_id("good", item.guid)), 1u) << item.guid;
    ASSERT_EQ(keys.size(), good_.items.size());

    // Fix the source: the re-run publishes only what was missing.
    const std::string fixed_yaml = fix();
    if (!fixed_yaml.empty()) config = write_config(dir_.str(), broker_.bootstrap(), good_yaml() + fixed_yaml);
    const RunResult fixed = postwire({"once", "--config", config.path});
    EXPECT_EQ(fixed.exit_code, 0) << describe(fixed);
    const auto after = parse_once_summary(fixed.out);
    ASSERT_TRUE(after) << describe(fixed);
    EXPECT_EQ(after->errors, 0) << describe(fixed);
    EXPECT_EQ(after->published, static_cast<long>(bad_.items.size())) << describe(fixed);
    EXPECT_EQ(after->duplicates, static_cast<long>(good_.items.size())) << describe(fixed);

    const auto messages = consume_all(broker_.bootstrap(), kPosts);
    EXPECT_EQ(messages.size(), good_.items.size() + bad_.items.size());
    std::set<std::string> ids;
    std::set<std::string> event_ids;
    for (const auto& m : messages) {
      EXPECT_TRUE(ids.insert(m.key).second) << "post published twice: " << m.value;
      const auto payload = nlohmann::json::parse(m.value, nullptr, false);
      ASSERT_TRUE(payload.is_object()) << m.value;
      EXPECT_TRUE(event_ids.insert(payload.value("event_id", "")).second) << m.value;
    }
    for (const auto& item : bad_.items)
      EXPECT_EQ(ids.count(make_post_id(bad_id, item.guid)), 1u) << item.guid;
  }

  TempDir dir_{"postwire-bad"};
  MockBroker broker_;
  HttpServer http_;
  RssChannel good_ = site("good", 2);
  RssChannel bad_ = site("bad", 3);
};

TEST_F(BadInputTest, FeedThatIsNotXmlFailsItsSourceOnly) {
  http_.set_route("/bad.xml", "<<<garbage", "application/rss+xml");
  run_scenario("bad-xml", feed_source_yaml("bad-xml", http_.url("/bad.xml")), "parse", [this] {
    http_.set_route("/bad.xml", rss_document(bad_), "application/rss+xml");
    return std::string();
  });
}

TEST_F(BadInputTest, MissingFileFailsItsSourceOnly) {
  const auto path = dir_ / "feeds" / "missing.xml";
  run_scenario("missing-file", feed_source_yaml("missing-file", file_url(path)), "not_found", [this, path] {
    write_file(path, rss_document(bad_));
    return std::string();
  });
}

TEST_F(BadInputTest, UnreachableHostFailsItsSourceOnly) {
  // Port 1 on loopback: nothing listens there, the connection is refused.
  run_scenario("unreachable", feed_source_yaml("unreachable", "http://127.0.0.1:1/feed"), "network", [this] {
    http_.set_route("/moved.xml", rss_document(bad_), "application/rss+xml");
    return feed_source_yaml("unreachable", http_.url("/moved.xml"));
  });
}

// docs/telemetry.md: with log.format json every stderr line is one JSON object
// with at least time, level, msg, and a source warning carries source and reason.
TEST_F(BadInputTest, JsonLogsNameSourceAndReasonAsFields) {
  http_.set_route("/bad.xml", "<<<garbage", "application/rss+xml");
  const ConfigFile config = write_config(dir_.str(), broker_.bootstrap(),
                                         good_yaml() + feed_source_yaml("bad-xml", http_.url("/bad.xml")));
  const RunResult r = postwire({"once", "--config", config.path, "--log-format", "json"});
  EXPECT_EQ(r.exit_code, 2) << describe(r);
  bool found = false;
  std::istringstream lines(r.err);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const auto record = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(record.is_object()) << "stderr line is not a JSON object: " << line;
    EXPECT_TRUE(record.contains("time") && record.contains("level") && record.contains("msg")) << line;
    if (record.value("source", "") == "bad-xml" && record.value("reason", "") == "parse") found = true;
  }
  EXPECT_TRUE(found) << "no JSON log record with \"source\":\"bad-xml\" and \"reason\":\"parse\"\n" << r.err;
}

// Line of the first occurrence of `needle` in `text`, 1-based.
int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
}

// "<file>:<line>:<col>: message" lines of `output` for `file`, as line -> message.
std::multimap<int, std::string> located_errors(const std::string& output, const std::string& file) {
  std::multimap<int, std::string> out;
  std::string canonical = file;
  std::error_code ec;
  const auto resolved = std::filesystem::canonical(file, ec);
  if (!ec) canonical = resolved.string();
  const std::regex located("^(.*):([0-9]+):([0-9]+): (.+)$");
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, located)) continue;
    if (m[1] != file && m[1] != canonical) continue;
    if (std::stoi(m[3]) < 1) continue;
    out.emplace(std::stoi(m[2]), m[4]);
  }
  return out;
}

TEST_F(BadInputTest, InvalidConfigIsRejectedWithFileLineColumn) {
  http_.set_route("/bad.xml", rss_document(bad_), "application/rss+xml");
  const std::string sources =
      "  - id: good\n"
      "    type: feed\n"
      "    url: \"" +
      http_.url("/good.xml") +
      "\"\n"
      "    interval: 5 parsecs\n"
      "  - type: feed\n"
      "    url: \"" +
      http_.url("/bad.xml") +
      "\"\n"
      "    interval: 1s\n";
  const ConfigFile config = write_config(dir_.str(), broker_.bootstrap(), sources, "frobnicate: true\n");
  const std::string text = read_file(config.path);
  const int duration_line = line_of(text, "5 parsecs");
  const int missing_id_line = line_of(text, "  - type: feed");
  const int unknown_key_line = line_of(text, "frobnicate");
  ASSERT_GT(duration_line, 0);
  ASSERT_GT(missing_id_line, 0);
  ASSERT_GT(unknown_key_line, 0);

  const RunResult check = postwire({"check", "--config", config.path});
  EXPECT_EQ(check.exit_code, 78) << describe(check);
  const auto errors = located_errors(check.out + check.err, config.path);
  EXPECT_EQ(errors.count(duration_line), 1u) << "bad duration not reported at line " << duration_line << "\n"
                                             << describe(check);
  EXPECT_EQ(errors.count(missing_id_line), 1u)
      << "missing id not reported at line " << missing_id_line << "\n"
      << describe(check);
  EXPECT_EQ(errors.count(unknown_key_line), 1u)
      << "unknown key not reported at line " << unknown_key_line << "\n"
      << describe(check);
  if (const auto it = errors.find(unknown_key_line); it != errors.end()) {
    EXPECT_NE(it->second.find("frobnicate"), std::string::npos) << it->second;
  }

  const RunResult once = postwire({"once", "--config", config.path});
  EXPECT_EQ(once.exit_code, 78) << describe(once);
  EXPECT_EQ(located_errors(once.out + once.err, config.path).size(), 3u) << describe(once);
  EXPECT_EQ(message_count(broker_.bootstrap(), kPosts), 0)
      << "nothing may be published with an invalid config";
}

}  // namespace
}  // namespace postwire::testing
