#include "support/kafka_consumer.hpp"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <memory>
#include <set>
#include <stdexcept>

namespace postwire::testing {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct TopicDeleter {
  void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
};
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* message) const { rd_kafka_message_destroy(message); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  std::array<char, 512> errstr{};
  if (rd_kafka_conf_set(conf, name, value.c_str(), errstr.data(), errstr.size()) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("librdkafka config ") + name + ": " + errstr.data());
  }
}

KafkaPtr make_client(rd_kafka_type_t type, const std::string& bootstrap, bool partition_eof) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  set(conf, "bootstrap.servers", bootstrap);
  set(conf, "log_level", "3");
  set(conf, "client.id", "postwire-test");
  if (type == RD_KAFKA_PRODUCER) {
    // Each message's opaque points at where its delivery result goes.
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* message, void*) {
      if (message->_private != nullptr) *static_cast<rd_kafka_resp_err_t*>(message->_private) = message->err;
    });
  }
  if (type == RD_KAFKA_CONSUMER) {
    // librdkafka wants a group.id even for assign(); it never joins the group
    // (no subscribe, no commits), so a fixed name is harmless.
    set(conf, "group.id", "postwire-test-reader");
    set(conf, "enable.partition.eof", partition_eof ? "true" : "false");
    set(conf, "enable.auto.commit", "false");
    set(conf, "enable.auto.offset.store", "false");
    set(conf, "auto.offset.reset", "earliest");
    set(conf, "allow.auto.create.topics", "false");
    set(conf, "fetch.wait.max.ms", "50");
    set(conf, "fetch.error.backoff.ms", "50");
    set(conf, "topic.metadata.refresh.interval.ms", "1000");
  }
  std::array<char, 512> errstr{};
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr.data(), errstr.size());
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new: ") + errstr.data());
  }
  return KafkaPtr(rk);
}

// Partition ids of `topic`; empty if the broker says it does not exist.
// Retries transient errors (brokers still coming up) until the deadline.
std::vector<int> partitions_of(rd_kafka_t* rk, const std::string& topic,
                               std::chrono::steady_clock::time_point deadline) {
  TopicPtr handle(rd_kafka_topic_new(rk, topic.c_str(), nullptr));
  if (!handle) throw std::runtime_error("rd_kafka_topic_new(" + topic + ") failed");
  std::string last_error;
  while (std::chrono::steady_clock::now() < deadline) {
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, handle.get(), &raw, 5000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_err2str(err);
      continue;  // rd_kafka_metadata itself waited up to 5s
    }
    MetadataPtr metadata(raw);
    for (int t = 0; t < metadata->topic_cnt; ++t) {
      const rd_kafka_metadata_topic_t& entry = metadata->topics[t];
      if (topic != entry.topic) continue;
      if (entry.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) return {};
      if (entry.err != RD_KAFKA_RESP_ERR_NO_ERROR || entry.partition_cnt == 0) {
        last_error = rd_kafka_err2str(entry.err);
        break;
      }
      std::vector<int> ids;
      ids.reserve(entry.partition_cnt);
      for (int p = 0; p < entry.partition_cnt; ++p) ids.push_back(entry.partitions[p].id);
      std::sort(ids.begin(), ids.end());
      return ids;
    }
  }
  throw std::runtime_error("no metadata for topic " + topic + ": " + last_error);
}

std::chrono::milliseconds remaining(std::chrono::steady_clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

}  // namespace

std::optional<std::string> ConsumedMessage::header(const std::string& name) const {
  for (const auto& [header_name, header_value] : headers) {
    if (header_name == name) return header_value;
  }
  return std::nullopt;
}

