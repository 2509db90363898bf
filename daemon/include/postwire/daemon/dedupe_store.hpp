// What postwire remembers between polls and across restarts: per item, the
// content fingerprint and version last acknowledged by the broker; per source,
// the HTTP validators of the last fully acknowledged poll.
//
// Marks reach disk only after the broker acknowledged the event they describe
// (acknowledge() then flush()), so a crash can repeat an event but never lose one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "postwire/schema/result.hpp"

namespace postwire {

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

class DedupeStore {
 public:
  static constexpr int kFormatVersion = 1;

  // Opens (or creates) <state_dir>/state.db. A file that is not a postwire store,
  // or one of a newer format, is an error: never silently start empty.
  static Result<std::unique_ptr<DedupeStore>> open(const std::filesystem::path& state_dir);
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

  SourceValidators validators(const std::string& source_id) const;
  void set_validators(const std::string& source_id, const SourceValidators& v);

  // Writes acknowledged marks and validators in one transaction.
  Result<void> flush();

  std::size_t size() const { return committed_.size(); }
  std::size_t in_flight() const { return in_flight_.size(); }

 private:
  DedupeStore() = default;
  struct Mark {
    std::uint64_t fingerprint = 0;  // first 64 bits of the content hash
    std::int64_t version = 0;
  };
  struct PendingWrite {
    std::string item_id;
    std::string source_id;
    std::string content_hash;
    std::int64_t version;
  };
  static std::uint64_t item_key(const std::string& item_id);
  static std::uint64_t fingerprint(const std::string& content_hash);
  std::optional<std::string> stored_hash(const std::string& item_id) const;

  struct Db;
  std::unique_ptr<Db> db_;
  std::unordered_map<std::uint64_t, Mark> committed_;
  std::unordered_map<std::string, std::pair<std::string, std::int64_t>> in_flight_;
  std::unordered_map<std::string, std::string> recent_hashes_;  // acknowledged, not yet flushed
  std::vector<PendingWrite> writes_;
  std::unordered_map<std::string, SourceValidators> validators_;
  std::vector<std::string> dirty_validators_;
};

}  // namespace postwire
