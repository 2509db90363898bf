// What postwire remembers between polls and across restarts (docs/state.md):
//   - per item: the content fingerprint and version last acknowledged by the
//     broker, when it was last seen, and which source it came from;
//   - per source: the HTTP validators of the last fully acknowledged poll and
//     the window (the item ids visible in its latest successful poll);
//   - cross-source indexes for posts: canonical-URL key and SimHash -> item id;
//   - for exactly-once delivery: an outbox of events about to be produced and
//     per topic-partition offset watermarks.
//
// Marks reach disk only after the broker acknowledged the event they describe
// (acknowledge() then flush()), so a crash can repeat an event but never lose one.
//
// One SQLite file, <state_dir>/state.db, format kFormatVersion (v1 files are
// migrated on open). <state_dir>/state.lock is flock()ed for the lifetime of
// the store, so two processes never share a state directory.
//
// In memory: one flat open-addressing table of 24-byte slots (≤ 45 bytes per
// remembered item at the table's worst load); the URL and SimHash indexes,
// full content hashes and item ids stay on disk.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "postwire/schema/result.hpp"

namespace postwire {

struct Config;

struct DedupeDecision {
  enum class Kind { fresh, updated, duplicate };
  Kind kind = Kind::fresh;
  std::int64_t version = 1;                          // version the new event carries
  std::optional<std::string> previous_content_hash;  // set for updated
};

struct SourceValidators {
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
};

struct StoreOptions {
  std::chrono::seconds default_ttl{std::chrono::hours(24 * 30)};
  std::map<std::string, std::chrono::seconds> source_ttl;        // per source id, overrides default_ttl
  std::size_t max_items = 20'000'000;                            // oldest evicted beyond this by expire()
  std::function<std::chrono::system_clock::time_point()> clock;  // for tests; empty: system_clock::now
  // WAL pages after a commit that wake the background checkpoint (SQLite's own
  // automatic checkpoint, on the committing thread, uses 1000).
  int checkpoint_pages = 1000;
  // Test hook: the checkpoint connection cannot be opened, as if the file were
  // unreachable for a second connection; the writer checkpoints itself instead.
  bool fail_checkpointer_for_test = false;
};

// What the background WAL checkpoint has done since the store was opened.
struct CheckpointStats {
  std::uint64_t done = 0;    // checkpoints that ran (PASSIVE: copy what no reader still needs)
  std::uint64_t failed = 0;  // checkpoints SQLite refused with an error (logged)
  bool background = false;   // false: the checkpointer could not start; commits checkpoint inline
};

// state.ttl, state.max_items and every source's state_ttl.
StoreOptions make_store_options(const Config& config);

struct ExpiryStats {
  std::size_t expired = 0;           // past their time-to-live, removed
  std::size_t evicted = 0;           // oldest, removed to get back under max_items
  std::size_t kept_in_window = 0;    // past their time-to-live but still in a source's window
  std::size_t remaining = 0;         // size() afterwards
  std::optional<std::string> error;  // disk write failed: nothing was removed
};

// Exactly-once support: an event recorded before it is produced.
struct OutboxEntry {
  std::string event_id;
  std::string item_id;
  std::string source_id;
  std::string content_hash;
  std::int64_t version = 0;
  std::string topic;
  bool operator==(const OutboxEntry&) const = default;
};

struct PartitionOffset {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  bool operator==(const PartitionOffset&) const = default;
};

namespace detail {

// Linear-probing hash table on uint64 keys (0 = empty slot; callers never use
// 0), backward-shift deletion, no tombstones. Keys are uniformly distributed
// (derived from SHA-256), so the home slot is simply key * capacity / 2^64.
class MarkTable {
 public:
  struct Slot {
    std::uint64_t key = 0;
    std::uint64_t fingerprint = 0;
    std::uint64_t meta =
        0;  // packed: version (24 bits) | source (16) | last-seen hour (24), see dedupe_store.cpp
  };
  static_assert(sizeof(Slot) == 24);

  MarkTable() = default;
  explicit MarkTable(std::size_t expected) { reserve(expected); }

  // Room for `n` items without growing.
  void reserve(std::size_t n);
  Slot* find(std::uint64_t key);
  const Slot* find(std::uint64_t key) const;
  // Existing slot, or a new one with key set and the rest zero; `inserted` tells which.
  Slot& upsert(std::uint64_t key, bool& inserted);
  bool erase(std::uint64_t key);
  void clear();

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }
  std::size_t memory_bytes() const { return slots_.size() * sizeof(Slot); }

