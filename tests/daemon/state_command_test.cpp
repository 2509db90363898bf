#include "postwire/daemon/state_command.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

#include "postwire/daemon/commands.hpp"
#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/schema/ids.hpp"
#include "support/temp_dir.hpp"

namespace postwire {
namespace {

using testing::TempDir;

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

Run state(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  Run r;
  r.code = command_state(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

class StateCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::write_file(dir / "postwire.yaml", R"(state_dir: state
kafka:
  bootstrap_servers: 127.0.0.1:9092
sources:
  - id: blog
    type: feed
    url: https://example.com/feed
  - id: news
    type: feed
    url: https://example.org/feed
)");
    config = (dir / "postwire.yaml").string();
  }
  void seed() {
    auto store = DedupeStore::open(dir / "state");
    ASSERT_TRUE(store) << store.error().message;
    (*store)->acknowledge(make_post_id("blog", "1"), "blog", make_content_hash("a", "1"), 1);
    (*store)->acknowledge(make_post_id("blog", "2"), "blog", make_content_hash("a", "2"), 2);
    (*store)->acknowledge(make_comment_id("news", "c"), "news", make_content_hash("", "c"), 1);
    (*store)->set_validators("blog", SourceValidators{"\"etag-7\"", std::nullopt});
    (*store)->set_window("blog", {{make_post_id("blog", "1")}});
    ASSERT_TRUE((*store)->flush());
  }
  TempDir dir;
  std::string config;
};

TEST_F(StateCommand, InspectSummarisesTheStore) {
  seed();
  const auto r = state({"inspect", "--config", config});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("format: 3 (current)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("items: 3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("file size: "), std::string::npos);
  EXPECT_NE(r.out.find("in use: no"), std::string::npos);
  EXPECT_NE(r.out.find("blog: items=2 window=1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("etag=\"etag-7\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("news: items=1"), std::string::npos) << r.out;
}

TEST_F(StateCommand, InspectWorksNextToARunningDaemon) {
  seed();
  auto held = DedupeStore::open(dir / "state");
  ASSERT_TRUE(held);
  const auto r = state({"inspect", "--config", config, "--source", "news"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("in use: yes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("news: items=1"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("blog: items"), std::string::npos) << r.out;
}

TEST_F(StateCommand, InspectWithoutAStore) {
  const auto r = state({"inspect", "--config", config});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("no state yet"), std::string::npos) << r.out;
}

TEST_F(StateCommand, ExportWritesJsonLines) {
  seed();
  const auto r = state({"export", "--config", config, "--source", "blog"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j.at("source_id"), "blog");
    EXPECT_EQ(j.at("item_id").get<std::string>().rfind("p_", 0), 0U);
    EXPECT_EQ(j.at("content_hash").get<std::string>().rfind("sha256:", 0), 0U);
    EXPECT_TRUE(j.at("version").is_number_integer());
    EXPECT_EQ(j.at("last_seen").get<std::string>().back(), 'Z');
    ++n;
  }
  EXPECT_EQ(n, 2);
  const auto everything = state({"export", "--config", config}).out;
  EXPECT_EQ(std::count(everything.begin(), everything.end(), '\n'), 3);
}

TEST_F(StateCommand, ResetNeedsYesAndAStoppedDaemon) {
  seed();
  auto no = state({"reset", "--config", config});
  EXPECT_EQ(no.code, kExitUsage);
  EXPECT_NE(no.err.find("--yes"), std::string::npos);
  {
    auto held = DedupeStore::open(dir / "state");
    ASSERT_TRUE(held);
    auto locked = state({"reset", "--config", config, "--yes"});
    EXPECT_EQ(locked.code, kExitStateLocked);
    EXPECT_NE(locked.err.find("in use by a running postwire"), std::string::npos) << locked.err;
  }
  auto one = state({"reset", "--config", config, "--source", "blog", "--yes"});
  ASSERT_EQ(one.code, kExitOk) << one.err;
  EXPECT_NE(one.out.find("2 items"), std::string::npos) << one.out;
  EXPECT_NE(state({"inspect", "--config", config}).out.find("items: 1"), std::string::npos);
  auto all = state({"reset", "--config", config, "--yes"});
  ASSERT_EQ(all.code, kExitOk) << all.err;
  EXPECT_NE(state({"inspect", "--config", config}).out.find("items: 0"), std::string::npos);
}

TEST_F(StateCommand, ForeignStoreIsReportedNotTouched) {
  testing::write_file(dir / "state" / "state.db", std::string(8192, 'z'));
  const auto r = state({"inspect", "--config", config});
  EXPECT_EQ(r.code, kExitDataErr);
  EXPECT_NE(r.err.find("not a postwire state store"), std::string::npos) << r.err;
  const auto reset = state({"reset", "--config", config, "--yes"});
  EXPECT_EQ(reset.code, kExitDataErr);
  EXPECT_EQ(testing::read_file(dir / "state" / "state.db"), std::string(8192, 'z'));
}

TEST_F(StateCommand, UsageErrors) {
  EXPECT_EQ(state({}).code, kExitUsage);
  EXPECT_EQ(state({"frobnicate", "--config", config}).code, kExitUsage);
  EXPECT_EQ(state({"inspect"}).code, kExitUsage);
  EXPECT_EQ(state({"inspect", "--config", config, "--bogus"}).code, kExitUsage);
  EXPECT_EQ(state({"inspect", "--config", (dir / "missing.yaml").string()}).code, kExitConfig);
}

}  // namespace
}  // namespace postwire
