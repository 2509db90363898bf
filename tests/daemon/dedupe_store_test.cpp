#include "postwire/daemon/dedupe_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "postwire/schema/ids.hpp"
#include "support/temp_dir.hpp"

namespace postwire {
namespace {

using Kind = DedupeDecision::Kind;
using testing::TempDir;

TEST(DedupeStore, NewThenDuplicateThenUpdated) {
  TempDir dir;
  auto store = DedupeStore::open(dir.path());
  ASSERT_TRUE(store) << store.error().message;
  auto& s = **store;
  const auto id = make_post_id("src", "1");
  const auto h1 = make_content_hash("t", "one");
  const auto h2 = make_content_hash("t", "two");
  EXPECT_EQ(s.classify(id, h1).kind, Kind::fresh);
  s.mark_in_flight(id, h1, 1);
  // In flight: seen again before the ack, it is not produced twice.
  EXPECT_EQ(s.classify(id, h1).kind, Kind::duplicate);
  s.acknowledge(id, "src", h1, 1);
  EXPECT_EQ(s.in_flight(), 0U);
  EXPECT_EQ(s.classify(id, h1).kind, Kind::duplicate);
  const auto d = s.classify(id, h2);
  EXPECT_EQ(d.kind, Kind::updated);
  EXPECT_EQ(d.version, 2);
  EXPECT_EQ(d.previous_content_hash, h1);
}

TEST(DedupeStore, NothingIsRememberedBeforeTheAck) {
  TempDir dir;
  const auto id = make_post_id("src", "1");
  const auto h = make_content_hash("t", "x");
  {
    auto store = DedupeStore::open(dir.path());
    ASSERT_TRUE(store);
    (*store)->mark_in_flight(id, h, 1);
    ASSERT_TRUE((*store)->flush());
  }
  auto reopened = DedupeStore::open(dir.path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->classify(id, h).kind, Kind::fresh);  // crash before ack: republished
}

TEST(DedupeStore, FailedDeliveryReleasesTheItem) {
  TempDir dir;
  auto store = DedupeStore::open(dir.path());
  ASSERT_TRUE(store);
  const auto id = make_post_id("src", "1");
  const auto h = make_content_hash("t", "x");
  (*store)->mark_in_flight(id, h, 1);
  (*store)->release(id);
  EXPECT_EQ((*store)->classify(id, h).kind, Kind::fresh);
}

TEST(DedupeStore, SurvivesRestartWithVersionsAndValidators) {
  TempDir dir;
  const auto id = make_comment_id("src", "c1");
  const auto h1 = make_content_hash("", "one");
  const auto h2 = make_content_hash("", "two");
  {
    auto store = DedupeStore::open(dir.path());
    ASSERT_TRUE(store);
    (*store)->acknowledge(id, "src", h1, 1);
    (*store)->acknowledge(id, "src", h2, 2);
    (*store)->set_validators("src", SourceValidators{"\"etag-1\"", "Sun, 22 Jul 2007 16:09:00 GMT"});
    ASSERT_TRUE((*store)->flush());
  }
  auto store = DedupeStore::open(dir.path());
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->size(), 1U);
  EXPECT_EQ((*store)->classify(id, h2).kind, Kind::duplicate);
  const auto d = (*store)->classify(id, h1);
  EXPECT_EQ(d.kind, Kind::updated);
  EXPECT_EQ(d.version, 3);
  EXPECT_EQ(d.previous_content_hash, h2);
  EXPECT_EQ((*store)->validators("src").etag, "\"etag-1\"");
  EXPECT_FALSE((*store)->validators("other").etag);
}

TEST(DedupeStore, LateOlderAcknowledgementDoesNotRollBack) {
  TempDir dir;
  auto store = DedupeStore::open(dir.path());
  ASSERT_TRUE(store);
  const auto id = make_post_id("s", "1");
  (*store)->acknowledge(id, "s", make_content_hash("", "v2"), 2);
  (*store)->acknowledge(id, "s", make_content_hash("", "v1"), 1);
  EXPECT_EQ((*store)->classify(id, make_content_hash("", "v2")).kind, Kind::duplicate);
}

TEST(DedupeStore, RefusesAForeignOrCorruptFile) {
  TempDir dir;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "state.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "CREATE TABLE something_else (x)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto foreign = DedupeStore::open(dir.path());
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("not a postwire state store"), std::string::npos);

  TempDir garbage;
  testing::write_file(garbage / "state.db", std::string(4096, 'x'));
  auto corrupt = DedupeStore::open(garbage.path());
  ASSERT_FALSE(corrupt);
  EXPECT_EQ(corrupt.error().code, Errc::storage);
}

TEST(DedupeStore, RefusesANewerFormat) {
  TempDir dir;
  { ASSERT_TRUE(DedupeStore::open(dir.path())); }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "state.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto store = DedupeStore::open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("newer than this postwire"), std::string::npos);
}

}  // namespace
}  // namespace postwire
