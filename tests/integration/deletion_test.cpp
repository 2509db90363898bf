// Explicit deletions: an Atom feed that replaces an entry by an RFC 6721
// tombstone makes postwire publish one `deleted` event for it, and only once.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "postwire/schema/ids.hpp"
#include "support/daemon.hpp"
#include "support/json_schema.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

using namespace std::chrono_literals;

std::string atom(const std::string& entries) {
  return R"(<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:at="http://purl.org/atompub/tombstones/1.0">
  <title>Desk</title><id>urn:desk</id><updated>2007-07-23T00:00:00Z</updated>
)" + entries +
         "</feed>\n";
}

constexpr const char* kEntryOne = R"(<entry><id>urn:desk:1</id><title>One</title>
  <link href="http://desk.example/1"/><updated>2007-07-22T16:09:00Z</updated><content>First story</content></entry>
)";
constexpr const char* kEntryTwo = R"(<entry><id>urn:desk:2</id><title>Two</title>
  <link href="http://desk.example/2"/><updated>2007-07-22T17:00:00Z</updated><content>Second story</content></entry>
)";

TEST(Deletion, TombstoneBecomesOneDeletedEvent) {
  TempDir dir;
  MockBroker broker;
  const auto feed = dir / "feed.xml";
  write_file(feed, atom(std::string(kEntryOne) + kEntryTwo));
  const ConfigFile config =
      write_config(dir.str(), broker.bootstrap(), feed_source_yaml("desk", file_url(feed)));
  ASSERT_EQ(postwire({"once", "--config", config.path}).exit_code, 0);

  // Entry one is removed: the feed now carries its tombstone instead.
  write_file(feed, atom(std::string(kEntryTwo) +
                        R"(<at:deleted-entry ref="urn:desk:1" when="2007-07-23T09:30:00Z"/>)" + "\n"));
  const RunResult second = postwire({"once", "--config", config.path});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const auto summary = parse_once_summary(second.out);
  ASSERT_TRUE(summary);
  EXPECT_EQ(summary->published, 1);

  // Seen again, the tombstone publishes nothing; an unknown tombstone neither.
  write_file(feed, atom(std::string(kEntryTwo) + R"(<at:deleted-entry ref="urn:desk:1"/>)" +
                        R"(<at:deleted-entry ref="urn:desk:never-seen"/>)"));
  const RunResult third = postwire({"once", "--config", config.path});
  ASSERT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(parse_once_summary(third.out)->published, 0);

  const auto messages = consume_all(broker.bootstrap(), "postwire.posts", 60s);
  ASSERT_EQ(messages.size(), 3U);
  // Messages are in per-partition order; find the deleted one wherever it is.
  nlohmann::json event;
  std::vector<std::string> payloads;
  for (const auto& m : messages) {
    payloads.push_back(m.value);
    const auto j = nlohmann::json::parse(m.value);
    if (j["event_type"] == "deleted") event = j;
  }
  ASSERT_FALSE(event.is_null());
  const std::string id = make_post_id("desk", "urn:desk:1");
  EXPECT_EQ(event["post"]["id"], id);
  EXPECT_EQ(event["post"]["native_id"], "urn:desk:1");
  EXPECT_EQ(event["version"], 2);
  EXPECT_TRUE(event["previous_content_hash"].is_string());
  EXPECT_EQ(event["post"]["updated_at"], "2007-07-23T09:30:00Z");
  for (const auto& m : messages) {
    if (nlohmann::json::parse(m.value)["event_type"] == "deleted") {
      EXPECT_EQ(m.key, id);
      EXPECT_EQ(m.header("ce_type"), "io.postwire.post.deleted");
    }
  }
  EXPECT_EQ(validate_events(payloads, std::string(POSTWIRE_SOURCE_DIR) + "/schema/post.v1.schema.json"), "");
}

}  // namespace
}  // namespace postwire::testing
