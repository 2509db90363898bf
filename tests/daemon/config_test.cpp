#include "postwire/daemon/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/temp_dir.hpp"

namespace postwire {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::write_file;

ConnectorRegistry& reg() {
  static ConnectorRegistry r = [] {
    ConnectorRegistry x;
    register_builtin_connectors(x);
    return x;
  }();
  return r;
}

ConfigLoad load(const TempDir& dir, const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  write_file(dir / "postwire.yaml", yaml);
  return load_config(dir / "postwire.yaml", overrides, reg());
}

constexpr const char* kMinimal = R"(state_dir: state
kafka:
  bootstrap_servers: 127.0.0.1:9092
sources:
  - id: site-a
    type: feed
    url: https://example.com/feed
)";

TEST(Config, MinimalConfigGetsDefaults) {
  TempDir dir;
  auto r = load(dir, kMinimal);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  const Config& c = *r.config;
  EXPECT_EQ(c.state_dir, dir.path() / "state");  // relative to the config's folder
  EXPECT_EQ(c.admin_listen, "127.0.0.1:9464");
  EXPECT_EQ(c.kafka.topic_posts, "postwire.posts");
  EXPECT_EQ(c.kafka.topic_comments, "postwire.comments");
  EXPECT_EQ(c.kafka.topic_deadletter, "postwire.deadletter");
  ASSERT_EQ(c.sources.size(), 1U);
  EXPECT_EQ(c.sources[0].interval, 5min);
  EXPECT_EQ(c.sources[0].url, "https://example.com/feed");
}

TEST(Config, SourceLanguageIsANormalisedLanguageTag) {
  TempDir dir;
  auto r = load(dir, std::string(kMinimal) + "    language: EN-gb\n");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_EQ(r.config->sources[0].language, "en-GB");
  r = load(dir, std::string(kMinimal) + "defaults: {language: de}\n");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_EQ(r.config->sources[0].language, "de");  // inherited
  r = load(dir, kMinimal);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r.config->sources[0].language);  // none: declared by documents, else detected
  r = load(dir, std::string(kMinimal) + "    language: not a tag\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("not a language tag"), std::string::npos) << r.errors[0].to_string();
}

TEST(Config, WorkersDefaultToOnePerCoreAndAreBounded) {
  TempDir dir;
  auto r = load(dir, kMinimal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->workers, 0U);
  r = load(dir, std::string(kMinimal) + "workers: 3\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->workers, 3U);
  for (const char* bad : {"-1", "many", "1000"}) {
    r = load(dir, std::string(kMinimal) + "workers: " + bad + "\n");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.errors[0].message.find("workers"), std::string::npos) << r.errors[0].to_string();
    EXPECT_EQ(r.errors[0].line, 8);
  }
}

TEST(Config, UnknownKeysAreErrorsWithLineAndColumn) {
  TempDir dir;
  auto r = load(dir, std::string(kMinimal) + "    colour: blue\nfrobnicate: 1\n");
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 2U);
  EXPECT_EQ(r.errors[0].line, 9);
  EXPECT_EQ(r.errors[0].column, 1);
  EXPECT_NE(r.errors[0].message.find("frobnicate"), std::string::npos);
  EXPECT_EQ(r.errors[1].line, 8);
  EXPECT_EQ(r.errors[1].column, 5);
  EXPECT_NE(r.errors[1].message.find("colour"), std::string::npos);
  EXPECT_NE(r.errors[1].to_string().find("postwire.yaml:8:5: "), std::string::npos);
}

TEST(Config, ReportsEveryErrorNotJustTheFirst) {
  TempDir dir;
  auto r = load(dir, R"(kafka:
  topics: {posts: "bad topic"}
sources:
  - id: Bad_ID
    type: nosuch
    url: ftp://x
    interval: 5 parsecs
  - type: feed
    url: https://a
)");
  ASSERT_FALSE(r.ok());
  std::string all;
  for (const auto& e : r.errors) all += e.to_string() + "\n";
  for (const char* needle :
       {"state_dir is required", "bootstrap_servers is required", "not a valid topic name", "Bad_ID",
        "unknown source type 'nosuch'", "ftp://x", "'5 parsecs' is not a duration", "source needs an id"}) {
    EXPECT_NE(all.find(needle), std::string::npos) << needle << " missing from:\n" << all;
  }
}

