#include "postwire/daemon/dedupe_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

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

// ---------------------------------------------------------------------------------------------
// Format v2, memory, TTL, windows, eviction, indexes, outbox

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1'700'000'000));
  StoreOptions options(StoreOptions o = {}) {
    o.clock = [this] { return now; };
    return o;
  }
};

std::unique_ptr<DedupeStore> open_ok(const std::filesystem::path& dir, StoreOptions options = {}) {
  auto store = DedupeStore::open(dir, std::move(options));
  EXPECT_TRUE(store) << store.error().message;
  if (!store) return nullptr;
  return std::move(*store);
}

// Writes `count` acknowledged posts of source "s" and commits them.
void write_posts(DedupeStore& store, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    store.acknowledge(make_post_id("s", std::to_string(i)), "s", make_content_hash("", std::to_string(i)), 1);
  }
  ASSERT_TRUE(store.flush());
}

std::int64_t pragma(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

TEST(MarkTable, MatchesAReferenceMapThroughInsertsAndErases) {
  detail::MarkTable table;
  std::unordered_map<std::uint64_t, std::uint64_t> reference;
  std::mt19937_64 rng(42);
  // Few distinct (uniform, like real keys) keys so that clusters form, wrap around and get erased from.
  std::vector<std::uint64_t> pool(5000);
  for (auto& k : pool) k = rng() | 1;
  for (std::uint64_t k = 0; k < 20; ++k)
    pool.push_back(~0ULL - k);  // home in the last slot: the cluster wraps
  for (int round = 0; round < 200'000; ++round) {
    const std::uint64_t key = pool[rng() % pool.size()];
    if (rng() % 3 == 0) {
      EXPECT_EQ(table.erase(key), reference.erase(key) == 1);
    } else {
      bool inserted = false;
      auto& slot = table.upsert(key, inserted);
      EXPECT_EQ(inserted, reference.find(key) == reference.end());
      slot.fingerprint = key * 7;
      reference[key] = key * 7;
    }
  }
  EXPECT_EQ(table.size(), reference.size());
  for (const std::uint64_t key : pool) {
    const auto* slot = table.find(key);
    auto it = reference.find(key);
    ASSERT_EQ(slot != nullptr, it != reference.end()) << key;
    if (slot != nullptr) {
      EXPECT_EQ(slot->fingerprint, it->second);
    }
  }
  std::size_t seen = 0;
  table.for_each([&](const detail::MarkTable::Slot&) { ++seen; });
  EXPECT_EQ(seen, reference.size());
}

TEST(DedupeStore, NeedsAtMost64BytesPerItemInMemory) {
  TempDir dir;
  auto store = open_ok(dir.path());
  ASSERT_TRUE(store);
  for (int i = 0; i < 100'000; ++i) {
    store->acknowledge(make_post_id("s", std::to_string(i)), "s", make_content_hash("", std::to_string(i)),
                       1);
    if (store->size() > 1000) {
      ASSERT_LE(store->memory_bytes(), 64 * store->size()) << store->size();
    }
  }
}

TEST(DedupeStore, NewFilesCarryTheCurrentFormat) {
  TempDir dir;
  { ASSERT_TRUE(open_ok(dir.path())); }
  EXPECT_EQ(pragma(dir / "state.db", "PRAGMA user_version"), DedupeStore::kFormatVersion);
  EXPECT_EQ(pragma(dir / "state.db", "PRAGMA application_id"), 0x50575354);
}

TEST(DedupeStore, MigratesAFormat1Store) {
  TempDir dir;
  const auto id1 = make_post_id("blog", "1");
  const auto id2 = make_comment_id("blog", "c9");
  const auto id3 = make_post_id("news", "7");
  const auto h1 = make_content_hash("t", "one");
  const auto h2 = make_content_hash("", "comment");
  const auto h3 = make_content_hash("t", "seven");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "state.db").c_str(), &db), SQLITE_OK);
    const std::string sql =
        "PRAGMA application_id=1347900244; PRAGMA user_version=1;"
        "CREATE TABLE items (item_id TEXT PRIMARY KEY, source_id TEXT NOT NULL, content_hash TEXT NOT NULL,"
        " version INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE sources (source_id TEXT PRIMARY KEY, etag TEXT, last_modified TEXT,"
        " updated_at INTEGER NOT NULL) WITHOUT ROWID;"
        "INSERT INTO items VALUES ('" +
        id1 + "', 'blog', '" + h1 +
        "', 3, 1600000000, 1700000000);"
        "INSERT INTO items VALUES ('" +
        id2 + "', 'blog', '" + h2 +
        "', 1, 1600000000, 1700000000);"
        "INSERT INTO items VALUES ('" +
        id3 + "', 'news', '" + h3 +
        "', 1, 1600000000, 1700000000);"
        "INSERT INTO sources VALUES ('blog', '\"e1\"', 'Sun, 22 Jul 2007 16:09:00 GMT', 1700000000);";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_close(db);
  }
  ASSERT_EQ(0x50575354, 1347900244);
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->size(), 3U);
    EXPECT_EQ(store->classify(id1, h1).kind, Kind::duplicate);
    EXPECT_EQ(store->classify(id1, h1).version, 3);
    const auto d = store->classify(id1, h3);
    EXPECT_EQ(d.kind, Kind::updated);
    EXPECT_EQ(d.version, 4);
    EXPECT_EQ(d.previous_content_hash, h1);
    EXPECT_EQ(store->classify(id2, h2).kind, Kind::duplicate);
    EXPECT_EQ(store->classify(id3, h3).kind, Kind::duplicate);
    EXPECT_EQ(store->validators("blog").etag, "\"e1\"");
    EXPECT_EQ(store->validators("blog").last_modified, "Sun, 22 Jul 2007 16:09:00 GMT");
  }
  EXPECT_EQ(pragma(dir / "state.db", "PRAGMA user_version"), DedupeStore::kFormatVersion);
  EXPECT_EQ(pragma(dir / "state.db", "SELECT count(*) FROM sqlite_master WHERE name = 'items_v1'"), 0);
  auto again = open_ok(dir.path());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->size(), 3U);
  EXPECT_EQ(again->classify(id3, h3).kind, Kind::duplicate);
}

