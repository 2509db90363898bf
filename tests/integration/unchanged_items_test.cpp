// Posts and comments seen again byte for byte are recognised by their source
// fingerprint and not normalised again (docs/state.md, "Unchanged items"),
// without changing what is published: edits still become `updated` events, new
// comments `created`, and an unchanged post's comment feed is still followed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/daemon.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

using namespace std::chrono_literals;

std::string post_feed(const std::string& comments_url,
                      const std::string& body =
                          "The story itself, long enough to tell its language from the "
                          "words in it.") {
  return R"(<?xml version="1.0"?><rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/">
<channel><title>Desk</title><link>http://desk.example/</link>
<item><title>Story</title><link>http://desk.example/story</link><guid>story-1</guid>
<description>)" +
         body + "</description>\n<wfw:commentRss>" + comments_url +
         "</wfw:commentRss></item></channel></rss>\n";
}

std::string comment(const std::string& n, const std::string& text) {
  return "<item><title>By reader " + n + "</title><link>http://desk.example/story#comment-" + n +
         "</link><guid isPermaLink=\"false\">c-" + n + "</guid><description><![CDATA[<p>" + text +
         "</p>]]></description><pubDate>Sun, 22 Jul 2007 16:09:00 -0400</pubDate></item>\n";
}

std::string comment_feed(const std::vector<std::string>& items) {
  std::string out = R"(<?xml version="1.0"?><rss version="2.0"><channel><title>Comments</title>
<link>http://desk.example/story</link>
)";
  for (const auto& i : items) out += i;
  return out + "</channel></rss>\n";
}

TEST(UnchangedItems, RepeatedItemsAreSkippedEditsAndNewOnesPublished) {
  TempDir dir;
  MockBroker broker;
  const auto feed = dir / "feed.xml";
  const auto comments = dir / "comments.xml";
  write_file(feed, post_feed(file_url(comments)));
  const std::string one = comment("1", "I was there and it was not like that at all.");
  const std::string two = comment("2", "Thanks for the report, well written and clear.");
  write_file(comments, comment_feed({one, two}));
  const ConfigFile config =
      write_config(dir.str(), broker.bootstrap(), feed_source_yaml("desk", file_url(feed)));

  RunResult r = postwire({"once", "--config", config.path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto s = parse_once_summary(r.out);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->published, 3);
  EXPECT_EQ(s->unchanged, 0);

  // Same bytes: the post and both comments are skipped before normalising.
  r = postwire({"once", "--config", config.path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = parse_once_summary(r.out);
  EXPECT_EQ(s->published, 0);
  EXPECT_EQ(s->duplicates, 3);
  EXPECT_EQ(s->unchanged, 3);

  // One edited, one new, one unchanged; the unchanged post's comment feed is
  // still followed.
  const std::string two_edited = comment("2", "Thanks for the report, well written and clear. Edit: typo.");
  const std::string three = comment("3", "A third reader arrives late to the discussion here.");
  write_file(comments, comment_feed({three, one, two_edited}));
  r = postwire({"once", "--config", config.path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = parse_once_summary(r.out);
  EXPECT_EQ(s->published, 2);
  EXPECT_EQ(s->unchanged, 2);

  // The edit's new bytes are now the acknowledged ones: skipped next time, as is
  // everything else; and the window still protects every comment shown.
  r = postwire({"once", "--config", config.path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = parse_once_summary(r.out);
  EXPECT_EQ(s->published, 0);
  EXPECT_EQ(s->unchanged, 4);

  // An edited post is normalised again and published as an update; its
  // comments, unchanged, are still skipped under the same post id.
  write_file(feed, post_feed(file_url(comments),
                             "The story itself, corrected: long enough to tell its "
                             "language from the words in it."));
  r = postwire({"once", "--config", config.path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  s = parse_once_summary(r.out);
  EXPECT_EQ(s->published, 1);
  EXPECT_EQ(s->unchanged, 3);
  const auto posts = consume_all(broker.bootstrap(), "postwire.posts", 60s);
  ASSERT_EQ(posts.size(), 2U);
  const auto edited = nlohmann::json::parse(posts.back().value);
  EXPECT_EQ(edited["event_type"], "updated");
  EXPECT_EQ(edited["version"], 2);
  EXPECT_EQ(edited["post"]["id"], nlohmann::json::parse(posts.front().value)["post"]["id"]);

  const auto events = consume_all(broker.bootstrap(), "postwire.comments", 60s);
  ASSERT_EQ(events.size(), 4U);
  std::map<std::string, int> types;
  for (const auto& m : events) {
    const auto e = nlohmann::json::parse(m.value);
    types[e["event_type"].get<std::string>()] += 1;
    if (e["event_type"] == "updated") {
      EXPECT_EQ(e["version"], 2);
      EXPECT_NE(e["comment"]["content_text"].get<std::string>().find("Edit: typo."), std::string::npos);
    }
  }
  EXPECT_EQ(types["created"], 3);
  EXPECT_EQ(types["updated"], 1);

  const RunResult inspect = postwire({"state", "inspect", "--config", config.path});
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("window=4"), std::string::npos) << inspect.out;
}

}  // namespace
}  // namespace postwire::testing
