// The command line: `version`, `parse` (offline feed troubleshooting) and
// `--set` overrides with `check` and `once`.
#include <gtest/gtest.h>

#include <cctype>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "postwire/schema/ids.hpp"
#include "support/daemon.hpp"
#include "support/feeds.hpp"
#include "support/http_server.hpp"
#include "support/json_schema.hpp"
#include "support/kafka_consumer.hpp"
#include "support/mock_broker.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {
namespace {

using nlohmann::json;

std::string describe(const RunResult& r) {
  return "exit=" + (r.exit_code ? std::to_string(*r.exit_code) : std::string("timeout")) + "\n--- stdout:\n" +
         r.out + "\n--- stderr:\n" + r.err;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

RssChannel sample_rss() {
  RssChannel channel;
  channel.title = "Sample & Co";
  channel.link = "http://sample.example/";
  channel.description = "A sample";
  channel.language = "en-gb";
  const char* const days[] = {"Mon, 01 Jan 2024 08:00:00 +0000", "Tue, 02 Jan 2024 08:00:00 +0000",
                              "Wed, 03 Jan 2024 08:00:00 +0000"};
  for (int i = 1; i <= 3; ++i) {
    RssItem item;
    item.guid = "http://sample.example/?p=" + std::to_string(i);
    item.title = "Sample post " + std::to_string(i);
    item.link = "http://sample.example/post/" + std::to_string(i);
    item.description = "Sample text " + std::to_string(i);
    item.pub_date = days[i - 1];
    item.categories = {"samples"};
    channel.items.push_back(item);
  }
  return channel;
}

TEST(CliTest, VersionPrintsNameAndVersion) {
  const RunResult r = postwire({"version"});
  EXPECT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out.rfind("postwire ", 0), 0u) << describe(r);
}

TEST(CliTest, ParseRssPrintsFeedLineThenOneValidPostEventPerItem) {
  TempDir dir("postwire-cli");
  const RssChannel channel = sample_rss();
  const auto file = dir / "sample.xml";
  write_file(file, rss_document(channel));

  const RunResult r = postwire({"parse", file.string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 1 + channel.items.size()) << describe(r);

  json head = json::parse(lines[0], nullptr, false);
  ASSERT_TRUE(head.is_object()) << lines[0];
  ASSERT_EQ(head.size(), 1u) << lines[0];
  json feed = head["feed"];
  ASSERT_TRUE(feed.is_object()) << lines[0];
  EXPECT_EQ(feed["format"], "rss") << lines[0];
  EXPECT_EQ(feed["title"], channel.title) << lines[0];
  EXPECT_EQ(feed["url"], channel.link) << lines[0];
  // Language tags compare case-insensitively (BCP 47); "en-gb" may come back as "en-GB".
  ASSERT_TRUE(feed["language"].is_string()) << lines[0];
  EXPECT_EQ(lower(feed["language"].get<std::string>()), lower(channel.language)) << lines[0];
  EXPECT_EQ(feed["item_count"], channel.items.size()) << lines[0];

  const std::vector<std::string> events(lines.begin() + 1, lines.end());
  EXPECT_EQ(validate_events(events, schema_path("post.v1.schema.json")), "");
  for (std::size_t i = 0; i < events.size(); ++i) {
    json event = json::parse(events[i], nullptr, false);
    ASSERT_TRUE(event.is_object()) << events[i];
    EXPECT_EQ(event["post"]["native_id"], channel.items[i].guid) << "items in document order";
    EXPECT_EQ(event["post"]["title"], channel.items[i].title);
    EXPECT_EQ(event["post"]["id"], make_post_id(event["source"].value("id", ""), channel.items[i].guid));
  }
}

TEST(CliTest, ParseDetectsAtom) {
  TempDir dir("postwire-cli");
  AtomFeed atom;
  atom.id = "urn:example:feed";
  atom.title = "Atom sample";
  atom.link = "http://atom.example/";
  atom.updated = "2024-01-02T00:00:00Z";
  atom.language = "fr";
  AtomEntry entry;
  entry.id = "urn:example:entry-1";
  entry.title = "Bonjour";
  entry.link = "http://atom.example/1";
  entry.updated = "2024-01-02T00:00:00Z";
  entry.content = "Le texte.";
  atom.entries = {entry};
  const auto file = dir / "atom.xml";
  write_file(file, atom_document(atom));

  const RunResult r = postwire({"parse", file.string()});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 2u) << describe(r);
  json head = json::parse(lines[0], nullptr, false);
  ASSERT_TRUE(head.is_object()) << lines[0];
  EXPECT_EQ(head["feed"]["format"], "atom") << lines[0];
  EXPECT_EQ(head["feed"]["title"], "Atom sample") << lines[0];
  EXPECT_EQ(head["feed"]["language"], "fr") << lines[0];
  EXPECT_EQ(head["feed"]["item_count"], 1) << lines[0];
  EXPECT_EQ(validate_events({lines[1]}, schema_path("post.v1.schema.json")), "");
}

TEST(CliTest, ParseGarbageFailsWithAReason) {
  TempDir dir("postwire-cli");
  const auto file = dir / "garbage.xml";
  write_file(file, "<<<garbage");
  const RunResult r = postwire({"parse", file.string()});
  ASSERT_TRUE(r.exit_code) << describe(r);
  EXPECT_NE(*r.exit_code, 0) << describe(r);
  EXPECT_FALSE(r.err.empty()) << describe(r);
  EXPECT_TRUE(lines_of(r.out).empty()) << "nothing on stdout for a document that cannot be read\n"
                                       << describe(r);

  const RunResult missing = postwire({"parse", (dir / "nope.xml").string()});
  ASSERT_TRUE(missing.exit_code) << describe(missing);
  EXPECT_NE(*missing.exit_code, 0) << describe(missing);
  EXPECT_FALSE(missing.err.empty()) << describe(missing);
}

TEST(CliTest, SetOverridesApplyToCheck) {
  TempDir dir("postwire-cli");
  const std::string sources =
      "  - id: site\n    type: feed\n    url: \"file:///dev/null\"\n    interval: 5 parsecs\n";
  const ConfigFile config = write_config(dir.str(), "127.0.0.1:9", sources);

  const RunResult bad = postwire({"check", "--config", config.path});
  EXPECT_EQ(bad.exit_code, 78) << describe(bad);

  // The override replaces the bad value before validation...
  const RunResult fixed = postwire({"check", "--config", config.path, "--set", "sources.0.interval=1s"});
  EXPECT_EQ(fixed.exit_code, 0) << describe(fixed);
  // ...and a valid override keeps a valid file valid.
  const RunResult topic = postwire({"check", "--config", config.path, "--set", "sources.0.interval=1s",
                                    "--set", "kafka.topics.posts=other"});
  EXPECT_EQ(topic.exit_code, 0) << describe(topic);
  // An override naming an unknown key is a configuration error.
  const RunResult unknown = postwire({"check", "--config", config.path, "--set", "sources.0.interval=1s",
                                      "--set", "kafka.topics.nonsense=x"});
  EXPECT_EQ(unknown.exit_code, 78) << describe(unknown);
  EXPECT_NE((unknown.out + unknown.err).find("nonsense"), std::string::npos) << describe(unknown);
}

TEST(CliTest, SetTopicOverrideRedirectsPublishing) {
  TempDir dir("postwire-cli");
  MockBroker::Options options;
  options.topics = {"postwire.posts", "postwire.comments", "postwire.deadletter", "other"};
  MockBroker broker(options);
  const RssChannel channel = sample_rss();
  const auto file = dir / "sample.xml";
  write_file(file, rss_document(channel));
  const ConfigFile config =
      write_config(dir.str(), broker.bootstrap(), feed_source_yaml("site", file_url(file)));

  const RunResult r = postwire({"once", "--config", config.path, "--set", "kafka.topics.posts=other"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(consume_all(broker.bootstrap(), "other").size(), channel.items.size());
  EXPECT_EQ(message_count(broker.bootstrap(), "postwire.posts"), 0);
}

}  // namespace
}  // namespace postwire::testing