TEST(DedupeStore, ASecondOpenOfTheSameDirectoryIsRefused) {
  TempDir dir;
  auto first = open_ok(dir.path());
  ASSERT_TRUE(first);
  EXPECT_EQ(DedupeStore::locked_by(dir.path()), static_cast<long>(::getpid()));
  auto second = DedupeStore::open(dir.path());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Errc::storage);
  EXPECT_NE(second.error().message.find("in use by another postwire process"), std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find("pid " + std::to_string(::getpid())), std::string::npos);
  first.reset();
  EXPECT_FALSE(DedupeStore::locked_by(dir.path()));
  EXPECT_TRUE(open_ok(dir.path()));
}

TEST(DedupeStore, VersionsBeyondTheInMemoryRangeStayExact) {
  TempDir dir;
  const auto id = make_post_id("s", "busy");
  const auto h = make_content_hash("", "v");
  {
    auto store = open_ok(dir.path());
    store->acknowledge(id, "s", h, 40'000'000);
    EXPECT_EQ(store->classify(id, h).version, 40'000'000);
    ASSERT_TRUE(store->flush());
  }
  auto store = open_ok(dir.path());
  EXPECT_EQ(store->classify(id, h).version, 40'000'000);
  EXPECT_EQ(store->classify(id, make_content_hash("", "w")).version, 40'000'001);
}

TEST(DedupeStore, ExpiresItemsPastTheirTimeToLivePerSource) {
  TempDir dir;
  FakeClock clock;
  StoreOptions o;
  o.default_ttl = 30 * 24h;
  o.source_ttl["fast"] = 24h;
  const auto fast = make_post_id("fast", "1");
  const auto slow = make_post_id("slow", "1");
  const auto h = make_content_hash("", "x");
  {
    auto store = open_ok(dir.path(), clock.options(o));
    store->acknowledge(fast, "fast", h, 1);
    store->acknowledge(slow, "slow", h, 1);
    ASSERT_TRUE(store->flush());
    auto none = store->expire(clock.now + 12h);
    EXPECT_EQ(none.expired, 0U);
    auto stats = store->expire(clock.now + 3 * 24h);
    EXPECT_FALSE(stats.error);
    EXPECT_EQ(stats.expired, 1U);
    EXPECT_EQ(stats.remaining, 1U);
    EXPECT_EQ(store->classify(fast, h).kind, Kind::fresh);
    EXPECT_EQ(store->classify(slow, h).kind, Kind::duplicate);
  }
  auto store = open_ok(dir.path(), clock.options(o));
  EXPECT_EQ(store->size(), 1U);
  EXPECT_EQ(store->classify(fast, h).kind, Kind::fresh);
  EXPECT_EQ(store->expire(clock.now + 31 * 24h).expired, 1U);
  EXPECT_EQ(store->size(), 0U);
}

