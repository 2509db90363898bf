// `postwire run` as a daemon: publishes to a real broker, serves /metrics
// (checked by the real promtool), /healthz and /readyz, reloads its sources
// on SIGHUP (and survives an invalid reload), and stops cleanly on SIGTERM.
#include <gtest/gtest.h>

#include <csignal>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postwire/schema/ids.hpp"
#include "support/daemon.hpp"
#include "support/feeds.hpp"
#include "support/http_get.hpp"
#include "support/http_server.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/promtool.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

constexpr const char* kPosts = "postwire.posts";
constexpr const char* kComments = "postwire.comments";
constexpr auto kDeadline = std::chrono::seconds(60);

// A small RSS site: `posts` posts, the first with a two-comment feed.
RssChannel make_site(HttpServer& http, const std::string& name, int posts) {
  RssChannel channel;
  channel.title = "Site " + name;
  channel.link = "http://" + name + ".example/";
  channel.description = "The " + name + " site";
  channel.language = "en";
  for (int i = 1; i <= posts; ++i) {
    RssItem item;
    item.guid = "http://" + name + ".example/?p=" + std::to_string(i);
    item.title = name + " post " + std::to_string(i);
    item.link = "http://" + name + ".example/post-" + std::to_string(i);
    item.description = "Text of " + name + " post " + std::to_string(i);
    static const char* const kWeekdays[] = {"Wed", "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed", "Thu"};
    item.pub_date =
        std::string(kWeekdays[(i - 1) % 9]) + ", 0" + std::to_string(i) + " May 2024 12:00:00 +0000";
    if (i == 1) {
      item.comments_feed = http.url("/" + name + "/comments-1.xml");
      RssChannel comments;
      comments.title = "Comments";
      comments.link = item.link;
      comments.description = "Comments";
      for (int c = 1; c <= 2; ++c) {
        RssItem comment;
        comment.guid = item.guid + "&c=" + std::to_string(c);
        comment.title = "By: reader";
        comment.description = "Comment " + std::to_string(c);
        comment.author = "Reader " + std::to_string(c);
        comments.items.push_back(comment);
      }
      http.set_route("/" + name + "/comments-1.xml", rss_document(comments), "application/rss+xml");
    }
    channel.items.push_back(item);
  }
  http.set_route("/" + name + "/feed.xml", rss_document(channel), "application/rss+xml");
  return channel;
}

std::string count_message(const std::string& bootstrap, const std::string& topic, std::int64_t want,
                          const RunningDaemon& daemon) {
  return "topic " + topic + " holds " + std::to_string(message_count(bootstrap, topic)) + " messages, want " +
         std::to_string(want) + "; daemon stderr:\n" + daemon.stderr_text();
}

class RunTest : public ::testing::Test {
 protected:
  bool wait_for_count(const std::string& topic, std::int64_t want) {
    return wait_until([&] { return message_count(broker_.bootstrap(), topic) >= want; }, kDeadline,
                      std::chrono::milliseconds(50));
  }

  TempDir dir_{"postwire-run"};
  MockBroker broker_;
  HttpServer http_;
};

TEST_F(RunTest, PublishesServesMetricsAndHealthAndStopsOnSigterm) {
  const RssChannel site = make_site(http_, "alpha", 3);  // 3 posts, 2 comments
  const ConfigFile config =
      write_config(dir_.str(), broker_.bootstrap(), feed_source_yaml("alpha", http_.url("/alpha/feed.xml")));
  RunningDaemon daemon(config);

  ASSERT_TRUE(wait_for_count(kPosts, 3)) << count_message(broker_.bootstrap(), kPosts, 3, daemon);
  ASSERT_TRUE(wait_for_count(kComments, 2)) << count_message(broker_.bootstrap(), kComments, 2, daemon);

  // Let at least two polls complete: the second one must not publish again.
  ASSERT_TRUE(daemon.wait_for_metric_at_least("postwire_source_polls_total",
                                              {{"source", "alpha"}, {"outcome", "ok"}}, 2, kDeadline))
      << daemon.metrics() << "\nstderr:\n"
      << daemon.stderr_text();
  EXPECT_EQ(message_count(broker_.bootstrap(), kPosts), 3);
  EXPECT_EQ(message_count(broker_.bootstrap(), kComments), 2);

  const HttpResult scrape = http_get(daemon.admin_url("/metrics"));
  ASSERT_EQ(scrape.status, 200) << scrape.error;
  EXPECT_EQ(scrape.content_type.rfind("text/plain", 0), 0u) << scrape.content_type;
  const std::string& text = scrape.body;
  EXPECT_EQ(promtool_check_metrics(text), "") << text;

  EXPECT_EQ(metric_value(text, "postwire_events_published_total", {{"topic", kPosts}}), 3.0) << text;
  EXPECT_EQ(metric_value(text, "postwire_events_published_total", {{"topic", kComments}}), 2.0) << text;
  EXPECT_GE(
      metric_value(text, "postwire_source_polls_total", {{"source", "alpha"}, {"outcome", "ok"}}).value_or(0),
      1.0)
      << text;
  EXPECT_EQ(
      metric_value(text, "postwire_items_total", {{"source", "alpha"}, {"kind", "post"}, {"result", "new"}}),
      3.0)
      << text;
  EXPECT_EQ(metric_value(text, "postwire_items_total",
                         {{"source", "alpha"}, {"kind", "comment"}, {"result", "new"}}),
            2.0)
      << text;
  EXPECT_EQ(metric_value(text, "postwire_build_info"), 1.0) << text;
  EXPECT_GT(metric_value(text, "process_resident_memory_bytes").value_or(0), 0.0) << text;

  const HttpResult health = http_get(daemon.admin_url("/healthz"));
  EXPECT_EQ(health.status, 200) << health.error << health.body;
  HttpResult ready;
  EXPECT_TRUE(wait_until(
      [&] {
        ready = http_get(daemon.admin_url("/readyz"));
        return ready.status == 200;
      },
      kDeadline, std::chrono::milliseconds(50)))
      << "/readyz answered " << ready.status << " " << ready.body << ready.error;

  const auto code = daemon.terminate(kDeadline);
  ASSERT_TRUE(code) << "postwire run did not exit within 60s of SIGTERM; stderr:\n" << daemon.stderr_text();
  EXPECT_EQ(*code, 0) << daemon.stderr_text();
}