TEST(Config, DuplicateSourceIdsAreRejected) {
  TempDir dir;
  auto r = load(dir, std::string(kMinimal) + "  - id: site-a\n    type: feed\n    url: https://b\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("duplicate source id"), std::string::npos);
  EXPECT_EQ(r.errors[0].line, 8);
}

TEST(Config, EnvironmentInterpolation) {
  TempDir dir;
  setenv("POSTWIRE_TEST_BROKERS", "k1:9092,k2:9092", 1);
  unsetenv("POSTWIRE_TEST_UNSET");
  auto r = load(dir, R"(state_dir: ${POSTWIRE_TEST_UNSET:-/var/lib/pw}
kafka:
  bootstrap_servers: ${POSTWIRE_TEST_BROKERS}
sources: []
)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->kafka.bootstrap_servers, "k1:9092,k2:9092");
  EXPECT_EQ(r.config->state_dir, "/var/lib/pw");

  auto missing = load(dir, "state_dir: ${POSTWIRE_TEST_UNSET}\nkafka: {bootstrap_servers: x}\nsources: []\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.errors[0].message.find("POSTWIRE_TEST_UNSET is not set"), std::string::npos);
}

TEST(Config, SetOverridesApplyBeforeValidation) {
  TempDir dir;
  auto r = load(dir, kMinimal,
                {"kafka.bootstrap_servers=other:9092", "kafka.topics.posts=news.posts",
                 "sources.0.interval=30s", "admin.listen=127.0.0.1:0"});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_EQ(r.config->kafka.bootstrap_servers, "other:9092");
  EXPECT_EQ(r.config->kafka.topic_posts, "news.posts");
  EXPECT_EQ(r.config->sources[0].interval, 30s);
  EXPECT_EQ(r.config->admin_listen, "127.0.0.1:0");

  auto bad = load(dir, kMinimal, {"sources.7.url=x", "nonsense"});
  ASSERT_EQ(bad.errors.size(), 2U);
  EXPECT_NE(bad.errors[0].message.find("not an index"), std::string::npos);
}

TEST(Config, LibrdkafkaPassThroughButNoClashWithTypedKeys) {
  TempDir dir;
  auto ok = load(dir, std::string(kMinimal) + "kafka_extra: 1\n");
  EXPECT_FALSE(ok.ok());
  auto r = load(dir, R"(state_dir: s
kafka:
  bootstrap_servers: b:9092
  librdkafka:
    security.protocol: SASL_SSL
    acks: "1"
sources: []
)");
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].message.find("kafka.librdkafka.acks clashes"), std::string::npos);
  EXPECT_EQ(r.errors[0].line, 6);
}

TEST(Config, FileUrlsResolveAgainstTheConfigFolder) {
  TempDir dir;
  auto r = load(dir, R"(state_dir: s
kafka: {bootstrap_servers: embedded}
sources:
  - {id: local, type: feed, url: "file://demo/feed.xml"}
  - {id: abs, type: feed, url: "file:///srv/feed.xml"}
  - {id: off, type: feed, url: "https://x", enabled: false}
)");
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  ASSERT_EQ(r.config->sources.size(), 2U);  // disabled sources are not loaded
  EXPECT_EQ(r.config->sources[0].url, "file://" + (dir.path() / "demo/feed.xml").string());
  EXPECT_EQ(r.config->sources[1].url, "file:///srv/feed.xml");
  EXPECT_TRUE(r.config->kafka.embedded());
}

TEST(Config, ConnectorOptionsAreCheckedByKindAndByTheConnector) {
  TempDir dir;
  auto r = load(dir, R"(state_dir: s
kafka: {bootstrap_servers: b}
sources:
  - id: a
    type: feed
    url: https://x
    follow_comments: maybe
    max_comment_feeds: lots
    comment_author_patterns: ['^(only one group)$']
)");
  std::string all;
  for (const auto& e : r.errors) all += e.to_string() + "\n";
  EXPECT_NE(all.find("'maybe' is not true or false"), std::string::npos) << all;
  EXPECT_NE(all.find("'lots' is not an integer"), std::string::npos) << all;
  EXPECT_NE(all.find("needs exactly 2 groups"), std::string::npos) << all;
}

TEST(Config, MissingFileAndBadYaml) {
  TempDir dir;
  auto missing = load_config(dir / "nope.yaml", {}, reg());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.errors[0].message.find("cannot read config file"), std::string::npos);
  auto bad = load(dir, "state_dir: [unclosed\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_GT(bad.errors[0].line, 0);
}

TEST(Config, StateCommitInterval) {
  TempDir dir;
  auto r = load(dir, kMinimal);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->state.commit_interval, 0ms);
  r = load(dir, std::string(kMinimal) + "state: {commit_interval: 250ms}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->state.commit_interval, 250ms);
  r = load(dir, std::string(kMinimal) + "state: {commit_interval: 0s}\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->state.commit_interval, 0ms);
  r = load(dir, std::string(kMinimal) + "state: {commit_interval: 1h}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.errors[0].message.find("commit_interval"), std::string::npos);
}

TEST(Config, Durations) {
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("30s"), 30s);
  EXPECT_EQ(parse_duration("5m"), 5min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("2d"), 48h);
  EXPECT_FALSE(parse_duration("30"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("5 parsecs"));
  EXPECT_FALSE(parse_duration(""));
  EXPECT_EQ(parse_size("16MiB"), 16U << 20);
  EXPECT_EQ(parse_size("512KiB"), 512U << 10);
  EXPECT_EQ(parse_size("1000"), 1000U);
  EXPECT_FALSE(parse_size("1MB"));
}

}  // namespace
}  // namespace postwire