TEST(DedupeStore, TouchRefreshesLastSeen) {
  TempDir dir;
  FakeClock clock;
  StoreOptions o;
  o.default_ttl = 48h;
  const auto id = make_post_id("s", "1");
  const auto h = make_content_hash("", "x");
  {
    auto store = open_ok(dir.path(), clock.options(o));
    store->acknowledge(id, "s", h, 1);
    ASSERT_TRUE(store->flush());
    clock.now += 40h;
    store->touch(id, "s");
    ASSERT_TRUE(store->flush());
  }
  auto store = open_ok(dir.path(), clock.options(o));  // the touch reached the disk
  EXPECT_EQ(store->expire(clock.now + 24h).expired, 0U);
  EXPECT_EQ(store->expire(clock.now + 50h).expired, 1U);
}

TEST(DedupeStore, ItemsInASourceWindowNeverExpire) {
  TempDir dir;
  FakeClock clock;
  StoreOptions o;
  o.default_ttl = 24h;
  const auto a = make_post_id("s", "a");
  const auto b = make_post_id("s", "b");
  const auto h = make_content_hash("", "x");
  {
    auto store = open_ok(dir.path(), clock.options(o));
    store->acknowledge(a, "s", h, 1);
    store->acknowledge(b, "s", h, 1);
    store->set_window("s", {{a}});
    ASSERT_TRUE(store->flush());
    EXPECT_EQ(store->window_size("s"), 1U);
  }
  // The window survives a restart; 10 days later the item is still in the feed.
  auto store = open_ok(dir.path(), clock.options(o));
  EXPECT_EQ(store->window_size("s"), 1U);
  const auto stats = store->expire(clock.now + 240h);
  EXPECT_EQ(stats.expired, 1U);
  EXPECT_EQ(stats.kept_in_window, 1U);
  EXPECT_EQ(store->classify(a, h).kind, Kind::duplicate);  // no republish of an item still in the feed
  EXPECT_EQ(store->classify(b, h).kind, Kind::fresh);
  // Once it leaves the window it ages out like any other item.
  store->set_window("s", {});
  EXPECT_EQ(store->expire(clock.now + 240h).expired, 1U);
  EXPECT_EQ(store->size(), 0U);
}

TEST(DedupeStore, LookupsInAReadBatchSeeTheDiskAndLeaveWritesPossible) {
  TempDir dir;
  const auto a = make_post_id("s", "a");
  const auto h1 = make_content_hash("", "one");
  const auto h2 = make_content_hash("", "two");
  auto store = open_ok(dir.path());
  store->acknowledge(a, "s", h1, 1);
  store->remember_url(42, a);
  ASSERT_TRUE(store->flush());
  {
    DedupeStore::ReadBatch reads(*store);
    DedupeStore::ReadBatch nested(*store);  // inside a batch: does nothing
    EXPECT_EQ(store->find_by_url(42), a);
    const auto decision = store->classify(a, h2);  // the previous hash comes from disk
    EXPECT_EQ(decision.kind, Kind::updated);
    EXPECT_EQ(decision.previous_content_hash, h1);
  }
  // The batch is over: a write transaction can begin.
  store->acknowledge(a, "s", h2, 2);
  ASSERT_TRUE(store->flush());
  store.reset();
  EXPECT_EQ(open_ok(dir.path())->classify(a, h2).kind, Kind::duplicate);
}

