// The daemon's configuration: YAML with line/column errors, ${VAR} interpolation
// and --set overrides. docs/configuration.md is the user-facing description.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "postwire/connectors/connector.hpp"

namespace postwire {

struct KafkaConfig {
  std::string bootstrap_servers;  // broker list, or "embedded"
  std::string client_id = "postwire";
  std::string topic_posts = "postwire.posts";
  std::string topic_comments = "postwire.comments";
  std::string topic_deadletter = "postwire.deadletter";
  std::chrono::milliseconds delivery_timeout{std::chrono::minutes(5)};
  std::vector<std::pair<std::string, std::string>> librdkafka;  // passed through as is

  bool embedded() const { return bootstrap_servers == "embedded"; }
};

enum class DeliveryMode { at_least_once, exactly_once };

struct StateConfig {
  std::chrono::seconds ttl{std::chrono::hours(24 * 30)};  // per item, refreshed while the item is visible
  std::size_t max_items = 20'000'000;                     // oldest evicted beyond this
  std::chrono::milliseconds commit_interval{0};  // acknowledged marks may wait this long to share a commit
};

struct Config {
  std::filesystem::path file;  // the config file as given
  std::filesystem::path state_dir;
  std::chrono::milliseconds shutdown_timeout{std::chrono::seconds(30)};
  std::size_t workers = 0;  // parse/normalise threads; 0: one per CPU core
  std::string log_level = "info";
  std::string log_format = "text";
  std::string admin_listen = "127.0.0.1:9464";
  KafkaConfig kafka;
  StateConfig state;
  DeliveryMode delivery = DeliveryMode::at_least_once;
  std::vector<SourceSpec> sources;  // enabled sources only
};

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when the error has no position (e.g. a --set override)
  int column = 0;  // 1-based
  std::string message;
  std::string to_string() const;  // "file:line:col: message"
};

struct ConfigLoad {
  std::optional<Config> config;
  std::vector<ConfigError> errors;  // every problem found, not just the first
  bool ok() const { return config.has_value() && errors.empty(); }
};

// Loads and validates `path`, applying `overrides` ("dotted.key=value") first.
ConfigLoad load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides,
                       const ConnectorRegistry& registry);

// "30s", "500ms", "5m", "1h", "2d" -> milliseconds.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
// "1048576", "512KiB", "16MiB", "1GiB" -> bytes.
std::optional<std::size_t> parse_size(std::string_view text);

}  // namespace postwire