  template <class F>
  void for_each(F&& f) const {
    for (const auto& s : slots_) {
      if (s.key != 0) f(s);
    }
  }

 private:
  std::size_t home(std::uint64_t key) const;
  void grow();
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace detail

class DedupeStore {
 public:
  static constexpr int kFormatVersion = 3;

  // Opens (or creates) <state_dir>/state.db, taking <state_dir>/state.lock.
  // Errors (Errc::storage), never a silent fresh start: the directory is locked
  // by another process; the file is not SQLite, not a postwire store, damaged,
  // or of a newer format. A format-1 store is migrated in place.
  static Result<std::unique_ptr<DedupeStore>> open(const std::filesystem::path& state_dir,
                                                   StoreOptions options = {});
  // The pid recorded in <state_dir>/state.lock if a process holds it (0 if it
  // wrote none), nullopt if the directory is not locked.
  static std::optional<long> locked_by(const std::filesystem::path& state_dir);
  ~DedupeStore();
  DedupeStore(const DedupeStore&) = delete;
  DedupeStore& operator=(const DedupeStore&) = delete;

  // Classifies an item against what was acknowledged and what is in flight.
  DedupeDecision classify(const std::string& item_id, const std::string& content_hash) const;
  // An event for the item was handed to the producer.
  void mark_in_flight(const std::string& item_id, const std::string& content_hash, std::int64_t version);
  // The broker acknowledged it: remember it (in memory now, on disk at flush()).
  void acknowledge(const std::string& item_id, const std::string& source_id, const std::string& content_hash,
                   std::int64_t version);
  // Delivery failed: forget the in-flight mark so the next poll retries the item.
  void release(const std::string& item_id);

  // The item was seen again in a poll: refresh its last-seen time (in memory
  // now, on disk at flush()). Unknown items are ignored.
  void touch(const std::string& item_id, const std::string& source_id);
  // The items visible in the source's latest successful poll. They are never
  // expired or evicted while they stay in the window, and are touched. Written at flush().
  // An item with a source fingerprint (PostData::source_fingerprint) also records
  // which bytes gave which content; `unchanged` names items of the previous window
  // by fingerprint alone (a connector skipped them).
  struct WindowEntry {
    std::string item_id;
    std::uint64_t source_fingerprint = 0;  // 0: none
    std::string content_hash = {};         // needed with a fingerprint only
  };
  void set_window(const std::string& source_id, const std::vector<WindowEntry>& items,
                  const std::vector<std::uint64_t>& unchanged = {});
  std::size_t window_size(const std::string& source_id) const;
  // Source fingerprints of the source's window items whose acknowledged content is
  // the content those bytes produced: such an item, seen again byte for byte, can
  // only be a duplicate (docs/state.md, "Unchanged items"). Items never acknowledged,
  // acknowledged with other content, or expired are not in it.
  std::shared_ptr<const std::unordered_set<std::uint64_t>> unchanged_fingerprints(
      const std::string& source_id) const;

  // Removes items whose last_seen + ttl(source) < now, except window items,
  // then the oldest (by last-seen) beyond max_items, again never window items.
  // In memory and on disk, in one transaction. Call it after flush().
  ExpiryStats expire(std::chrono::system_clock::time_point now);

  SourceValidators validators(const std::string& source_id) const;
  void set_validators(const std::string& source_id, const SourceValidators& v);

  // Cross-source indexes, posts only (comment ids are ignored: comments are
  // never merged across posts). Remembered in memory now, on disk at flush();
  // forgotten with the item when it expires.
  // url_key: the first 64 bits of SHA-256 of the canonical URL.
  std::optional<std::string> find_by_url(std::uint64_t url_key) const;
  void remember_url(std::uint64_t url_key, const std::string& item_id);
  // An item whose SimHash is within max_distance bits. Guaranteed to find one
  // for max_distance <= 3 (4 bands of 16 bits); best effort above. The caller
  // should not simhash-match texts shorter than kSimhashMinWords (simhash.hpp).
  std::optional<std::string> find_near_duplicate(std::uint64_t simhash, int max_distance = 3) const;
  void remember_simhash(std::uint64_t simhash, const std::string& item_id);

  // Exactly-once support. record_outbox commits durably (fsync) before it returns.
  Result<void> record_outbox(const std::vector<OutboxEntry>& entries);
  std::vector<OutboxEntry> outbox() const;  // oldest first
  Result<void> clear_outbox(const std::vector<std::string>& event_ids);
  // Upserts per (topic, partition); durable before it returns.
  Result<void> record_watermarks(const std::vector<PartitionOffset>& offsets);
  std::vector<PartitionOffset> watermarks() const;  // sorted by topic, partition