TEST(DedupeStore, AWindowSeenAgainAsItWasIsNotWrittenAgain) {
  TempDir dir;
  FakeClock clock;
  const auto a = make_comment_id("s", "a");
  const auto b = make_comment_id("s", "b");
  const auto h = make_content_hash("", "x");
  const auto start = std::chrono::duration_cast<std::chrono::seconds>(clock.now.time_since_epoch()).count();
  auto written_at = [&] {
    return pragma(dir.path() / "state.db", "SELECT updated_at FROM sources WHERE source_id = 's'");
  };
  auto store = open_ok(dir.path(), clock.options());
  store->acknowledge(a, "s", h, 1);
  store->acknowledge(b, "s", h, 1);
  store->set_window("s", {{a, 11, h}}, {});
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(written_at(), start);
  // The next poll sees the same window: the source row is left as it is.
  clock.now += 1h;
  store->set_window("s", {{a, 11, h}}, {});
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(written_at(), start);
  EXPECT_EQ(store->window_size("s"), 1U);
  // A changed window is written.
  clock.now += 1h;
  store->set_window("s", {{a, 11, h}, {b, 12, h}}, {});
  ASSERT_TRUE(store->flush());
  EXPECT_EQ(written_at(), start + 7200);
  store.reset();
  EXPECT_EQ(open_ok(dir.path(), clock.options())->window_size("s"), 2U);
}

TEST(DedupeStore, UnchangedFingerprintsNameOnlyAcknowledgedContent) {
  TempDir dir;
  const auto a = make_comment_id("s", "a");
  const auto b = make_comment_id("s", "b");
  const auto c = make_comment_id("s", "c");
  const auto d = make_comment_id("s", "d");
  const auto h1 = make_content_hash("", "one");
  const auto h2 = make_content_hash("", "two");
  {
    auto store = open_ok(dir.path());
    store->acknowledge(a, "s", h1, 1);  // acknowledged as what its bytes gave
    store->acknowledge(b, "s", h1, 1);  // acknowledged, but its bytes now give h2 (edit in flight)
    store->mark_in_flight(c, h1, 1);    // never acknowledged
    store->set_window("s", {{a, 11, h1}, {b, 12, h2}, {c, 13, h1}, {d, 0, h1}}, {});
    const auto known = store->unchanged_fingerprints("s");
    EXPECT_EQ(*known, (std::unordered_set<std::uint64_t>{11}));
    EXPECT_TRUE(store->unchanged_fingerprints("other")->empty());
    ASSERT_TRUE(store->flush());
  }
  // Persisted with the window; an item named only by its fingerprint stays in the
  // window (and keeps its fingerprint) while fingerprints not in the window are ignored.
  auto store = open_ok(dir.path());
  EXPECT_EQ(*store->unchanged_fingerprints("s"), (std::unordered_set<std::uint64_t>{11}));
  store->set_window("s", {}, {11, 99});
  EXPECT_EQ(store->window_size("s"), 1U);
  EXPECT_EQ(*store->unchanged_fingerprints("s"), (std::unordered_set<std::uint64_t>{11}));
  // An edit acknowledged later makes the new bytes' fingerprint current.
  store->acknowledge(b, "s", h2, 2);
  store->set_window("s", {{b, 12, h2}}, {11});
  EXPECT_EQ(*store->unchanged_fingerprints("s"), (std::unordered_set<std::uint64_t>{11, 12}));
  // Forgotten with the source.
  ASSERT_TRUE(store->reset_source("s"));
  EXPECT_TRUE(store->unchanged_fingerprints("s")->empty());
}

TEST(DedupeStore, MigratesAFormat2StoreAddingWindowFingerprints) {
  TempDir dir;
  const auto id = make_post_id("blog", "1");
  const auto h = make_content_hash("t", "one");
  {
    auto store = open_ok(dir.path());
    store->acknowledge(id, "blog", h, 1);
    store->set_window("blog", {{id}});
    ASSERT_TRUE(store->flush());
  }
  {
    // What format 2 looked like: no window_fingerprints column.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "state.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE sources DROP COLUMN window_fingerprints; PRAGMA user_version=2;",
                           nullptr, nullptr, &err),
              SQLITE_OK)
        << (err ? err : "");
    sqlite3_close(db);
  }
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->classify(id, h).kind, Kind::duplicate);
    EXPECT_EQ(store->window_size("blog"), 1U);
    EXPECT_TRUE(store->unchanged_fingerprints("blog")->empty());
    store->set_window("blog", {{id, 5, h}}, {});
    ASSERT_TRUE(store->flush());
  }
  EXPECT_EQ(pragma(dir / "state.db", "PRAGMA user_version"), DedupeStore::kFormatVersion);
  EXPECT_EQ(pragma(dir / "state.db", "SELECT value FROM meta WHERE name = 'migrated_from'"), 2);
  auto again = open_ok(dir.path());
  EXPECT_EQ(*again->unchanged_fingerprints("blog"), (std::unordered_set<std::uint64_t>{5}));
}

