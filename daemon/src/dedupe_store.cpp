#include "postwire/daemon/dedupe_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <system_error>

namespace postwire {
namespace {

// 'PWST' in the SQLite header: tells a postwire store from any other SQLite file.
constexpr int kApplicationId = 0x50575354;

std::uint64_t hex64(std::string_view hex) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 16 && i < hex.size(); ++i) {
    const char c = hex[i];
    const std::uint64_t d = c >= '0' && c <= '9' ? static_cast<std::uint64_t>(c - '0')
                            : c >= 'a' && c <= 'f' ? static_cast<std::uint64_t>(c - 'a' + 10)
                                                   : 0;
    v = (v << 4) | d;
  }
  return v;
}

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct DedupeStore::Db {
  sqlite3* handle = nullptr;
  ~Db() {
    if (handle != nullptr) sqlite3_close(handle);
  }
  Result<void> exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(handle, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : sqlite3_errmsg(handle);
      sqlite3_free(err);
      return make_error(Errc::storage, msg);
    }
    return {};
  }
  int query_int(const char* sql) const {
    sqlite3_stmt* st = nullptr;
    int v = 0;
    if (sqlite3_prepare_v2(handle, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return v;
  }
};

std::uint64_t DedupeStore::item_key(const std::string& item_id) {
  // Ids are "p_"/"c_" + 32 hex chars of SHA-256: already uniformly distributed.
  // Post and comment keys live in one table, so fold the kind into the key.
  const std::uint64_t kind = item_id.size() > 0 && item_id[0] == 'c' ? 0x9e3779b97f4a7c15ULL : 0;
  return hex64(std::string_view(item_id).substr(std::min<std::size_t>(2, item_id.size()))) ^ kind;
}

std::uint64_t DedupeStore::fingerprint(const std::string& content_hash) {
  const auto colon = content_hash.find(':');
  return hex64(std::string_view(content_hash).substr(colon == std::string::npos ? 0 : colon + 1));
}

Result<std::unique_ptr<DedupeStore>> DedupeStore::open(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return make_error(Errc::storage, "cannot create state_dir " + state_dir.string() + ": " + ec.message());
  const auto path = state_dir / "state.db";
  const bool existed = std::filesystem::exists(path);
  std::unique_ptr<DedupeStore> store(new DedupeStore());
  store->db_ = std::make_unique<Db>();
  if (sqlite3_open_v2(path.c_str(), &store->db_->handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    return make_error(Errc::storage, "cannot open " + path.string() + ": " + sqlite3_errmsg(store->db_->handle));
  }
  sqlite3_busy_timeout(store->db_->handle, 5000);
  // A file that is not SQLite at all fails here, with SQLite's "file is not a database".
  if (auto r = store->db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !r) {
    return make_error(Errc::storage, path.string() + " is not a postwire state store: " + r.error().message);
  }
  const int app = store->db_->query_int("PRAGMA application_id");
  const int version = store->db_->query_int("PRAGMA user_version");
  const int tables = store->db_->query_int("SELECT count(*) FROM sqlite_master");
  if (existed && tables > 0) {
    if (app != kApplicationId) {
      return make_error(Errc::storage, path.string() +
                                           " is an SQLite file but not a postwire state store; refusing to use it "
                                           "(move it away or point state_dir elsewhere)");
    }
    if (version > kFormatVersion) {
      return make_error(Errc::storage, path.string() + " has state format " + std::to_string(version) +
                                           ", newer than this postwire understands (" +
                                           std::to_string(kFormatVersion) + ")");
    }
  } else {
    const std::string schema =
        "BEGIN;"
        "PRAGMA application_id=" + std::to_string(kApplicationId) + ";"
        "PRAGMA user_version=" + std::to_string(kFormatVersion) + ";"
        "CREATE TABLE items (item_id TEXT PRIMARY KEY, source_id TEXT NOT NULL, content_hash TEXT NOT NULL,"
        " version INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE sources (source_id TEXT PRIMARY KEY, etag TEXT, last_modified TEXT,"
        " updated_at INTEGER NOT NULL) WITHOUT ROWID;"
        "COMMIT;";
    if (auto r = store->db_->exec(schema.c_str()); !r) return r.error();
  }

  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(store->db_->handle, "SELECT item_id, content_hash, version FROM items", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const std::string id(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    const std::string hash(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    store->committed_[item_key(id)] = Mark{fingerprint(hash), sqlite3_column_int64(st, 2)};
  }
  sqlite3_finalize(st);
  sqlite3_prepare_v2(store->db_->handle, "SELECT source_id, etag, last_modified FROM sources", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    SourceValidators v;
    if (sqlite3_column_type(st, 1) != SQLITE_NULL) v.etag = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
      v.last_modified = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
    }
    store->validators_[reinterpret_cast<const char*>(sqlite3_column_text(st, 0))] = v;
  }
  sqlite3_finalize(st);
  return store;
}

DedupeStore::~DedupeStore() = default;

DedupeDecision DedupeStore::classify(const std::string& item_id, const std::string& content_hash) const {
  if (auto it = in_flight_.find(item_id); it != in_flight_.end()) {
    if (it->second.first == content_hash) return {DedupeDecision::Kind::duplicate, it->second.second, {}};
    return {DedupeDecision::Kind::updated, it->second.second + 1, it->second.first};
  }
  auto it = committed_.find(item_key(item_id));
  if (it == committed_.end()) return {DedupeDecision::Kind::fresh, 1, {}};
  if (it->second.fingerprint == fingerprint(content_hash)) {
    return {DedupeDecision::Kind::duplicate, it->second.version, {}};
  }
  return {DedupeDecision::Kind::updated, it->second.version + 1, stored_hash(item_id)};
}

std::optional<std::string> DedupeStore::stored_hash(const std::string& item_id) const {
  if (auto it = recent_hashes_.find(item_id); it != recent_hashes_.end()) return it->second;
  sqlite3_stmt* st = nullptr;
  std::optional<std::string> out;
  sqlite3_prepare_v2(db_->handle, "SELECT content_hash FROM items WHERE item_id = ?", -1, &st, nullptr);
  sqlite3_bind_text(st, 1, item_id.c_str(), static_cast<int>(item_id.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return out;
}

void DedupeStore::mark_in_flight(const std::string& item_id, const std::string& content_hash, std::int64_t version) {
  in_flight_[item_id] = {content_hash, version};
}

void DedupeStore::acknowledge(const std::string& item_id, const std::string& source_id,
                              const std::string& content_hash, std::int64_t version) {
  if (auto it = in_flight_.find(item_id); it != in_flight_.end() && it->second.second <= version) {
    in_flight_.erase(it);
  }
  auto& mark = committed_[item_key(item_id)];
  if (mark.version > version) return;  // an older acknowledgement arriving late
  mark = Mark{fingerprint(content_hash), version};
  recent_hashes_[item_id] = content_hash;
  writes_.push_back({item_id, source_id, content_hash, version});
}

void DedupeStore::release(const std::string& item_id) { in_flight_.erase(item_id); }

SourceValidators DedupeStore::validators(const std::string& source_id) const {
  auto it = validators_.find(source_id);
  return it == validators_.end() ? SourceValidators{} : it->second;
}

void DedupeStore::set_validators(const std::string& source_id, const SourceValidators& v) {
  validators_[source_id] = v;
  dirty_validators_.push_back(source_id);
}

Result<void> DedupeStore::flush() {
  if (writes_.empty() && dirty_validators_.empty()) return {};
  if (auto r = db_->exec("BEGIN IMMEDIATE"); !r) return r;
  const auto now = now_seconds();
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db_->handle,
                     "INSERT INTO items (item_id, source_id, content_hash, version, first_seen, last_seen)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(item_id) DO UPDATE SET"
                     " content_hash = excluded.content_hash, version = excluded.version, last_seen = excluded.last_seen"
                     " WHERE excluded.version >= items.version",
                     -1, &st, nullptr);
  bool failed = false;
  for (const auto& w : writes_) {
    sqlite3_bind_text(st, 1, w.item_id.c_str(), static_cast<int>(w.item_id.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w.source_id.c_str(), static_cast<int>(w.source_id.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w.content_hash.c_str(), static_cast<int>(w.content_hash.size()), SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, w.version);
    sqlite3_bind_int64(st, 5, now);
    if (sqlite3_step(st) != SQLITE_DONE) failed = true;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  std::sort(dirty_validators_.begin(), dirty_validators_.end());
  dirty_validators_.erase(std::unique(dirty_validators_.begin(), dirty_validators_.end()), dirty_validators_.end());
  sqlite3_prepare_v2(db_->handle,
                     "INSERT INTO sources (source_id, etag, last_modified, updated_at) VALUES (?1, ?2, ?3, ?4)"
                     " ON CONFLICT(source_id) DO UPDATE SET etag = excluded.etag,"
                     " last_modified = excluded.last_modified, updated_at = excluded.updated_at",
                     -1, &st, nullptr);
  for (const auto& id : dirty_validators_) {
    const auto& v = validators_[id];
    sqlite3_bind_text(st, 1, id.c_str(), static_cast<int>(id.size()), SQLITE_STATIC);
    if (v.etag) sqlite3_bind_text(st, 2, v.etag->c_str(), -1, SQLITE_STATIC); else sqlite3_bind_null(st, 2);
    if (v.last_modified) {
      sqlite3_bind_text(st, 3, v.last_modified->c_str(), -1, SQLITE_STATIC);
    } else {
      sqlite3_bind_null(st, 3);
    }
    sqlite3_bind_int64(st, 4, now);
    if (sqlite3_step(st) != SQLITE_DONE) failed = true;
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (failed) {
    const std::string msg = sqlite3_errmsg(db_->handle);
    (void)db_->exec("ROLLBACK");
    return make_error(Errc::storage, "state write failed: " + msg);
  }
  if (auto r = db_->exec("COMMIT"); !r) return r;
  writes_.clear();
  recent_hashes_.clear();
  dirty_validators_.clear();
  return {};
}

}  // namespace postwire
