#include "postwire/daemon/dedupe_store.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>

#include <spdlog/spdlog.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "postwire/daemon/config.hpp"

namespace postwire {
namespace {

// 'PWST' in the SQLite header: tells a postwire store from any other SQLite file.
constexpr int kApplicationId = 0x50575354;

// In-memory slot meta: version (24 bits) | source number (16) | last-seen hour (24).
constexpr std::uint64_t kVersionMask = (1ULL << 24) - 1;  // also "saturated: ask the disk"
constexpr std::uint64_t kSourceMask = (1ULL << 16) - 1;
constexpr std::uint64_t kHourMask = (1ULL << 24) - 1;
constexpr std::int64_t kHourEpoch = 1577836800;  // 2020-01-01T00:00:00Z
constexpr std::uint16_t kOverflowSource = 0xFFFF;

constexpr std::uint64_t pack(std::int64_t version, std::uint16_t source, std::uint64_t hour) {
  const auto v = version < 0 ? 0 : std::min<std::uint64_t>(static_cast<std::uint64_t>(version), kVersionMask);
  return v | (static_cast<std::uint64_t>(source) << 24) | (std::min(hour, kHourMask) << 40);
}
constexpr std::uint64_t meta_version(std::uint64_t meta) { return meta & kVersionMask; }
constexpr std::uint16_t meta_source(std::uint64_t meta) {
  return static_cast<std::uint16_t>((meta >> 24) & kSourceMask);
}
constexpr std::uint64_t meta_hour(std::uint64_t meta) { return meta >> 40; }
constexpr std::uint64_t with_hour(std::uint64_t meta, std::uint64_t hour) {
  return (meta & ((1ULL << 40) - 1)) | (std::min(hour, kHourMask) << 40);
}
// Rounded up, so an item never expires before its time (at most an hour late).
constexpr std::uint64_t hour_of(std::int64_t unix_seconds) {
  if (unix_seconds <= kHourEpoch) return 0;
  return static_cast<std::uint64_t>((unix_seconds - kHourEpoch + 3599) / 3600);
}
constexpr std::int64_t seconds_of_hour(std::uint64_t hour) {
  return kHourEpoch + static_cast<std::int64_t>(hour) * 3600;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The first 16 hex digits as a number, or nullopt if there are fewer.
std::optional<std::uint64_t> hex64(std::string_view hex) {
  if (hex.size() < 16) return std::nullopt;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    const int d = hex_digit(hex[i]);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  return v;
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool is_comment_id(const std::string& item_id) {
  return item_id.size() > 1 && item_id[0] == 'c' && item_id[1] == '_';
}

std::string keys_blob(const std::vector<std::uint64_t>& keys) {
  std::string out(keys.size() * 8, '\0');
  for (std::size_t i = 0; i < keys.size(); ++i) {
    for (int b = 0; b < 8; ++b)
      out[i * 8 + static_cast<std::size_t>(b)] = static_cast<char>((keys[i] >> (8 * b)) & 0xFF);
  }
  return out;
}

std::vector<std::uint64_t> blob_keys(const void* data, int bytes) {
  std::vector<std::uint64_t> keys(bytes > 0 ? static_cast<std::size_t>(bytes) / 8 : 0);
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    std::uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | p[i * 8 + static_cast<std::size_t>(b)];
    keys[i] = v;
  }
  return keys;
}

constexpr std::int64_t band_key(int band, std::uint64_t simhash) {
  return (static_cast<std::int64_t>(band) << 16) |
         static_cast<std::int64_t>((simhash >> (16 * band)) & 0xFFFF);
}

int popcount_distance(std::uint64_t a, std::uint64_t b) { return __builtin_popcountll(a ^ b); }

// Format 3: format 2 plus sources.window_fingerprints.
const char* kSchema =
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE sources (source_num INTEGER PRIMARY KEY, source_id TEXT NOT NULL UNIQUE, etag TEXT,"
    " last_modified TEXT, updated_at INTEGER NOT NULL, window_keys BLOB, window_fingerprints BLOB);"
    "CREATE TABLE items (item_key INTEGER PRIMARY KEY, fingerprint INTEGER NOT NULL, version INTEGER NOT "
    "NULL,"
    " last_seen INTEGER NOT NULL, source_num INTEGER NOT NULL, first_seen INTEGER NOT NULL,"
    " item_id TEXT NOT NULL, content_hash TEXT NOT NULL);"
    "CREATE TABLE urls (url_key INTEGER PRIMARY KEY, item_key INTEGER NOT NULL, item_id TEXT NOT NULL);"
    "CREATE INDEX urls_by_item ON urls (item_key);"
    "CREATE TABLE simhashes (item_key INTEGER PRIMARY KEY, simhash INTEGER NOT NULL, item_id TEXT NOT NULL);"
    "CREATE TABLE simhash_bands (band_key INTEGER NOT NULL, item_key INTEGER NOT NULL, simhash INTEGER NOT "
    "NULL,"
    " PRIMARY KEY (band_key, item_key)) WITHOUT ROWID;"
    "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, item_id TEXT NOT NULL,"
    " source_id TEXT NOT NULL, content_hash TEXT NOT NULL, version INTEGER NOT NULL, topic TEXT NOT NULL,"
    " recorded_at INTEGER NOT NULL);"
    "CREATE TABLE watermarks (topic TEXT NOT NULL, partition_id INTEGER NOT NULL, start_offset INTEGER NOT "
    "NULL,"
    " updated_at INTEGER NOT NULL, PRIMARY KEY (topic, partition_id)) WITHOUT ROWID;"
    "CREATE VIEW item_view AS SELECT i.item_id, s.source_id, i.content_hash, i.version,"
    " datetime(i.first_seen, 'unixepoch') AS first_seen, datetime(i.last_seen, 'unixepoch') AS last_seen"
    " FROM items i LEFT JOIN sources s USING (source_num);";

}  // namespace

// ---------------------------------------------------------------------------------------------
// MarkTable

namespace detail {

__extension__ using Uint128 = unsigned __int128;

// Monotonic in the key (keys are uniform already): loading rows in key order,
// as SQLite returns them, fills the table front to back instead of at random.
std::size_t MarkTable::home(std::uint64_t key) const {
  return static_cast<std::size_t>((static_cast<Uint128>(key) * slots_.size()) >> 64);
}

void MarkTable::reserve(std::size_t n) {
  // Keep the load at most 0.8; a reserve leaves it at 0.7.
  if (n * 5 <= slots_.size() * 4) return;
  std::vector<Slot> old(std::max<std::size_t>(16, n * 10 / 7 + 1));
  old.swap(slots_);
  size_ = 0;
  for (const auto& s : old) {
    if (s.key == 0) continue;
    bool inserted = false;
    upsert(s.key, inserted) = s;
  }
}

void MarkTable::grow() {
  const std::size_t target = std::max<std::size_t>(16, slots_.size() + slots_.size() / 2);
  reserve(target * 7 / 10);
}

MarkTable::Slot* MarkTable::find(std::uint64_t key) {
  return const_cast<Slot*>(std::as_const(*this).find(key));
}

const MarkTable::Slot* MarkTable::find(std::uint64_t key) const {
  if (slots_.empty()) return nullptr;
  const std::size_t n = slots_.size();
  for (std::size_t i = home(key);; i = i + 1 == n ? 0 : i + 1) {
    const Slot& s = slots_[i];
    if (s.key == key) return &s;
    if (s.key == 0) return nullptr;
  }
}

MarkTable::Slot& MarkTable::upsert(std::uint64_t key, bool& inserted) {
  if ((size_ + 1) * 5 > slots_.size() * 4) grow();
  const std::size_t n = slots_.size();
  for (std::size_t i = home(key);; i = i + 1 == n ? 0 : i + 1) {
    Slot& s = slots_[i];
    if (s.key == key) {
      inserted = false;
      return s;
    }
    if (s.key == 0) {
      s = Slot{key, 0, 0};
      ++size_;
      inserted = true;
      return s;
    }
  }
}

bool MarkTable::erase(std::uint64_t key) {
  if (slots_.empty()) return false;
  const std::size_t n = slots_.size();
  std::size_t i = home(key);
  while (slots_[i].key != key) {
    if (slots_[i].key == 0) return false;
    i = i + 1 == n ? 0 : i + 1;
  }
  // Backward-shift deletion: pull later members of the cluster into the hole
  // unless their home lies cyclically in (hole, position].
  std::size_t j = i;
  for (;;) {
    j = j + 1 == n ? 0 : j + 1;
    if (slots_[j].key == 0) break;
    const std::size_t h = home(slots_[j].key);
    const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (stays) continue;
    slots_[i] = slots_[j];
    i = j;
  }
  slots_[i] = Slot{};
  --size_;
  return true;
}

void MarkTable::clear() {
  std::vector<Slot>().swap(slots_);
  size_ = 0;
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// SQLite plumbing

struct DedupeStore::Db {
  sqlite3* handle = nullptr;
  std::unordered_map<std::string_view, sqlite3_stmt*> statements;

  ~Db() {
    for (auto& [sql, st] : statements) sqlite3_finalize(st);
    if (handle != nullptr) sqlite3_close(handle);
  }
  std::string errmsg() const { return sqlite3_errmsg(handle); }
  Result<void> exec(const char* sql) const {
    char* err = nullptr;
    if (sqlite3_exec(handle, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err != nullptr ? err : sqlite3_errmsg(handle);
      sqlite3_free(err);
      return make_error(Errc::storage, msg);
    }
    return {};
  }
  std::optional<std::int64_t> query_int(const char* sql) const {
    sqlite3_stmt* st = nullptr;
    std::optional<std::int64_t> v;
    if (sqlite3_prepare_v2(handle, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
  }
  // A cached prepared statement; `sql` must be a string literal.
  sqlite3_stmt* prepare(std::string_view sql) {
    auto it = statements.find(sql);
    if (it != statements.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(handle, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &st,
                           nullptr) != SQLITE_OK) {
      return nullptr;
    }
    statements.emplace(sql, st);
    return st;
  }
};

// Copies committed WAL pages back into state.db on a thread of its own. SQLite's
// automatic checkpoint runs inside the commit that crosses its threshold, which
// is the event loop's commit here: such commits took 13-30 ms instead of 3-12 ms,
// with no acknowledgement taken and no fetch started meanwhile (bench/RESULTS.md,
// "pipeline", 2026-11-28 night). PASSIVE never blocks
// the writer or waits for readers; frames it cannot copy yet, the next one does.
// It has its own connection: a connection is only ever used by one thread here.
class DedupeStore::WalCheckpointer {
 public:
  // Null (and `error` set) if the second connection cannot be opened.
  static std::unique_ptr<WalCheckpointer> start(const std::filesystem::path& path, sqlite3* writer, int pages,
                                                bool fail_for_test, std::string& error) {
    std::unique_ptr<WalCheckpointer> self(new WalCheckpointer(writer, pages));
    const int rc = fail_for_test ? SQLITE_CANTOPEN
                                 : sqlite3_open_v2(path.c_str(), &self->db_,
                                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      error = self->db_ != nullptr ? sqlite3_errmsg(self->db_) : sqlite3_errstr(rc);
      return nullptr;
    }
    // The same durability as the writer: the WAL is synced before the copy, state.db after it.
    (void)sqlite3_exec(self->db_, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
    self->thread_ = std::thread([raw = self.get()] {
      pthread_setname_np(pthread_self(), "pw-checkpoint");
      raw->run();
    });
    // Replaces the writer's automatic checkpoint (which is itself a WAL hook).
    sqlite3_wal_hook(writer, &WalCheckpointer::on_commit, self.get());
    self->hooked_ = true;
    return self;
  }

  ~WalCheckpointer() {
    if (hooked_) sqlite3_wal_autocheckpoint(writer_, pages_);  // the writer's own, as before start()
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
    // Closed before the writer, so that the writer's close is the last one and
    // checkpoints the rest of the WAL into state.db.
    sqlite3_close(db_);
  }
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  CheckpointStats stats() const { return {done_.load(), failed_.load(), true}; }

 private:
  WalCheckpointer(sqlite3* writer, int pages) : writer_(writer), pages_(pages) {}

  static int on_commit(void* arg, sqlite3* /*db*/, const char* /*schema*/, int wal_pages) {
    auto* self = static_cast<WalCheckpointer*>(arg);
    if (wal_pages >= self->pages_) {
      {
        const std::lock_guard lock(self->mutex_);
        self->wanted_ = true;
      }
      self->wake_.notify_one();
    }
    return SQLITE_OK;
  }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return wanted_ || stopping_; });
      if (stopping_) return;
      wanted_ = false;
      lock.unlock();
      const int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      if (rc == SQLITE_OK) {
        done_.fetch_add(1);
      } else if (rc != SQLITE_BUSY) {  // BUSY: another checkpoint is running; it does the work
        failed_.fetch_add(1);
        spdlog::warn("state: WAL checkpoint failed: reason=storage {} (the WAL grows until one succeeds)",
                     sqlite3_errmsg(db_));
      }
      lock.lock();
    }
  }

  sqlite3* writer_;
  int pages_;
  bool hooked_ = false;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool wanted_ = false;
  bool stopping_ = false;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::thread thread_;
};

namespace {

// One use of a cached statement: binds, steps, and resets on destruction.
class Query {
 public:
  Query(sqlite3_stmt* st) : st_(st) {}  // NOLINT(google-explicit-constructor)
  ~Query() {
    if (st_ != nullptr) {
      sqlite3_reset(st_);
      sqlite3_clear_bindings(st_);
    }
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  bool valid() const { return st_ != nullptr; }
  Query& bind(int i, std::int64_t v) {
    if (st_ != nullptr) sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Query& bind_u64(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Query& bind(int i, const std::string& s) {
    if (st_ != nullptr) sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& bind(int i, const std::optional<std::string>& s) {
    if (st_ == nullptr) return *this;
    if (s) return bind(i, *s);
    sqlite3_bind_null(st_, i);
    return *this;
  }
  Query& bind_blob(int i, const std::string& bytes) {
    if (st_ != nullptr)
      sqlite3_bind_blob(st_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int step() { return st_ == nullptr ? SQLITE_ERROR : sqlite3_step(st_); }
  bool run() { return step() == SQLITE_DONE; }
  std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  std::uint64_t u64(int c) const { return static_cast<std::uint64_t>(sqlite3_column_int64(st_, c)); }
  std::string text(int c) const {
    const auto* p = sqlite3_column_text(st_, c);
    return p == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(p),
                                      static_cast<std::size_t>(sqlite3_column_bytes(st_, c)));
  }
  std::optional<std::string> opt_text(int c) const {
    if (sqlite3_column_type(st_, c) == SQLITE_NULL) return std::nullopt;
    return text(c);
  }
  sqlite3_stmt* raw() const { return st_; }

 private:
  sqlite3_stmt* st_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Keys

std::uint64_t DedupeStore::item_key(const std::string& item_id) {
  std::uint64_t key = 0;
  // Ids are "p_"/"c_" + hex of SHA-256: already uniformly distributed. Post and
  // comment keys live in one table, so the kind is folded into the key.
  if (item_id.size() >= 18 && item_id[1] == '_' && (item_id[0] == 'p' || item_id[0] == 'c')) {
    if (auto v = hex64(std::string_view(item_id).substr(2))) {
      key = *v ^ (item_id[0] == 'c' ? 0x9e3779b97f4a7c15ULL : 0);
    } else {
      key = XXH3_64bits(item_id.data(), item_id.size());
    }
  } else {
    key = XXH3_64bits(item_id.data(), item_id.size());
  }
  return key == 0 ? 1 : key;  // 0 marks an empty slot
}

std::uint64_t DedupeStore::fingerprint(const std::string& content_hash) {
  const auto colon = content_hash.find(':');
  if (auto v = hex64(std::string_view(content_hash).substr(colon == std::string::npos ? 0 : colon + 1)))
    return *v;
  return XXH3_64bits(content_hash.data(), content_hash.size());
}

StoreOptions make_store_options(const Config& config) {
  StoreOptions o;
  o.default_ttl = config.state.ttl;
  o.max_items = config.state.max_items;
  for (const auto& s : config.sources) {
    if (s.state_ttl) o.source_ttl[s.id] = *s.state_ttl;
  }
  return o;
}

// ---------------------------------------------------------------------------------------------
// Opening, locking, migrating, loading

namespace {

// Holds an exclusive flock on <state_dir>/state.lock; returns the fd.
Result<int> take_lock(const std::filesystem::path& state_dir) {
  const auto path = state_dir / "state.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(Errc::storage, "cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[32] = {};
    const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    if (n > 0) holder = std::string(buf, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return make_error(Errc::storage, "state directory " + state_dir.string() +
                                           " is in use by another postwire process" +
                                           (holder.empty() ? std::string() : " (pid " + holder + ")") +
                                           "; lock file " + path.string());
    }
    return make_error(Errc::storage, "cannot lock " + path.string() + ": " + std::strerror(err));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] const auto written = ::pwrite(fd, pid.data(), pid.size(), 0);
  }
  return fd;
}

}  // namespace

std::optional<long> DedupeStore::locked_by(const std::filesystem::path& state_dir) {
  const auto path = state_dir / "state.lock";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<long> holder;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    char buf[32] = {};
    const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    holder = n > 0 ? std::strtol(buf, nullptr, 10) : 0L;
  }
  ::close(fd);  // also drops the shared lock if we got it
  return holder;
}

DedupeStore::DedupeStore(StoreOptions options) : options_(std::move(options)) { source_ids_.emplace_back(); }

DedupeStore::~DedupeStore() {
  checkpointer_.reset();
  db_.reset();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Result<std::unique_ptr<DedupeStore>> DedupeStore::open(const std::filesystem::path& state_dir,
                                                       StoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return make_error(Errc::storage, "cannot create state_dir " + state_dir.string() + ": " + ec.message());
  std::unique_ptr<DedupeStore> store(new DedupeStore(std::move(options)));
  auto lock = take_lock(state_dir);
  if (!lock) return std::move(lock).error();
  store->lock_fd_ = *lock;

  const auto path = state_dir / "state.db";
  store->path_ = path;
  const bool existed = std::filesystem::exists(path);
  store->db_ = std::make_unique<Db>();
  auto& db = *store->db_;
  // NOMUTEX: each connection is only ever used by one thread at a time (the event
  // loop's here, the checkpoint thread's its own), so SQLite's per-call locking
  // of the connection is pure cost.
  if (sqlite3_open_v2(path.c_str(), &db.handle,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return make_error(Errc::storage, "cannot open " + path.string() + ": " + db.errmsg());
  }
  sqlite3_busy_timeout(db.handle, 5000);
  const std::string damaged = path.string() + " is not a postwire state store (unreadable or damaged: ";
  const std::string advice =
      "); refusing to start with empty state. Move it away (or restore a backup) "
      "and start again, or point state_dir elsewhere";
  // A file that is not SQLite at all fails here, with SQLite's "file is not a database".
  if (auto r = db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;"
                       " PRAGMA journal_size_limit=67108864;");
      !r) {
    return make_error(Errc::storage, damaged + r.error().message + advice);
  }
  const auto app = db.query_int("PRAGMA application_id");
  const auto version = db.query_int("PRAGMA user_version");
  const auto tables = db.query_int("SELECT count(*) FROM sqlite_master");
  if (!app || !version || !tables) return make_error(Errc::storage, damaged + db.errmsg() + advice);
  if (existed && *tables > 0) {
    if (*app != kApplicationId) {
      return make_error(Errc::storage,
                        path.string() +
                            " is an SQLite file but not a postwire state store; refusing to use it "
                            "(move it away or point state_dir elsewhere)");
    }
    if (*version > kFormatVersion) {
      return make_error(Errc::storage, path.string() + " has state format " + std::to_string(*version) +
                                           ", newer than this postwire understands (" +
                                           std::to_string(kFormatVersion) + "); upgrade postwire");
    }
    if (*version < 1) {
      return make_error(Errc::storage,
                        path.string() + " has no state format version; refusing to use it" + advice);
    }
    if (*version == 1) {
      if (auto r = store->migrate_v1(); !r) {
        return make_error(Errc::storage, "migrating " + path.string() + " from format 1 to " +
                                             std::to_string(kFormatVersion) +
                                             " failed: " + r.error().message);
      }
    }
    if (*version == 2) {
      // Format 3 only adds the window's source fingerprints; until the next poll of
      // each source there are none, so nothing is skipped.
      if (auto r = db.exec("BEGIN IMMEDIATE;"
                           "ALTER TABLE sources ADD COLUMN window_fingerprints BLOB;"
                           "INSERT OR REPLACE INTO meta (name, value) VALUES ('migrated_from', 2);"
                           "PRAGMA user_version=3; COMMIT;");
          !r) {
        (void)db.exec("ROLLBACK");
        return make_error(Errc::storage, "migrating " + path.string() + " from format 2 to " +
                                             std::to_string(kFormatVersion) +
                                             " failed: " + r.error().message);
      }
    }
  } else {
    const std::string schema = "BEGIN; PRAGMA application_id=" + std::to_string(kApplicationId) +
                               "; PRAGMA user_version=" + std::to_string(kFormatVersion) + ";" + kSchema +
                               "COMMIT;";
    if (auto r = db.exec(schema.c_str()); !r)
      return make_error(Errc::storage, "cannot create " + path.string() + ": " + r.error().message);
  }
  if (auto r = store->load(); !r) return make_error(Errc::storage, damaged + r.error().message + advice);
  store->start_checkpointer();
  return store;
}

void DedupeStore::start_checkpointer() {
  std::string error;
  checkpointer_ = WalCheckpointer::start(path_, db_->handle, options_.checkpoint_pages,
                                         options_.fail_checkpointer_for_test, error);
  if (!checkpointer_) {
    sqlite3_wal_autocheckpoint(db_->handle, options_.checkpoint_pages);
    spdlog::warn(
        "state: background WAL checkpoint unavailable: reason=storage {}; commits checkpoint {} "
        "themselves (slower commits, nothing else changes)",
        error, path_.string());
  }
}

CheckpointStats DedupeStore::checkpoint_stats() const {
  return checkpointer_ ? checkpointer_->stats() : CheckpointStats{};
}

Result<void> DedupeStore::migrate_v1() {
  auto& db = *db_;
  if (auto r = db.exec("BEGIN IMMEDIATE;"
                       "ALTER TABLE items RENAME TO items_v1;"
                       "ALTER TABLE sources RENAME TO sources_v1;");
      !r) {
    (void)db.exec("ROLLBACK");
    return r;
  }
  auto fail = [&](std::string msg) -> Result<void> {
    (void)db.exec("ROLLBACK");
    return make_error(Errc::storage, std::move(msg));
  };
  if (auto r = db.exec(kSchema); !r) return fail(r.error().message);
  if (auto r =
          db.exec("INSERT INTO sources (source_id, etag, last_modified, updated_at)"
                  " SELECT source_id, etag, last_modified, updated_at FROM sources_v1 ORDER BY source_id;"
                  "INSERT OR IGNORE INTO sources (source_id, updated_at)"
                  " SELECT DISTINCT source_id, 0 FROM items_v1 ORDER BY source_id;");
      !r) {
    return fail(r.error().message);
  }
  sqlite3_stmt* read = nullptr;
  sqlite3_stmt* write = nullptr;
  sqlite3_prepare_v2(db.handle,
                     "SELECT i.item_id, s.source_num, i.content_hash, i.version, i.first_seen, i.last_seen"
                     " FROM items_v1 i JOIN sources s USING (source_id)",
                     -1, &read, nullptr);
  sqlite3_prepare_v2(
      db.handle,
      "INSERT INTO items (item_key, fingerprint, version, last_seen, source_num, first_seen, item_id,"
      " content_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (item_key) DO UPDATE SET"
      " fingerprint = excluded.fingerprint, version = excluded.version, content_hash = excluded.content_hash,"
      " item_id = excluded.item_id WHERE excluded.version > items.version",
      -1, &write, nullptr);
  if (read == nullptr || write == nullptr) {
    sqlite3_finalize(read);
    sqlite3_finalize(write);
    return fail(db.errmsg());
  }
  int rc = SQLITE_ROW;
  bool ok = true;
  while ((rc = sqlite3_step(read)) == SQLITE_ROW) {
    const std::string id(reinterpret_cast<const char*>(sqlite3_column_text(read, 0)));
    const std::string hash(reinterpret_cast<const char*>(sqlite3_column_text(read, 2)));
    sqlite3_bind_int64(write, 1, static_cast<std::int64_t>(item_key(id)));
    sqlite3_bind_int64(write, 2, static_cast<std::int64_t>(fingerprint(hash)));
    sqlite3_bind_int64(write, 3, sqlite3_column_int64(read, 3));
    sqlite3_bind_int64(write, 4, sqlite3_column_int64(read, 5));
    sqlite3_bind_int64(write, 5, sqlite3_column_int64(read, 1));
    sqlite3_bind_int64(write, 6, sqlite3_column_int64(read, 4));
    sqlite3_bind_text(write, 7, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(write, 8, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(write) != SQLITE_DONE) ok = false;
    sqlite3_reset(write);
    if (!ok) break;
  }
  sqlite3_finalize(read);
  sqlite3_finalize(write);
  if (!ok || rc != SQLITE_DONE) return fail(db.errmsg());
  if (auto r = db.exec("DROP TABLE items_v1; DROP TABLE sources_v1;"
                       "INSERT INTO meta (name, value) VALUES ('migrated_from', 1);"
                       "PRAGMA user_version=3;");
      !r) {
    return fail(r.error().message);
  }
  return db.exec("COMMIT");
}

Result<void> DedupeStore::load() {
  auto& db = *db_;
  if (auto hint = db.query_int("SELECT value FROM meta WHERE name = 'item_count'")) {
    marks_.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, *hint)));
  }
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(
          db.handle,
          "SELECT source_num, source_id, etag, last_modified, window_keys, window_fingerprints FROM sources"
          " ORDER BY source_num",
          -1, &st, nullptr) != SQLITE_OK) {
    return make_error(Errc::storage, db.errmsg());
  }
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const auto num64 = sqlite3_column_int64(st, 0);
    if (num64 <= 0 || num64 > kOverflowSource) continue;
    const auto num = static_cast<std::uint16_t>(num64);
    const std::string id(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    if (source_ids_.size() <= num) source_ids_.resize(num + 1U);
    source_ids_[num] = id;
    source_nums_[id] = num;
    SourceValidators v;
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
      v.etag = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
    if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
      v.last_modified = reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    }
    if (v.etag || v.last_modified) validators_[id] = v;
    if (sqlite3_column_type(st, 4) == SQLITE_BLOB) {
      auto keys = blob_keys(sqlite3_column_blob(st, 4), sqlite3_column_bytes(st, 4));
      if (!keys.empty()) windows_[num] = std::move(keys);
    }
    if (sqlite3_column_type(st, 5) == SQLITE_BLOB) {
      // Triples (source fingerprint, item key, content fingerprint), sorted.
      auto words = blob_keys(sqlite3_column_blob(st, 5), sqlite3_column_bytes(st, 5));
      std::vector<WindowFingerprint> fps;
      fps.reserve(words.size() / 3);
      for (std::size_t i = 0; i + 2 < words.size(); i += 3)
        fps.push_back({words[i], words[i + 1], words[i + 2]});
      if (!fps.empty()) window_fingerprints_[num] = std::move(fps);
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return make_error(Errc::storage, db.errmsg());
  persisted_sources_ = source_ids_.size() - 1;

  // The hot loop: 10 million rows must load in well under 5 s.
  if (sqlite3_prepare_v2(db.handle, "SELECT item_key, fingerprint, version, last_seen, source_num FROM items",
                         -1, &st, nullptr) != SQLITE_OK) {
    return make_error(Errc::storage, db.errmsg());
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const auto key = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    if (key == 0) continue;
    bool inserted = false;
    auto& slot = marks_.upsert(key, inserted);
    const auto src = sqlite3_column_int64(st, 4);
    slot.fingerprint = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
    slot.meta = pack(sqlite3_column_int64(st, 2),
                     static_cast<std::uint16_t>(src <= 0 || src > kOverflowSource ? kOverflowSource : src),
                     hour_of(sqlite3_column_int64(st, 3)));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return make_error(Errc::storage, db.errmsg());
  return {};
}

// ---------------------------------------------------------------------------------------------
// Sources

std::optional<std::uint16_t> DedupeStore::find_source_num(const std::string& source_id) const {
  auto it = source_nums_.find(source_id);
  if (it == source_nums_.end()) return std::nullopt;
  return it->second;
}

std::uint16_t DedupeStore::source_num(const std::string& source_id) {
  if (auto n = find_source_num(source_id)) return *n;
  if (source_ids_.size() >= kOverflowSource) {
    // At most 65,534 sources are told apart; the rest share the overflow number.
    if (source_ids_.size() == kOverflowSource) source_ids_.emplace_back("(other sources)");
    return kOverflowSource;
  }
  const auto num = static_cast<std::uint16_t>(source_ids_.size());
  source_ids_.push_back(source_id);
  source_nums_[source_id] = num;
  return num;
}

std::int64_t DedupeStore::now_seconds() const {
  return unix_seconds(options_.clock ? options_.clock() : std::chrono::system_clock::now());
}

std::chrono::seconds DedupeStore::ttl_for(std::uint16_t num) const {
  if (num < source_ids_.size()) {
    if (auto it = options_.source_ttl.find(source_ids_[num]); it != options_.source_ttl.end())
      return it->second;
  }
  return options_.default_ttl;
}

// ---------------------------------------------------------------------------------------------
// Dedupe

DedupeDecision DedupeStore::classify(const std::string& item_id, const std::string& content_hash) const {
  const auto key = item_key(item_id);
  if (!in_flight_.empty()) {
    if (auto it = in_flight_.find(key); it != in_flight_.end()) {
      if (it->second.first == content_hash) return {DedupeDecision::Kind::duplicate, it->second.second, {}};
      return {DedupeDecision::Kind::updated, it->second.second + 1, it->second.first};
    }
  }
  const auto* slot = marks_.find(key);
  if (slot == nullptr) return {DedupeDecision::Kind::fresh, 1, {}};
  auto version = static_cast<std::int64_t>(meta_version(slot->meta));
  if (meta_version(slot->meta) == kVersionMask) version = stored_version(key);
  if (slot->fingerprint == fingerprint(content_hash)) return {DedupeDecision::Kind::duplicate, version, {}};
  return {DedupeDecision::Kind::updated, version + 1, stored_hash(key)};
}

std::optional<std::string> DedupeStore::stored_hash(std::uint64_t key) const {
  if (auto it = recent_writes_.find(key); it != recent_writes_.end()) return writes_[it->second].content_hash;
  Query q(db_->prepare("SELECT content_hash FROM items WHERE item_key = ?1"));
  q.bind_u64(1, key);
  if (q.step() == SQLITE_ROW) return q.text(0);
  return std::nullopt;
}

std::int64_t DedupeStore::stored_version(std::uint64_t key) const {
  if (auto it = recent_writes_.find(key); it != recent_writes_.end()) return writes_[it->second].version;
  Query q(db_->prepare("SELECT version FROM items WHERE item_key = ?1"));
  q.bind_u64(1, key);
  if (q.step() == SQLITE_ROW) return q.i64(0);
  return static_cast<std::int64_t>(kVersionMask);
}

void DedupeStore::mark_in_flight(const std::string& item_id, const std::string& content_hash,
                                 std::int64_t version) {
  auto& mark = in_flight_[item_key(item_id)];
  mark.first = content_hash;
  mark.second = version;
}

void DedupeStore::acknowledge(const std::string& item_id, const std::string& source_id,
                              const std::string& content_hash, std::int64_t version) {
  const auto key = item_key(item_id);
  if (auto it = in_flight_.find(key); it != in_flight_.end() && it->second.second <= version) {
    in_flight_.erase(it);
  }
  bool inserted = false;
  auto& slot = marks_.upsert(key, inserted);
  if (!inserted) {
    auto current = static_cast<std::int64_t>(meta_version(slot.meta));
    if (meta_version(slot.meta) == kVersionMask) current = stored_version(key);
    if (current > version) return;  // an older acknowledgement arriving late
  }
  const auto num = source_num(source_id);
  const auto fp = fingerprint(content_hash);
  auto* s = marks_.find(key);  // source_num() does not touch the table, but stay safe
  s->fingerprint = fp;
  s->meta = pack(version, num, hour_of(now_seconds()));
  recent_writes_[key] = writes_.size();
  writes_.push_back({key, fp, item_id, content_hash, version, num});
}

void DedupeStore::release(const std::string& item_id) { in_flight_.erase(item_key(item_id)); }

void DedupeStore::touch(const std::string& item_id, const std::string& /*source_id*/) {
  touch_key(item_key(item_id));
}

void DedupeStore::touch_key(std::uint64_t key) {
  auto* slot = marks_.find(key);
  if (slot == nullptr) return;
  // Last-seen is kept to the hour (rounded up): a touch within the same hour
  // changes nothing, and costs no disk write.
  const auto now = now_seconds();
  const auto hour = hour_of(now);
  if (hour <= meta_hour(slot->meta)) return;
  slot->meta = with_hour(slot->meta, hour);
  touches_[key] = now;
}

void DedupeStore::set_window(const std::string& source_id, const std::vector<WindowEntry>& items,
                             const std::vector<std::uint64_t>& unchanged) {
  const auto num = source_num(source_id);
  std::vector<std::uint64_t> keys;
  std::vector<WindowFingerprint> fps;
  keys.reserve(items.size() + unchanged.size());
  for (const auto& item : items) {
    const auto key = item_key(item.item_id);
    keys.push_back(key);
    touch_key(key);
    if (item.source_fingerprint != 0)
      fps.push_back({item.source_fingerprint, key, fingerprint(item.content_hash)});
  }
  if (!unchanged.empty()) {
    if (auto it = window_fingerprints_.find(num); it != window_fingerprints_.end()) {
      const auto& previous = it->second;
      for (const auto fp : unchanged) {
        auto at = std::lower_bound(
            previous.begin(), previous.end(), fp,
            [](const WindowFingerprint& w, std::uint64_t v) { return w.source_fingerprint < v; });
        if (at == previous.end() || at->source_fingerprint != fp) continue;
        keys.push_back(at->key);
        touch_key(at->key);
        fps.push_back(*at);
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::sort(fps.begin(), fps.end(), [](const WindowFingerprint& a, const WindowFingerprint& b) {
    return a.source_fingerprint < b.source_fingerprint;
  });
  fps.erase(std::unique(fps.begin(), fps.end(),
                        [](const WindowFingerprint& a, const WindowFingerprint& b) {
                          return a.source_fingerprint == b.source_fingerprint;
                        }),
            fps.end());
  // Most polls find the window as it was: then there is nothing to write (a
  // window is tens of KiB for a busy source, rewritten on every poll otherwise).
  const auto old_keys = windows_.find(num);
  const auto old_fps = window_fingerprints_.find(num);
  const bool same = (old_keys == windows_.end() ? keys.empty() : old_keys->second == keys) &&
                    (old_fps == window_fingerprints_.end() ? fps.empty() : old_fps->second == fps);
  if (same) return;
  windows_[num] = std::move(keys);
  if (fps.empty()) {
    window_fingerprints_.erase(num);
  } else {
    window_fingerprints_[num] = std::move(fps);
  }
  dirty_windows_.insert(num);
}

std::shared_ptr<const std::unordered_set<std::uint64_t>> DedupeStore::unchanged_fingerprints(
    const std::string& source_id) const {
  auto out = std::make_shared<std::unordered_set<std::uint64_t>>();
  const auto num = find_source_num(source_id);
  if (!num) return out;
  auto it = window_fingerprints_.find(*num);
  if (it == window_fingerprints_.end()) return out;
  out->reserve(it->second.size());
  for (const auto& w : it->second) {
    const auto* slot = marks_.find(w.key);
    if (slot != nullptr && slot->fingerprint == w.content) out->insert(w.source_fingerprint);
  }
  return out;
}

std::size_t DedupeStore::window_size(const std::string& source_id) const {
  const auto num = find_source_num(source_id);
  if (!num) return 0;
  auto it = windows_.find(*num);
  return it == windows_.end() ? 0 : it->second.size();
}

SourceValidators DedupeStore::validators(const std::string& source_id) const {
  auto it = validators_.find(source_id);
  return it == validators_.end() ? SourceValidators{} : it->second;
}

void DedupeStore::set_validators(const std::string& source_id, const SourceValidators& v) {
  source_num(source_id);
  validators_[source_id] = v;
  dirty_validators_.push_back(source_id);
}

// ---------------------------------------------------------------------------------------------
// Cross-source indexes

std::optional<std::string> DedupeStore::find_by_url(std::uint64_t url_key) const {
  if (auto it = pending_urls_.find(url_key); it != pending_urls_.end()) return it->second;
  Query q(db_->prepare("SELECT item_id FROM urls WHERE url_key = ?1"));
  q.bind_u64(1, url_key);
  if (q.step() == SQLITE_ROW) return q.text(0);
  return std::nullopt;
}

void DedupeStore::remember_url(std::uint64_t url_key, const std::string& item_id) {
  if (is_comment_id(item_id)) return;
  pending_urls_.emplace(url_key, item_id);  // the first item with a URL stays the original
}

std::optional<std::string> DedupeStore::find_near_duplicate(std::uint64_t simhash, int max_distance) const {
  std::optional<std::string> best;
  int best_distance = max_distance + 1;
  for (const auto& [h, id] : pending_simhashes_) {
    const int d = popcount_distance(h, simhash);
    if (d < best_distance) {
      best_distance = d;
      best = id;
    }
  }
  std::optional<std::uint64_t> best_key;
  // One statement for the four bands: band keys sort by band, so the rows come
  // band by band as four single-band queries would return them (ties go to the
  // first seen either way).
  Query bands(
      db_->prepare("SELECT item_key, simhash FROM simhash_bands WHERE band_key IN (?1, ?2, ?3, ?4) ORDER BY "
                   "band_key, item_key"));
  for (int band = 0; band < 4; ++band) bands.bind(band + 1, band_key(band, simhash));
  while (bands.step() == SQLITE_ROW) {
    const int d = popcount_distance(bands.u64(1), simhash);
    if (d < best_distance) {
      best_distance = d;
      best_key = bands.u64(0);
    }
  }
  if (best_key) {
    Query q(db_->prepare("SELECT item_id FROM simhashes WHERE item_key = ?1"));
    q.bind_u64(1, *best_key);
    if (q.step() == SQLITE_ROW) best = q.text(0);
  }
  return best;
}

void DedupeStore::remember_simhash(std::uint64_t simhash, const std::string& item_id) {
  if (is_comment_id(item_id)) return;
  pending_simhashes_.emplace_back(simhash, item_id);
}

DedupeStore::ReadBatch::ReadBatch(DedupeStore& store) : store_(store) {
  if (sqlite3_get_autocommit(store_.db_->handle) == 0) return;  // already inside a transaction
  began_ = static_cast<bool>(store_.db_->exec("BEGIN DEFERRED"));
}

DedupeStore::ReadBatch::~ReadBatch() {
  if (!began_) return;
  // Nothing was written: ending it can only release the snapshot.
  if (!store_.db_->exec("COMMIT")) (void)store_.db_->exec("ROLLBACK");
}

// ---------------------------------------------------------------------------------------------
// Writing

Result<void> DedupeStore::flush() {
  if (writes_.empty() && touches_.empty() && dirty_validators_.empty() && dirty_windows_.empty() &&
      pending_urls_.empty() && pending_simhashes_.empty() && persisted_sources_ + 1 >= source_ids_.size()) {
    return {};
  }
  auto& db = *db_;
  if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return r;
  const auto now = now_seconds();
  bool ok = true;
  auto check = [&](bool step_ok) { ok = ok && step_ok; };

  for (std::size_t num = persisted_sources_ + 1; ok && num < source_ids_.size(); ++num) {
    Query q(
        db.prepare("INSERT OR IGNORE INTO sources (source_num, source_id, updated_at) VALUES (?1, ?2, ?3)"));
    check(q.bind(1, static_cast<std::int64_t>(num)).bind(2, source_ids_[num]).bind(3, now).run());
  }
  // In key order: neighbouring rows share B-tree pages, which makes large batches much cheaper.
  std::vector<std::pair<std::uint64_t, std::size_t>> order;
  order.reserve(writes_.size());
  for (std::size_t i = 0; i < writes_.size(); ++i) order.emplace_back(writes_[i].key, i);
  std::sort(order.begin(), order.end());  // equal keys stay in acknowledgement order
  for (const auto& [key, index] : order) {
    if (!ok) break;
    const auto& w = writes_[index];
    Query q(db.prepare(
        "INSERT INTO items (item_key, fingerprint, version, last_seen, source_num, first_seen, item_id, "
        "content_hash)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?4, ?6, ?7) ON CONFLICT (item_key) DO UPDATE SET"
        " fingerprint = excluded.fingerprint, version = excluded.version, last_seen = excluded.last_seen,"
        " source_num = excluded.source_num, item_id = excluded.item_id, content_hash = excluded.content_hash"
        " WHERE excluded.version >= items.version"));
    q.bind_u64(1, key).bind_u64(2, w.fingerprint).bind(3, w.version).bind(4, now);
    q.bind(5, static_cast<std::int64_t>(w.source_num)).bind(6, w.item_id).bind(7, w.content_hash);
    check(q.run());
  }
  for (const auto& [key, seen] : touches_) {
    if (!ok) break;
    Query q(db.prepare("UPDATE items SET last_seen = ?2 WHERE item_key = ?1 AND last_seen < ?2"));
    check(q.bind_u64(1, key).bind(2, seen).run());
  }
  std::sort(dirty_validators_.begin(), dirty_validators_.end());
  dirty_validators_.erase(std::unique(dirty_validators_.begin(), dirty_validators_.end()),
                          dirty_validators_.end());
  for (const auto& id : dirty_validators_) {
    if (!ok) break;
    const auto& v = validators_[id];
    Query q(db.prepare(
        "UPDATE sources SET etag = ?2, last_modified = ?3, updated_at = ?4 WHERE source_num = ?1"));
    check(q.bind(1, static_cast<std::int64_t>(source_num(id)))
              .bind(2, v.etag)
              .bind(3, v.last_modified)
              .bind(4, now)
              .run());
  }
  for (const auto num : dirty_windows_) {
    if (!ok) break;
    std::vector<std::uint64_t> words;
    if (auto it = window_fingerprints_.find(num); it != window_fingerprints_.end()) {
      words.reserve(it->second.size() * 3);
      for (const auto& w : it->second) words.insert(words.end(), {w.source_fingerprint, w.key, w.content});
    }
    Query q(
        db.prepare("UPDATE sources SET window_keys = ?2, window_fingerprints = ?3, updated_at = ?4 WHERE "
                   "source_num = ?1"));
    q.bind(1, static_cast<std::int64_t>(num)).bind_blob(2, keys_blob(windows_[num]));
    if (words.empty()) {
      q.bind(3, std::optional<std::string>());
    } else {
      q.bind_blob(3, keys_blob(words));
    }
    check(q.bind(4, now).run());
  }
  for (const auto& [url_key, item_id] : pending_urls_) {
    if (!ok) break;
    Query q(db.prepare("INSERT OR IGNORE INTO urls (url_key, item_key, item_id) VALUES (?1, ?2, ?3)"));
    check(q.bind_u64(1, url_key).bind_u64(2, item_key(item_id)).bind(3, item_id).run());
  }
  for (const auto& [simhash, item_id] : pending_simhashes_) {
    if (!ok) break;
    const auto key = item_key(item_id);
    std::optional<std::uint64_t> previous;
    {
      Query q(db.prepare("SELECT simhash FROM simhashes WHERE item_key = ?1"));
      q.bind_u64(1, key);
      if (q.step() == SQLITE_ROW) previous = q.u64(0);
    }
    if (previous == simhash) continue;
    if (previous) {
      for (int band = 0; band < 4 && ok; ++band) {
        Query q(db.prepare("DELETE FROM simhash_bands WHERE band_key = ?1 AND item_key = ?2"));
        check(q.bind(1, band_key(band, *previous)).bind_u64(2, key).run());
      }
    }
    {
      Query q(
          db.prepare("INSERT OR REPLACE INTO simhashes (item_key, simhash, item_id) VALUES (?1, ?2, ?3)"));
      check(q.bind_u64(1, key).bind_u64(2, simhash).bind(3, item_id).run());
    }
    for (int band = 0; band < 4 && ok; ++band) {
      Query q(db.prepare(
          "INSERT OR REPLACE INTO simhash_bands (band_key, item_key, simhash) VALUES (?1, ?2, ?3)"));
      check(q.bind(1, band_key(band, simhash)).bind_u64(2, key).bind_u64(3, simhash).run());
    }
  }
  if (ok) {
    Query q(
        db.prepare("INSERT INTO meta (name, value) VALUES ('item_count', ?1)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value"));
    check(q.bind(1, static_cast<std::int64_t>(marks_.size())).run());
  }
  if (!ok) {
    const std::string msg = db.errmsg();
    (void)db.exec("ROLLBACK");
    return make_error(Errc::storage, "state write failed: " + msg);
  }
  if (auto r = db.exec("COMMIT"); !r) {
    (void)db.exec("ROLLBACK");
    return r;
  }
  persisted_sources_ = source_ids_.size() - 1;
  writes_.clear();
  recent_writes_.clear();
  touches_.clear();
  dirty_validators_.clear();
  dirty_windows_.clear();
  pending_urls_.clear();
  pending_simhashes_.clear();
  return {};
}

// Deletes items (and their index entries) on disk, then from memory.
Result<std::size_t> DedupeStore::remove_keys(const std::vector<std::uint64_t>& keys) {
  if (keys.empty()) return std::size_t{0};
  auto& db = *db_;
  if (auto r = db.exec("BEGIN IMMEDIATE"); !r) return r.error();
  bool ok = true;
  for (const auto key : keys) {
    {
      Query q(db.prepare("DELETE FROM items WHERE item_key = ?1"));
      ok = q.bind_u64(1, key).run();
    }
    if (ok) {
      Query q(db.prepare("DELETE FROM urls WHERE item_key = ?1"));
      ok = q.bind_u64(1, key).run();
    }
    std::optional<std::uint64_t> simhash;
    if (ok) {
      Query q(db.prepare("SELECT simhash FROM simhashes WHERE item_key = ?1"));
      q.bind_u64(1, key);
      if (q.step() == SQLITE_ROW) simhash = q.u64(0);
    }
    if (ok && simhash) {
      for (int band = 0; band < 4 && ok; ++band) {
        Query q(db.prepare("DELETE FROM simhash_bands WHERE band_key = ?1 AND item_key = ?2"));
        ok = q.bind(1, band_key(band, *simhash)).bind_u64(2, key).run();
      }
      if (ok) {
        Query q(db.prepare("DELETE FROM simhashes WHERE item_key = ?1"));
        ok = q.bind_u64(1, key).run();
      }
    }
    if (!ok) break;
  }
  const std::size_t remaining = marks_.size() - std::min(marks_.size(), keys.size());
  if (ok) {
    Query q(
        db.prepare("INSERT INTO meta (name, value) VALUES ('item_count', ?1)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value"));
    ok = q.bind(1, static_cast<std::int64_t>(remaining)).run();
  }
  if (!ok) {
    const std::string msg = db.errmsg();
    (void)db.exec("ROLLBACK");
    return make_error(Errc::storage, "state delete failed: " + msg);
  }
  if (auto r = db.exec("COMMIT"); !r) {
    (void)db.exec("ROLLBACK");
    return r.error();
  }
  std::size_t removed = 0;
  for (const auto key : keys) removed += marks_.erase(key) ? 1 : 0;
  return removed;
}

ExpiryStats DedupeStore::expire(std::chrono::system_clock::time_point now) {
  ExpiryStats stats;
  if (auto r = flush(); !r) {
    stats.error = r.error().message;
    stats.remaining = size();
    return stats;
  }
  const auto now_s = unix_seconds(now);
  std::vector<std::uint64_t> window;
  for (const auto& [num, keys] : windows_) window.insert(window.end(), keys.begin(), keys.end());
  std::sort(window.begin(), window.end());
  const auto in_window = [&](std::uint64_t key) {
    return std::binary_search(window.begin(), window.end(), key);
  };
  std::vector<std::int64_t> ttl(source_ids_.size() + 1);
  for (std::size_t n = 0; n < ttl.size(); ++n) ttl[n] = ttl_for(static_cast<std::uint16_t>(n)).count();
  const auto ttl_of = [&](std::uint16_t num) {
    return num < ttl.size() ? ttl[num] : static_cast<std::int64_t>(options_.default_ttl.count());
  };
  const auto expired_at = [&](const detail::MarkTable::Slot& s) {
    return seconds_of_hour(meta_hour(s.meta)) + ttl_of(meta_source(s.meta)) < now_s;
  };

  std::vector<std::uint64_t> doomed;
  marks_.for_each([&](const detail::MarkTable::Slot& s) {
    if (!expired_at(s)) return;
    if (in_window(s.key)) {
      ++stats.kept_in_window;
    } else {
      doomed.push_back(s.key);
    }
  });
  stats.expired = doomed.size();

  const std::size_t left = marks_.size() - doomed.size();
  if (left > options_.max_items) {
    // Evict the oldest by last-seen hour: find the cutoff hour with a histogram,
    // then take everything older and as many as needed of that hour.
    std::size_t excess = left - options_.max_items;
    std::map<std::uint64_t, std::size_t> hours;
    marks_.for_each([&](const detail::MarkTable::Slot& s) {
      if (!expired_at(s) && !in_window(s.key)) ++hours[meta_hour(s.meta)];
    });
    std::uint64_t cutoff = 0;
    std::size_t below = 0;
    bool found = false;
    for (const auto& [hour, count] : hours) {
      if (below + count >= excess) {
        cutoff = hour;
        found = true;
        break;
      }
      below += count;
    }
    if (!found && !hours.empty()) cutoff = hours.rbegin()->first + 1;  // windows alone exceed max_items
    std::size_t at_cutoff = excess > below ? excess - below : 0;
    marks_.for_each([&](const detail::MarkTable::Slot& s) {
      if (expired_at(s) || in_window(s.key)) return;
      const auto hour = meta_hour(s.meta);
      if (hour < cutoff) {
        doomed.push_back(s.key);
      } else if (hour == cutoff && at_cutoff > 0) {
        doomed.push_back(s.key);
        --at_cutoff;
      }
    });
    stats.evicted = doomed.size() - stats.expired;
  }
  auto removed = remove_keys(doomed);
  if (!removed) {
    stats.error = removed.error().message;
    stats.expired = stats.evicted = 0;
  }
  stats.remaining = size();
  return stats;
}

Result<std::size_t> DedupeStore::reset_source(const std::string& source_id) {
  if (auto r = flush(); !r) return r.error();
  const auto num = find_source_num(source_id);
  if (!num) return std::size_t{0};
  std::vector<std::uint64_t> keys;
  {
    Query q(db_->prepare("SELECT item_key FROM items WHERE source_num = ?1"));
    q.bind(1, static_cast<std::int64_t>(*num));
    int rc = SQLITE_ROW;
    while ((rc = q.step()) == SQLITE_ROW) keys.push_back(q.u64(0));
    if (rc != SQLITE_DONE) return make_error(Errc::storage, db_->errmsg());
  }
  auto removed = remove_keys(keys);
  if (!removed) return removed;
  {
    Query q(db_->prepare(
        "UPDATE sources SET etag = NULL, last_modified = NULL, window_keys = NULL, window_fingerprints = NULL"
        " WHERE source_num = ?1"));
    if (!q.bind(1, static_cast<std::int64_t>(*num)).run()) return make_error(Errc::storage, db_->errmsg());
  }
  validators_.erase(source_id);
  windows_.erase(*num);
  window_fingerprints_.erase(*num);
  return keys.size();
}

Result<std::size_t> DedupeStore::reset_all() {
  const std::size_t count = marks_.size();
  if (auto r =
          db_->exec("BEGIN IMMEDIATE;"
                    "DELETE FROM items; DELETE FROM urls; DELETE FROM simhashes; DELETE FROM simhash_bands;"
                    "DELETE FROM sources; DELETE FROM outbox; DELETE FROM watermarks;"
                    "DELETE FROM meta WHERE name = 'item_count';"
                    "COMMIT;");
      !r) {
    (void)db_->exec("ROLLBACK");
    return r.error();
  }
  (void)db_->exec("VACUUM");
  marks_.clear();
  in_flight_.clear();
  recent_writes_.clear();
  writes_.clear();
  touches_.clear();
  source_ids_.assign(1, std::string());
  source_nums_.clear();
  persisted_sources_ = 0;
  validators_.clear();
  dirty_validators_.clear();
  windows_.clear();
  window_fingerprints_.clear();
  dirty_windows_.clear();
  pending_urls_.clear();
  pending_simhashes_.clear();
  return count;
}

// ---------------------------------------------------------------------------------------------
// Exactly-once support

namespace {

// A transaction whose commit is fsync'd (synchronous=FULL fsyncs the WAL on commit).
template <class Body>
Result<void> durable_transaction(sqlite3* handle, Body&& body) {
  auto exec = [&](const char* sql) {
    return sqlite3_exec(handle, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  };
  if (!exec("PRAGMA synchronous=FULL")) return make_error(Errc::storage, sqlite3_errmsg(handle));
  Result<void> result;
  if (!exec("BEGIN IMMEDIATE")) {
    result = make_error(Errc::storage, sqlite3_errmsg(handle));
  } else if (!body()) {
    result = make_error(Errc::storage, std::string("state write failed: ") + sqlite3_errmsg(handle));
    exec("ROLLBACK");
  } else if (!exec("COMMIT")) {
    result = make_error(Errc::storage, std::string("state commit failed: ") + sqlite3_errmsg(handle));
    exec("ROLLBACK");
  }
  exec("PRAGMA synchronous=NORMAL");
  return result;
}

}  // namespace

Result<void> DedupeStore::record_outbox(const std::vector<OutboxEntry>& entries) {
  if (entries.empty()) return {};
  const auto now = now_seconds();
  return durable_transaction(db_->handle, [&] {
    for (const auto& e : entries) {
      Query q(db_->prepare(
          "INSERT OR IGNORE INTO outbox (event_id, item_id, source_id, content_hash, version, topic,"
          " recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
      q.bind(1, e.event_id)
          .bind(2, e.item_id)
          .bind(3, e.source_id)
          .bind(4, e.content_hash)
          .bind(5, e.version);
      if (!q.bind(6, e.topic).bind(7, now).run()) return false;
    }
    return true;
  });
}

std::vector<OutboxEntry> DedupeStore::outbox() const {
  std::vector<OutboxEntry> out;
  Query q(db_->prepare(
      "SELECT event_id, item_id, source_id, content_hash, version, topic FROM outbox ORDER BY seq"));
  while (q.step() == SQLITE_ROW)
    out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.i64(4), q.text(5)});
  return out;
}

Result<void> DedupeStore::clear_outbox(const std::vector<std::string>& event_ids) {
  if (event_ids.empty()) return {};
  return durable_transaction(db_->handle, [&] {
    for (const auto& id : event_ids) {
      Query q(db_->prepare("DELETE FROM outbox WHERE event_id = ?1"));
      if (!q.bind(1, id).run()) return false;
    }
    return true;
  });
}

Result<void> DedupeStore::record_watermarks(const std::vector<PartitionOffset>& offsets) {
  if (offsets.empty()) return {};
  const auto now = now_seconds();
  return durable_transaction(db_->handle, [&] {
    for (const auto& o : offsets) {
      Query q(
          db_->prepare("INSERT INTO watermarks (topic, partition_id, start_offset, updated_at)"
                       " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (topic, partition_id) DO UPDATE SET"
                       " start_offset = excluded.start_offset, updated_at = excluded.updated_at"));
      if (!q.bind(1, o.topic).bind(2, o.partition).bind(3, o.offset).bind(4, now).run()) return false;
    }
    return true;
  });
}

std::vector<PartitionOffset> DedupeStore::watermarks() const {
  std::vector<PartitionOffset> out;
  Query q(
      db_->prepare("SELECT topic, partition_id, start_offset FROM watermarks ORDER BY topic, partition_id"));
  while (q.step() == SQLITE_ROW) out.push_back({q.text(0), static_cast<std::int32_t>(q.i64(1)), q.i64(2)});
  return out;
}

}  // namespace postwire