TEST(DedupeStore, EvictsTheOldestBeyondMaxItemsButNeverWindowItems) {
  TempDir dir;
  FakeClock clock;
  StoreOptions o;
  o.max_items = 3;
  std::vector<std::string> ids;
  auto store = open_ok(dir.path(), clock.options(o));
  for (int i = 0; i < 6; ++i) {
    ids.push_back(make_post_id("s", std::to_string(i)));
    store->acknowledge(ids.back(), "s", make_content_hash("", std::to_string(i)), 1);
    clock.now += 2h;  // item i was last seen i*2 hours after the first
  }
  store->set_window("w", {});  // another source, empty window
  // Item 0, the oldest, is still visible in its source.
  std::vector<DedupeStore::WindowEntry> window{{ids[0]}};
  clock.now -= 12h;  // set_window touches: keep item 0's last-seen where it was
  store->set_window("s", window);
  clock.now += 12h;
  ASSERT_TRUE(store->flush());
  const auto stats = store->expire(clock.now);
  EXPECT_FALSE(stats.error);
  EXPECT_EQ(stats.expired, 0U);
  EXPECT_EQ(stats.evicted, 3U);
  EXPECT_EQ(stats.remaining, 3U);
  auto alive = [&](int i) {
    return store->classify(ids[static_cast<std::size_t>(i)], make_content_hash("", std::to_string(i))).kind ==
           Kind::duplicate;
  };
  EXPECT_TRUE(alive(0));  // oldest, but in the window
  EXPECT_FALSE(alive(1));
  EXPECT_FALSE(alive(2));
  EXPECT_FALSE(alive(3));
  EXPECT_TRUE(alive(4));
  EXPECT_TRUE(alive(5));
  store.reset();
  auto reopened = open_ok(dir.path(), clock.options(o));
  EXPECT_EQ(reopened->size(), 3U);
}

TEST(DedupeStore, UrlIndexFindsTheFirstPostAndSurvivesRestart) {
  TempDir dir;
  FakeClock clock;
  StoreOptions o;
  o.default_ttl = 24h;
  const auto original = make_post_id("a", "1");
  const auto copy = make_post_id("b", "9");
  const std::uint64_t url = 0x1234567890abcdefULL;
  {
    auto store = open_ok(dir.path(), clock.options(o));
    EXPECT_FALSE(store->find_by_url(url));
    store->remember_url(url, original);
    store->remember_url(url, copy);                      // the first stays
    store->remember_url(77, make_comment_id("a", "c"));  // comments are never merged across posts
    EXPECT_EQ(store->find_by_url(url), original);
    store->acknowledge(original, "a", make_content_hash("", "x"), 1);
    ASSERT_TRUE(store->flush());
    EXPECT_EQ(store->find_by_url(url), original);
  }
  auto store = open_ok(dir.path(), clock.options(o));
  EXPECT_EQ(store->find_by_url(url), original);
  EXPECT_FALSE(store->find_by_url(77));
  // The entry goes with its item.
  EXPECT_EQ(store->expire(clock.now + 48h).expired, 1U);
  EXPECT_FALSE(store->find_by_url(url));
}