TEST_F(RunTest, SighupAddsSourcesAndSurvivesAnInvalidConfig) {
  make_site(http_, "alpha", 2);  // 2 posts, 2 comments
  const std::string alpha = feed_source_yaml("alpha", http_.url("/alpha/feed.xml"));
  ConfigFile config = write_config(dir_.str(), broker_.bootstrap(), alpha);
  RunningDaemon daemon(config);
  ASSERT_TRUE(wait_for_count(kPosts, 2)) << count_message(broker_.bootstrap(), kPosts, 2, daemon);

  // Reload with a second source.
  const RssChannel beta = make_site(http_, "beta", 3);  // 3 posts, 2 comments
  config = write_config(dir_.str(), broker_.bootstrap(),
                        alpha + feed_source_yaml("beta", http_.url("/beta/feed.xml")));
  daemon.process().signal(SIGHUP);
  ASSERT_TRUE(wait_for_count(kPosts, 5)) << count_message(broker_.bootstrap(), kPosts, 5, daemon);
  ASSERT_TRUE(wait_for_count(kComments, 4)) << count_message(broker_.bootstrap(), kComments, 4, daemon);
  EXPECT_TRUE(
      daemon.wait_for_metric_at_least("postwire_config_reloads_total", {{"outcome", "ok"}}, 1, kDeadline))
      << daemon.metrics();

  std::set<std::string> keys;
  for (const auto& m : consume_all(broker_.bootstrap(), kPosts)) {
    const auto payload = nlohmann::json::parse(m.value, nullptr, false);
    ASSERT_FALSE(payload.is_discarded()) << m.value;
    keys.insert(m.key);
  }
  EXPECT_EQ(keys.size(), 5u) << "each post published once";
  for (const auto& item : beta.items) EXPECT_EQ(keys.count(make_post_id("beta", item.guid)), 1u) << item.guid;

  // An invalid file: rejected, counted, the daemon carries on with the old sources.
  write_file(config.path, read_file(config.path) + "no_such_key: 1\n");
  daemon.process().signal(SIGHUP);
  EXPECT_TRUE(
      daemon.wait_for_metric_at_least("postwire_config_reloads_total", {{"outcome", "error"}}, 1, kDeadline))
      << daemon.metrics() << "\nstderr:\n"
      << daemon.stderr_text();
  ASSERT_TRUE(daemon.process().running()) << daemon.stderr_text();
  EXPECT_EQ(http_get(daemon.admin_url("/healthz")).status, 200);
  const double polls =
      daemon.metric_value("postwire_source_polls_total", {{"source", "beta"}, {"outcome", "ok"}}).value_or(0);
  EXPECT_TRUE(daemon.wait_for_metric_at_least("postwire_source_polls_total",
                                              {{"source", "beta"}, {"outcome", "ok"}}, polls + 1, kDeadline))
      << "beta stopped polling after the rejected reload\n"
      << daemon.metrics();
  EXPECT_EQ(message_count(broker_.bootstrap(), kPosts), 5);

  const auto code = daemon.terminate(kDeadline);
  ASSERT_TRUE(code) << "postwire run did not exit within 60s of SIGTERM; stderr:\n" << daemon.stderr_text();
  EXPECT_EQ(*code, 0) << daemon.stderr_text();
}

}  // namespace
}  // namespace postwire::testing
