// Reading topics back from a broker in tests: a plain librdkafka consumer with
// no consumer group, assigned to every partition from the beginning.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace postwire::testing {

struct ConsumedMessage {
  std::string topic;
  int partition = 0;
  std::int64_t offset = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;

  // First header with that name, if any.
  std::optional<std::string> header(const std::string& name) const;
};

// Every message in `topic`, sorted by (partition, offset); empty if the topic
// does not exist. Throws std::runtime_error if the end of every partition is
// not reached before the timeout.
std::vector<ConsumedMessage> consume_all(const std::string& bootstrap, const std::string& topic,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Number of messages in `topic` (sum over partitions of high - low watermark);
// 0 if the topic does not exist. Cheap enough to poll on.
std::int64_t message_count(const std::string& bootstrap, const std::string& topic,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Produces one message (tests of the support code itself); throws on failure.
void produce_one(const std::string& bootstrap, const std::string& topic, const std::string& key,
                 const std::string& value,
                 const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace postwire::testing