TEST(DedupeStore, SimhashIndexFindsNearDuplicatesWithinThreeBits) {
  TempDir dir;
  FakeClock clock;
  StoreOptions o;
  o.default_ttl = 24h;
  const auto post = make_post_id("a", "1");
  const std::uint64_t h = 0xF0F0'1234'ABCD'5555ULL;
  // Three bits flipped in three different bands: only band 3 still matches.
  const std::uint64_t near = h ^ (1ULL << 0) ^ (1ULL << 17) ^ (1ULL << 34);
  // Four bits, one per band: beyond the guarantee and the default distance.
  const std::uint64_t far = h ^ (1ULL << 0) ^ (1ULL << 17) ^ (1ULL << 34) ^ (1ULL << 51);
  {
    auto store = open_ok(dir.path(), clock.options(o));
    store->remember_simhash(h, post);
    store->remember_simhash(h, make_comment_id("a", "c"));  // ignored
    EXPECT_EQ(store->find_near_duplicate(near), post);      // before the flush
    store->acknowledge(post, "a", make_content_hash("", "x"), 1);
    ASSERT_TRUE(store->flush());
  }
  auto store = open_ok(dir.path(), clock.options(o));
  EXPECT_EQ(store->find_near_duplicate(h), post);
  EXPECT_EQ(store->find_near_duplicate(near), post);
  EXPECT_FALSE(store->find_near_duplicate(near, 2));
  EXPECT_FALSE(store->find_near_duplicate(far));
  EXPECT_FALSE(store->find_near_duplicate(~h));
  // A new text for the same post replaces its SimHash.
  store->remember_simhash(~h, post);
  ASSERT_TRUE(store->flush());
  EXPECT_FALSE(store->find_near_duplicate(h));
  EXPECT_EQ(store->find_near_duplicate(~h), post);
  EXPECT_EQ(store->expire(clock.now + 48h).expired, 1U);
  EXPECT_FALSE(store->find_near_duplicate(~h));
}

TEST(DedupeStore, OutboxAndWatermarksAreDurableAcrossReopen) {
  TempDir dir;
  const OutboxEntry e1{"e_1", make_post_id("s", "1"), "s", make_content_hash("", "1"), 1, "postwire.posts"};
  const OutboxEntry e2{"e_2", make_comment_id("s", "2"), "s", make_content_hash("", "2"),
                       3,     "postwire.comments"};
  {
    auto store = open_ok(dir.path());
    EXPECT_TRUE(store->outbox().empty());
    ASSERT_TRUE(store->record_outbox({e1, e2}));
    ASSERT_TRUE(store->record_outbox({e1}));  // recorded twice: kept once
    ASSERT_TRUE(store->record_watermarks({{"postwire.posts", 0, 10}, {"postwire.posts", 1, 4}}));
    ASSERT_TRUE(store->record_watermarks({{"postwire.posts", 0, 12}}));
    // No flush(): both are committed before record_* return.
  }
  {
    auto store = open_ok(dir.path());
    EXPECT_EQ(store->outbox(), (std::vector<OutboxEntry>{e1, e2}));
    EXPECT_EQ(store->watermarks(),
              (std::vector<PartitionOffset>{{"postwire.posts", 0, 12}, {"postwire.posts", 1, 4}}));
    ASSERT_TRUE(store->clear_outbox({"e_1", "e_unknown"}));
  }
  auto store = open_ok(dir.path());
  EXPECT_EQ(store->outbox(), (std::vector<OutboxEntry>{e2}));
}

TEST(DedupeStore, ResetsOneSourceOrEverything) {
  TempDir dir;
  const auto a = make_post_id("a", "1");
  const auto b = make_post_id("b", "1");
  const auto h = make_content_hash("", "x");
  {
    auto store = open_ok(dir.path());
    store->acknowledge(a, "a", h, 1);
    store->acknowledge(b, "b", h, 1);
    store->set_validators("a", SourceValidators{"\"e\"", std::nullopt});
    store->set_window("a", {{a}});
    store->remember_url(5, a);
    ASSERT_TRUE(store->flush());
    auto removed = store->reset_source("a");
    ASSERT_TRUE(removed);
    EXPECT_EQ(*removed, 1U);
    EXPECT_EQ(store->classify(a, h).kind, Kind::fresh);
    EXPECT_EQ(store->classify(b, h).kind, Kind::duplicate);
    EXPECT_FALSE(store->validators("a").etag);
    EXPECT_EQ(store->window_size("a"), 0U);
    EXPECT_FALSE(store->find_by_url(5));
  }
  {
    auto store = open_ok(dir.path());
    EXPECT_EQ(store->size(), 1U);
    EXPECT_EQ(store->classify(a, h).kind, Kind::fresh);
    ASSERT_TRUE(store->record_outbox({OutboxEntry{"e", b, "b", h, 1, "t"}}));
    auto removed = store->reset_all();
    ASSERT_TRUE(removed);
    EXPECT_EQ(*removed, 1U);
    // Usable afterwards.
    store->acknowledge(a, "a", h, 1);
    ASSERT_TRUE(store->flush());
  }
  auto store = open_ok(dir.path());
  EXPECT_EQ(store->size(), 1U);
  EXPECT_EQ(store->classify(b, h).kind, Kind::fresh);
  EXPECT_TRUE(store->outbox().empty());
}