  // Writes acknowledged marks, touches, windows, validators and index entries in one transaction.
  Result<void> flush();

  // While one lives, the lookups that go to disk (URL and SimHash index entries,
  // stored versions and hashes) share one read transaction: one snapshot and one
  // lock instead of one per statement. Only for a stretch without writes or
  // suspension points (a poll's decisions, on the event loop); nested ones do nothing.
  class ReadBatch {
   public:
    explicit ReadBatch(DedupeStore& store);
    ~ReadBatch();
    ReadBatch(const ReadBatch&) = delete;
    ReadBatch& operator=(const ReadBatch&) = delete;

   private:
    DedupeStore& store_;
    bool began_ = false;
  };

  // Operator commands (postwire state reset): forget everything, or one source's
  // items, validators, window and index entries. Returns the number of items removed.
  Result<std::size_t> reset_all();
  Result<std::size_t> reset_source(const std::string& source_id);

  std::size_t size() const { return marks_.size(); }
  std::size_t in_flight() const { return in_flight_.size(); }
  std::size_t memory_bytes() const { return marks_.memory_bytes(); }
  const std::filesystem::path& path() const { return path_; }
  CheckpointStats checkpoint_stats() const;

  // The 64-bit key an item id is stored under (never 0).
  static std::uint64_t item_key(const std::string& item_id);
  // The first 64 bits of a "sha256:<hex>" content hash.
  static std::uint64_t fingerprint(const std::string& content_hash);

 private:
  explicit DedupeStore(StoreOptions options);
  struct WindowFingerprint {
    std::uint64_t source_fingerprint;
    std::uint64_t key;
    std::uint64_t content;  // fingerprint(content_hash)
    bool operator==(const WindowFingerprint&) const = default;
  };
  // An acknowledged mark waiting for flush(), with everything the row needs.
  struct PendingWrite {
    std::uint64_t key;
    std::uint64_t fingerprint;
    std::string item_id;
    std::string content_hash;
    std::int64_t version;
    std::uint16_t source_num;
  };
  struct Db;
  class WalCheckpointer;
  Result<void> load();
  void start_checkpointer();
  Result<void> migrate_v1();
  void touch_key(std::uint64_t key);
  std::optional<std::string> stored_hash(std::uint64_t key) const;
  std::int64_t stored_version(std::uint64_t key) const;
  std::uint16_t source_num(const std::string& source_id);
  std::optional<std::uint16_t> find_source_num(const std::string& source_id) const;
  std::chrono::seconds ttl_for(std::uint16_t source_num) const;
  std::int64_t now_seconds() const;
  Result<std::size_t> remove_keys(const std::vector<std::uint64_t>& keys);

  StoreOptions options_;
  std::filesystem::path path_;
  int lock_fd_ = -1;
  std::unique_ptr<Db> db_;
  std::unique_ptr<WalCheckpointer> checkpointer_;  // stopped before db_ closes
  detail::MarkTable marks_;
  // Produced, not yet acknowledged: item key -> (content hash, version). By key,
  // as marks_ is: one hash of a short id instead of hashing and copying the id.
  std::unordered_map<std::uint64_t, std::pair<std::string, std::int64_t>> in_flight_;
  std::unordered_map<std::uint64_t, std::size_t> recent_writes_;  // key -> its latest entry in writes_
  std::vector<PendingWrite> writes_;
  std::unordered_map<std::uint64_t, std::int64_t> touches_;  // key -> last_seen seconds, not yet flushed
  // Sources: number <-> id; numbers are what items carry in memory and on disk.
  std::vector<std::string> source_ids_;  // index = source number (0 unused)
  std::unordered_map<std::string, std::uint16_t> source_nums_;
  std::size_t persisted_sources_ = 0;  // source_ids_[1..persisted_sources_] are on disk
  std::unordered_map<std::string, SourceValidators> validators_;
  std::vector<std::string> dirty_validators_;
  std::unordered_map<std::uint16_t, std::vector<std::uint64_t>> windows_;  // sorted keys
  // Per source, sorted by source fingerprint; persisted with the window.
  std::unordered_map<std::uint16_t, std::vector<WindowFingerprint>> window_fingerprints_;
  std::unordered_set<std::uint16_t> dirty_windows_;
  std::unordered_map<std::uint64_t, std::string> pending_urls_;
  std::vector<std::pair<std::uint64_t, std::string>> pending_simhashes_;
};

}  // namespace postwire