std::vector<ConsumedMessage> consume_all(const std::string& bootstrap, const std::string& topic,
                                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  KafkaPtr rk = make_client(RD_KAFKA_CONSUMER, bootstrap, true);
  const std::vector<int> partitions = partitions_of(rk.get(), topic, deadline);
  std::vector<ConsumedMessage> messages;
  if (partitions.empty()) return messages;

  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const int p : partitions) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  if (const rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), assignment.get());
      err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("rd_kafka_assign: ") + rd_kafka_err2str(err));
  }

  std::set<int> at_end;
  std::string last_error;
  while (at_end.size() < partitions.size()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      rd_kafka_assign(rk.get(), nullptr);
      throw std::runtime_error("consume_all(" + topic + "): end of " + std::to_string(at_end.size()) +
                               " of " + std::to_string(partitions.size()) +
                               " partitions reached before the deadline (" + std::to_string(messages.size()) +
                               " messages read; last error: " + (last_error.empty() ? "none" : last_error) +
                               ")");
    }
    const auto wait =
        std::min<std::chrono::milliseconds>(remaining(deadline), std::chrono::milliseconds(200));
    MessagePtr message(rd_kafka_consumer_poll(rk.get(), static_cast<int>(wait.count())));
    if (!message) continue;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(message->partition);
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_message_errstr(message.get());
      continue;  // transient (e.g. broker transport); the deadline bounds it
    }
    ConsumedMessage consumed;
    consumed.topic = rd_kafka_topic_name(message->rkt);
    consumed.partition = message->partition;
    consumed.offset = message->offset;
    if (message->key != nullptr)
      consumed.key.assign(static_cast<const char*>(message->key), message->key_len);
    if (message->payload != nullptr) {
      consumed.value.assign(static_cast<const char*>(message->payload), message->len);
    }
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        headers != nullptr) {
      const char* name = nullptr;
      const void* value = nullptr;
      std::size_t size = 0;
      for (std::size_t i = 0;
           rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        consumed.headers.emplace_back(
            name, value == nullptr ? std::string() : std::string(static_cast<const char*>(value), size));
      }
    }
    messages.push_back(std::move(consumed));
  }
  rd_kafka_assign(rk.get(), nullptr);
  rd_kafka_consumer_close(rk.get());
  std::sort(messages.begin(), messages.end(), [](const ConsumedMessage& a, const ConsumedMessage& b) {
    return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
  });
  return messages;
}

std::int64_t message_count(const std::string& bootstrap, const std::string& topic,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  KafkaPtr rk = make_client(RD_KAFKA_CONSUMER, bootstrap, false);
  const std::vector<int> partitions = partitions_of(rk.get(), topic, deadline);
  std::int64_t total = 0;
  for (const int p : partitions) {
    while (true) {
      std::int64_t low = 0;
      std::int64_t high = 0;
      const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
          rk.get(), topic.c_str(), p, &low, &high,
          static_cast<int>(std::max<std::int64_t>(remaining(deadline).count(), 1)));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        total += high - low;
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        throw std::runtime_error("watermarks of " + topic + "[" + std::to_string(p) +
                                 "]: " + rd_kafka_err2str(err));
      }
    }
  }
  rd_kafka_consumer_close(rk.get());
  return total;
}

void produce_one(const std::string& bootstrap, const std::string& topic, const std::string& key,
                 const std::string& value, const std::vector<std::pair<std::string, std::string>>& headers) {
  KafkaPtr rk = make_client(RD_KAFKA_PRODUCER, bootstrap, false);
  rd_kafka_resp_err_t delivery = RD_KAFKA_RESP_ERR__IN_PROGRESS;
  rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
  for (const auto& [name, text] : headers) {
    rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), text.data(),
                        static_cast<ssize_t>(text.size()));
  }
  // rd_kafka_produceva: the RD_KAFKA_V_* macros use C casts (-Wold-style-cast).
  std::array<rd_kafka_vu_t, 6> vus{};
  vus[0].vtype = RD_KAFKA_VTYPE_TOPIC;
  vus[0].u.cstr = topic.c_str();
  vus[1].vtype = RD_KAFKA_VTYPE_KEY;
  vus[1].u.mem.ptr = const_cast<char*>(key.data());
  vus[1].u.mem.size = key.size();
  vus[2].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[2].u.mem.ptr = const_cast<char*>(value.data());
  vus[2].u.mem.size = value.size();
  vus[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[3].u.i = RD_KAFKA_MSG_F_COPY;
  vus[4].vtype = RD_KAFKA_VTYPE_HEADERS;
  vus[4].u.headers = hdrs;
  vus[5].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[5].u.ptr = &delivery;
  rd_kafka_error_t* error = rd_kafka_produceva(rk.get(), vus.data(), vus.size());
  const rd_kafka_resp_err_t err = error == nullptr ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_error_code(error);
  if (error != nullptr) rd_kafka_error_destroy(error);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_headers_destroy(hdrs);
    throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
  }
  if (rd_kafka_flush(rk.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_outq_len(rk.get()) != 0) {
    rd_kafka_purge(rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk.get(), 5000);  // serves the callbacks while `delivery` is alive
    throw std::runtime_error("produce: message not delivered within 30s");
  }
  if (delivery != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string("produce: delivery failed: ") + rd_kafka_err2str(delivery));
  }
}

}  // namespace postwire::testing