TEST(DedupeStore, RefusesAnEmptyFormatAndADamagedItemsTable) {
  TempDir dir;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "state.db").c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA application_id=1347900244; CREATE TABLE x (y)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto store = DedupeStore::open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("no state format version"), std::string::npos)
      << store.error().message;
}
TEST(DedupeStore, RefusesAStoreWhoseItemsAreDamaged) {
  TempDir dir;
  {
    auto store = open_ok(dir.path());
    ASSERT_TRUE(store);
    ASSERT_NO_FATAL_FAILURE(write_posts(*store, 0, 5000));
  }
  // Overwrite pages in the middle of the file (the items table's leaves) with garbage.
  std::string bytes = testing::read_file(dir / "state.db");
  ASSERT_GT(bytes.size(), 200'000U);
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + std::size_t{64} * 1024; ++i)
    bytes[i] = '\xA5';
  {
    std::FILE* f = std::fopen((dir / "state.db").c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  auto store = DedupeStore::open(dir.path());
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("unreadable or damaged"), std::string::npos) << store.error().message;
}

std::uintmax_t db_file_size(const std::filesystem::path& dir) {
  return std::filesystem::file_size(dir / "state.db");
}

TEST(DedupeStore, CheckpointsTheWalIntoTheFileOnAThreadOfItsOwn) {
  TempDir dir;
  StoreOptions options;
  options.checkpoint_pages = 1;  // every commit asks for one
  {
    auto opened = open_ok(dir.path(), options);
    ASSERT_TRUE(opened);
    auto& store = *opened;
    ASSERT_TRUE(store.checkpoint_stats().background);
    const auto empty = db_file_size(dir.path());
    ASSERT_NO_FATAL_FAILURE(write_posts(store, 0, 3000));
    // The commit only woke the checkpointer; wait for it to have copied the pages.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (store.checkpoint_stats().done == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    const auto stats = store.checkpoint_stats();
    EXPECT_GE(stats.done, 1U);
    EXPECT_EQ(stats.failed, 0U);
    // The items are in state.db itself now, not only in the WAL.
    EXPECT_GT(db_file_size(dir.path()), empty + 100'000);
    ASSERT_NO_FATAL_FAILURE(write_posts(store, 3000, 10));  // the writer goes on after a checkpoint
  }
  // A clean close leaves everything in state.db and no WAL behind.
  EXPECT_FALSE(std::filesystem::exists(dir / "state.db-wal"));
  auto reopened = DedupeStore::open(dir.path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->size(), 3010U);
  EXPECT_EQ((*reopened)->classify(make_post_id("s", "3009"), make_content_hash("", "3009")).kind,
            Kind::duplicate);
}

TEST(DedupeStore, WithoutItsCheckpointThreadEachCommitCheckpointsItself) {
  TempDir dir;
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink));
  StoreOptions options;
  options.checkpoint_pages = 1;
  options.fail_checkpointer_for_test = true;
  {
    auto opened = open_ok(dir.path(), options);
    spdlog::set_default_logger(previous);
    ASSERT_TRUE(opened);
    auto& store = *opened;
    EXPECT_FALSE(store.checkpoint_stats().background);
    EXPECT_NE(log.str().find("background WAL checkpoint unavailable: reason=storage"), std::string::npos)
        << log.str();
    const auto empty = db_file_size(dir.path());
    ASSERT_NO_FATAL_FAILURE(write_posts(store, 0, 3000));
    // No thread to wait for: the commit itself copied the pages.
    EXPECT_GT(db_file_size(dir.path()), empty + 100'000);
  }
  auto reopened = DedupeStore::open(dir.path());
  ASSERT_TRUE(reopened);
  EXPECT_EQ((*reopened)->size(), 3000U);
}

}  // namespace
}  // namespace postwire
