// Ids that stay put when sources misbehave, and syndicated copies across sites.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "postwire/schema/ids.hpp"
#include "support/daemon.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

using namespace std::chrono_literals;

std::string rss(const std::string& guid, const std::string& link, const std::string& title,
                const std::string& body) {
  return R"(<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://t.example/</link>
<item><title>)" +
         title + "</title><link>" + link + "</link><guid isPermaLink=\"false\">" + guid +
         "</guid><description>" + body + "</description></item></channel></rss>\n";
}

std::vector<nlohmann::json> posts(const std::string& bootstrap) {
  std::vector<nlohmann::json> out;
  for (const auto& m : consume_all(bootstrap, "postwire.posts", 60s))
    out.push_back(nlohmann::json::parse(m.value));
  return out;
}

TEST(Identity, ReissuedGuidForTheSameLinkKeepsTheFirstId) {
  TempDir dir;
  MockBroker broker;
  const auto feed = dir / "feed.xml";
  write_file(feed, rss("guid-run-1", "http://t.example/story", "Story", "Body text"));
  const ConfigFile config =
      write_config(dir.str(), broker.bootstrap(), feed_source_yaml("t", file_url(feed)));
  ASSERT_EQ(postwire({"once", "--config", config.path}).exit_code, 0);
  // The source regenerates every guid on each fetch; the link stays.
  write_file(feed, rss("guid-run-2", "http://t.example/story", "Story", "Body text"));
  const RunResult same = postwire({"once", "--config", config.path});
  ASSERT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(parse_once_summary(same.out)->published, 0);
  write_file(feed, rss("guid-run-3", "http://t.example/story", "Story", "Body text, corrected"));
  ASSERT_EQ(postwire({"once", "--config", config.path}).exit_code, 0);

  const auto events = posts(broker.bootstrap());
  ASSERT_EQ(events.size(), 2U);
  EXPECT_EQ(events[1]["event_type"], "updated");
  EXPECT_EQ(events[1]["post"]["id"], events[0]["post"]["id"]);
  EXPECT_EQ(events[0]["post"]["id"], make_post_id("t", "guid-run-1"));
  EXPECT_EQ(events[1]["version"], 2);
}

TEST(Identity, CosmeticChangesAreNotEdits) {
  TempDir dir;
  MockBroker broker;
  const auto feed = dir / "feed.xml";
  auto doc = [](const std::string& link, const std::string& body, const std::string& cats) {
    return R"(<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>http://t.example/</link>
<item><title>Story</title><link>)" +
           link + "</link><guid isPermaLink=\"false\">g-1</guid>" + cats + "<description>" + body +
           "</description></item></channel></rss>\n";
  };
  write_file(feed, doc("http://t.example/story", "<p>Body text here.</p>",
                       "<category>Iran</category><category>Iraq</category>"));
  const ConfigFile config =
      write_config(dir.str(), broker.bootstrap(), feed_source_yaml("t", file_url(feed)));
  ASSERT_EQ(postwire({"once", "--config", config.path}).exit_code, 0);
  // Re-flowed white space, a tracking parameter on the link, categories reordered.
  write_file(feed, doc("http://t.example/story?utm_source=rss&amp;utm_medium=feed",
                       "<p>Body   text\n here.</p>", "<category>Iraq</category><category>Iran</category>"));
  const RunResult r = postwire({"once", "--config", config.path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_once_summary(r.out)->published, 0);
  EXPECT_EQ(parse_once_summary(r.out)->duplicates, 1);
}

TEST(Identity, SyndicatedCopyOnAnotherSiteNamesTheFirst) {
  TempDir dir;
  MockBroker broker;
  std::string body;
  for (int i = 0; i < 12; ++i) body += "The ambassadors will meet this week in Baghdad to discuss security. ";
  write_file(dir / "a.xml", rss("a-1", "http://a.example/story", "Wire story", body));
  write_file(dir / "b.xml", rss("b-9", "http://b.example/reprint", "Wire story", body));
  write_file(dir / "c.xml",
             rss("c-1", "http://c.example/other", "Other", "Something else entirely, and short."));
  const std::string sources = feed_source_yaml("site-a", file_url(dir / "a.xml"));
  const ConfigFile config = write_config(dir.str(), broker.bootstrap(), sources);
  ASSERT_EQ(postwire({"once", "--config", config.path}).exit_code, 0);
  // The copy appears later on a second site, and a third site with its own story.
  const ConfigFile both = write_config(dir.str(), broker.bootstrap(),
                                       sources + feed_source_yaml("site-b", file_url(dir / "b.xml")) +
                                           feed_source_yaml("site-c", file_url(dir / "c.xml")));
  ASSERT_EQ(postwire({"once", "--config", both.path}).exit_code, 0);

  const std::string first = make_post_id("site-a", "a-1");
  int copies = 0;
  for (const auto& e : posts(broker.bootstrap())) {
    if (e["source"]["id"] == "site-b") {
      EXPECT_EQ(e["post"]["duplicate_of"], first);
      ++copies;
    } else {
      EXPECT_TRUE(e["post"]["duplicate_of"].is_null()) << e.dump();
    }
  }
  EXPECT_EQ(copies, 1);
}

TEST(Identity, CrossSourceDropPublishesNoCopy) {
  TempDir dir;
  MockBroker broker;
  std::string body;
  for (int i = 0; i < 12; ++i) body += "Congress debated the report late into the night in Washington. ";
  write_file(dir / "a.xml", rss("a-1", "http://a.example/story", "Wire story", body));
  write_file(dir / "b.xml", rss("b-9", "http://b.example/reprint", "Wire story", body));
  const std::string sources = feed_source_yaml("site-a", file_url(dir / "a.xml"));
  ASSERT_EQ(
      postwire({"once", "--config", write_config(dir.str(), broker.bootstrap(), sources).path}).exit_code, 0);
  const ConfigFile both = write_config(
      dir.str(), broker.bootstrap(),
      sources + feed_source_yaml("site-b", file_url(dir / "b.xml")) + "    cross_source: drop\n");
  const RunResult r = postwire({"once", "--config", both.path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_once_summary(r.out)->published, 0);
  // Seen again, the dropped copy is a plain duplicate of what was handled.
  const RunResult again = postwire({"once", "--config", both.path});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(parse_once_summary(again.out)->published, 0);
  EXPECT_EQ(parse_once_summary(again.out)->duplicates, 2);
  EXPECT_EQ(posts(broker.bootstrap()).size(), 1U);
}

}  // namespace
}  // namespace postwire::testing
