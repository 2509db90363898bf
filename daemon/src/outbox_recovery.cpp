#include "postwire/daemon/outbox_recovery.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <array>
#include <map>
#include <memory>

namespace postwire {
namespace {

struct KafkaHandle {
  rd_kafka_t* rk = nullptr;
  ~KafkaHandle() {
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }
};

}  // namespace

Result<TailScan> scan_topic_tails(const KafkaConfig& kafka, const std::string& bootstrap,
                                  const std::vector<std::string>& topics,
                                  const std::vector<PartitionOffset>& starts,
                                  const std::unordered_set<std::string>& wanted,
                                  std::chrono::milliseconds timeout) {
  std::array<char, 512> errstr{};
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> settings;
  for (const auto& kv : kafka.librdkafka) {
    // Producer-only properties would make the consumer refuse to start.
    if (kv.first.rfind("linger", 0) == 0 || kv.first.rfind("compression", 0) == 0 ||
        kv.first.rfind("batch", 0) == 0 || kv.first == "partitioner" ||
        kv.first.rfind("queue.buffering", 0) == 0) {
      continue;
    }
    settings.push_back(kv);
  }
  settings.insert(settings.end(), {{"bootstrap.servers", bootstrap},
                                   {"client.id", kafka.client_id + "-recovery"},
                                   {"group.id", kafka.client_id + "-recovery"},
                                   {"enable.auto.commit", "false"},
                                   {"enable.partition.eof", "true"},
                                   {"isolation.level", "read_uncommitted"},
                                   {"auto.offset.reset", "earliest"}});
  for (const auto& [k, v] : settings) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr.data(), errstr.size()) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return make_error(Errc::config, "recovery consumer property " + k + ": " + errstr.data());
    }
  }
  KafkaHandle h;
  h.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr.data(), errstr.size());
  if (h.rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return make_error(Errc::kafka, std::string("cannot create recovery consumer: ") + errstr.data());
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto remaining_ms = [&] {
    return static_cast<int>(std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())
               .count()));
  };

  std::map<std::pair<std::string, std::int32_t>, std::int64_t> start_of;
  for (const auto& s : starts) start_of[{s.topic, s.partition}] = s.offset;

  TailScan scan;
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(16);
  std::size_t pending_eof = 0;
  for (const auto& topic : topics) {
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(h.rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(h.rk, 0, rkt, &md, std::min(remaining_ms(), 10000));
    rd_kafka_topic_destroy(rkt);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md == nullptr || md->topic_cnt != 1) {
      if (md != nullptr) rd_kafka_metadata_destroy(md);
      rd_kafka_topic_partition_list_destroy(assignment);
      return make_error(Errc::kafka, "recovery: no metadata for " + topic + ": " + rd_kafka_err2str(err));
    }
    const auto& tmd = md->topics[0];
    if (tmd.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      rd_kafka_metadata_destroy(md);
      continue;  // nothing was ever written there
    }
    for (int i = 0; i < tmd.partition_cnt; ++i) {
      const std::int32_t partition = tmd.partitions[i].id;
      std::int64_t low = 0;
      std::int64_t high = 0;
      const auto werr = rd_kafka_query_watermark_offsets(h.rk, topic.c_str(), partition, &low, &high,
                                                         std::min(remaining_ms(), 10000));
      if (werr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_partition_list_destroy(assignment);
        return make_error(Errc::kafka, "recovery: watermarks of " + topic + "[" + std::to_string(partition) +
                                           "]: " + rd_kafka_err2str(werr));
      }
      scan.ends.push_back(PartitionOffset{topic, partition, high});
      auto it = start_of.find({topic, partition});
      const std::int64_t from = std::max(low, it == start_of.end() ? low : it->second);
      if (from >= high) continue;
      rd_kafka_topic_partition_list_add(assignment, topic.c_str(), partition)->offset = from;
      ++pending_eof;
    }
    rd_kafka_metadata_destroy(md);
  }
  if (pending_eof == 0) {
    rd_kafka_topic_partition_list_destroy(assignment);
    return scan;
  }
  rd_kafka_assign(h.rk, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  while (pending_eof > 0) {
    if (remaining_ms() == 0) {
      return make_error(Errc::timeout, "recovery: reading the topic tails took longer than " +
                                           std::to_string(timeout.count()) + "ms");
    }
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(h.rk, 200);
    if (msg == nullptr) continue;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> guard(msg, rd_kafka_message_destroy);
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      --pending_eof;
      continue;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return make_error(Errc::kafka,
                        std::string("recovery: consume failed: ") + rd_kafka_message_errstr(msg));
    }
    ++scan.messages_read;
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const void* value = nullptr;
    std::size_t size = 0;
    if (rd_kafka_header_get_last(headers, "ce_id", &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string id(static_cast<const char*>(value), size);
      if (wanted.count(id) != 0) scan.found.insert(std::move(id));
    }
  }
  return scan;
}

Result<RecoveryStats> recover_outbox(DedupeStore& store, const KafkaConfig& kafka,
                                     const std::string& bootstrap, Metrics& metrics) {
  RecoveryStats stats;
  const auto entries = store.outbox();
  stats.outbox = entries.size();
  if (entries.empty()) return stats;
  std::unordered_set<std::string> wanted;
  std::vector<std::string> topics;
  for (const auto& e : entries) {
    wanted.insert(e.event_id);
    if (std::find(topics.begin(), topics.end(), e.topic) == topics.end()) topics.push_back(e.topic);
  }
  spdlog::info("exactly-once recovery: {} events in the outbox; reading the tails of {} topics",
               entries.size(), topics.size());
  auto scan = scan_topic_tails(kafka, bootstrap, topics, store.watermarks(), wanted, kafka.delivery_timeout);
  if (!scan) return std::move(scan).error();
  std::vector<std::string> settled;
  for (const auto& e : entries) {
    if (scan->found.count(e.event_id) != 0) {
      store.acknowledge(e.item_id, e.source_id, e.content_hash, e.version);
      ++stats.found;
    } else {
      store.release(e.item_id);
      ++stats.missing;
    }
    settled.push_back(e.event_id);
  }
  if (auto r = store.flush(); !r) return r.error();
  if (auto r = store.record_watermarks(scan->ends); !r) return r.error();
  if (auto r = store.clear_outbox(settled); !r) return r.error();
  metrics.recovered_events.Increment(static_cast<double>(stats.found));
  metrics.recovery_republish.Increment(static_cast<double>(stats.missing));
  spdlog::info(
      "exactly-once recovery: {} of {} outbox events were at the broker ({} messages read); {} will be "
      "produced again",
      stats.found, stats.outbox, scan->messages_read, stats.missing);
  return stats;
}

}  // namespace postwire
