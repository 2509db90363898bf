// Exactly-once recovery. Before a batch is produced its events are written to the
// durable outbox; after the broker acknowledged them and their dedupe marks are on
// disk they leave it. After a crash, what is left in the outbox is the only
// window of doubt: this reads the tails of the output partitions (from the last
// offsets known to be committed) and settles each event as found or missing.
//
// It does not rely on transactions or idempotent-producer dedup at the broker
// (the librdkafka mock cluster has neither), only on the old producer being gone,
// which is true after a crash and restart.
#pragma once

#include <chrono>
#include <string>
#include <unordered_set>
#include <vector>

#include "postwire/daemon/config.hpp"
#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/daemon/metrics.hpp"
#include "postwire/schema/result.hpp"

namespace postwire {

struct TailScan {
  std::unordered_set<std::string> found;  // wanted event ids present at the broker (ce_id header)
  std::vector<PartitionOffset> ends;      // high watermarks at the end of the scan
  std::size_t messages_read = 0;
};

// Reads `topics` from the stored start offsets (beginning where none is stored)
// to their high watermarks, collecting which of `wanted` are there.
Result<TailScan> scan_topic_tails(const KafkaConfig& kafka, const std::string& bootstrap,
                                  const std::vector<std::string>& topics,
                                  const std::vector<PartitionOffset>& starts,
                                  const std::unordered_set<std::string>& wanted,
                                  std::chrono::milliseconds timeout);

struct RecoveryStats {
  std::size_t outbox = 0;
  std::size_t found = 0;
  std::size_t missing = 0;
};

// Settles the outbox: found events are marked delivered, missing ones are
// forgotten (their items are produced again on the next poll).
Result<RecoveryStats> recover_outbox(DedupeStore& store, const KafkaConfig& kafka,
                                     const std::string& bootstrap, Metrics& metrics);

}  // namespace postwire
