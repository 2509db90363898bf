#include "postwire/daemon/config.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "normalise/language.hpp"

namespace postwire {
namespace {

using namespace std::chrono_literals;

class Loader {
 public:
  Loader(std::string file, std::filesystem::path dir) : file_(std::move(file)), dir_(std::move(dir)) {}

  std::vector<ConfigError> errors;

  void error(const YAML::Node& at, std::string message) {
    ConfigError e{file_, 0, 0, std::move(message)};
    if (at && at.Mark().line >= 0) {
      e.line = at.Mark().line + 1;
      e.column = at.Mark().column + 1;
    }
    errors.push_back(std::move(e));
  }

  // Rejects keys of `map` that are not in `allowed`; returns false if `map` is not a map.
  bool check_map(const YAML::Node& map, const std::string& where, const std::set<std::string>& allowed) {
    if (!map.IsMap()) {
      error(map, where + " must be a mapping");
      return false;
    }
    for (const auto& kv : map) {
      const auto key = kv.first.Scalar();
      if (allowed.count(key) == 0) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        error(kv.first, fmt::format("unknown key '{}' in {} (expected one of: {})", key, where, list));
      }
    }
    return true;
  }

  // ${VAR} and ${VAR:-default} from the environment, so secrets stay out of files.
  std::optional<std::string> interpolate(const YAML::Node& at, const std::string& in) {
    std::string out;
    std::size_t i = 0;
    while (i < in.size()) {
      const auto start = in.find("${", i);
      if (start == std::string::npos) {
        out.append(in, i, std::string::npos);
        break;
      }
      out.append(in, i, start - i);
      const auto end = in.find('}', start);
      if (end == std::string::npos) {
        error(at, "unterminated ${ in '" + in + "'");
        return std::nullopt;
      }
      std::string expr = in.substr(start + 2, end - start - 2);
      std::optional<std::string> fallback;
      if (const auto dash = expr.find(":-"); dash != std::string::npos) {
        fallback = expr.substr(dash + 2);
        expr.resize(dash);
      }
      const char* value = std::getenv(expr.c_str());
      if (value != nullptr && *value != '\0') {
        out += value;
      } else if (fallback) {
        out += *fallback;
      } else {
        error(at, fmt::format("environment variable {0} is not set (write ${{{0}:-default}} for a default)",
                              expr));
        return std::nullopt;
      }
      i = end + 1;
    }
    return out;
  }

  std::optional<std::string> scalar(const YAML::Node& node, const std::string& what) {
    if (!node.IsScalar()) {
      error(node, what + " must be a single value");
      return std::nullopt;
    }
    return interpolate(node, node.Scalar());
  }

  // A BCP 47 tag, normalised to its usual case (en-us -> en-US).
  std::optional<std::string> language_tag(const YAML::Node& node, const std::string& what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    auto tag = normalise::normalise_language_tag(*text);
    if (!tag)
      error(node, fmt::format("{}: '{}' is not a language tag (write e.g. en, de-CH, pt-BR)", what, *text));
    return tag;
  }

  std::optional<std::chrono::milliseconds> duration(const YAML::Node& node, const std::string& what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    auto d = parse_duration(*text);
    if (!d) error(node, what + ": '" + *text + "' is not a duration (write e.g. 500ms, 30s, 5m, 1h)");
    return d;
  }

  std::optional<bool> boolean(const YAML::Node& node, const std::string& what) {
    auto text = scalar(node, what);
    if (!text) return std::nullopt;
    if (*text == "true" || *text == "yes" || *text == "on") return true;
    if (*text == "false" || *text == "no" || *text == "off") return false;
    error(node, what + ": '" + *text + "' is not true or false");
    return std::nullopt;
  }

  std::filesystem::path path(const std::string& text) const {
    std::filesystem::path p(text);
    return p.is_absolute() ? p : (dir_ / p).lexically_normal();
  }

  // http(s) URLs pass through; file:///abs stays; file://relative/path is taken
  // relative to the config file's folder (the demo relies on this).
  std::optional<std::string> source_url(const YAML::Node& node, const std::string& text) {
    static const std::regex http_re(R"(^https?://[^/\s?#]+([/?#]\S*)?$)", std::regex::icase);
    if (std::regex_match(text, http_re)) return text;
    if (text.rfind("file://", 0) == 0) {
      std::string rest = text.substr(7);
      if (rest.empty()) {
        error(node, "url: file:// needs a path");
        return std::nullopt;
      }
      return "file://" + path(rest).string();
    }
    error(node, "url: '" + text + "' must be an http://, https:// or file:// URL");
    return std::nullopt;
  }

 private:
  std::string file_;
  std::filesystem::path dir_;
};

bool is_valid_source_id(const std::string& id) {
  static const std::regex re("^[a-z0-9][a-z0-9._-]{0,127}$");
  return std::regex_match(id, re);
}

// Applies one "dotted.key=value" override to the document tree.
std::optional<std::string> apply_override(YAML::Node& root, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) return "--set '" + assignment + "': expected dotted.key=value";
  const std::string dotted = assignment.substr(0, eq);
  YAML::Node value;
  try {
    value = YAML::Load(assignment.substr(eq + 1));
  } catch (const YAML::Exception& e) {
    return "--set '" + assignment + "': " + e.msg;
  }
  if (value.IsNull()) value = YAML::Node(assignment.substr(eq + 1));
  std::vector<std::string> parts;
  std::stringstream ss(dotted);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  YAML::Node cur;
  cur.reset(root);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    const auto& part = parts[i];
    if (cur.IsSequence()) {
      std::size_t index = 0;
      auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), index);
      if (ec != std::errc() || p != part.data() + part.size() || index >= cur.size()) {
        return fmt::format("--set '{}': '{}' is not an index of the list", assignment, part);
      }
      if (last) {
        cur[index] = value;
      } else {
        YAML::Node next = cur[index];
        cur.reset(next);
      }
      continue;
    }
    if (!cur.IsMap() && !cur.IsNull())
      return fmt::format("--set '{}': '{}' is under a plain value", assignment, part);
    if (last) {
      cur[part] = value;
    } else {
      // Attach missing intermediate maps explicitly: yaml-cpp does not attach a
      // node created by operator[] until something is assigned to it directly.
      if (!cur[part]) cur[part] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = cur[part];
      cur.reset(next);
    }
  }
  return std::nullopt;
}

}  // namespace

std::string ConfigError::to_string() const {
  if (line > 0) return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  return file + ": " + message;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data() || n < 0) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::int64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  else
    return std::nullopt;
  if (n > INT64_MAX / scale) return std::nullopt;
  return std::chrono::milliseconds(n * scale);
}

std::optional<std::size_t> parse_size(std::string_view text) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || p == text.data()) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = 1ULL << 10;
  else if (unit == "MiB")
    scale = 1ULL << 20;
  else if (unit == "GiB")
    scale = 1ULL << 30;
  else
    return std::nullopt;
  if (n > UINT64_MAX / scale) return std::nullopt;
  return static_cast<std::size_t>(n * scale);
}

ConfigLoad load_config(const std::filesystem::path& path, const std::vector<std::string>& overrides,
                       const ConnectorRegistry& registry) {
  ConfigLoad result;
  const std::string file = path.string();
  const auto dir = std::filesystem::absolute(path).parent_path();
  Loader L(file, dir);

  YAML::Node root;
  {
    std::ifstream in(path);
    if (!in) {
      result.errors.push_back({file, 0, 0, "cannot read config file: " + std::string(std::strerror(errno))});
      return result;
    }
    try {
      root = YAML::Load(in);
    } catch (const YAML::ParserException& e) {
      result.errors.push_back({file, e.mark.line + 1, e.mark.column + 1, e.msg});
      return result;
    }
  }
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  for (const auto& assignment : overrides) {
    if (auto err = apply_override(root, assignment)) result.errors.push_back({file, 0, 0, *err});
  }
  if (!L.check_map(root, "the top level",
                   {"state_dir", "shutdown_timeout", "workers", "log", "admin", "kafka", "defaults",
                    "sources", "state", "delivery"})) {
    result.errors = std::move(L.errors);
    return result;
  }

  Config cfg;
  cfg.file = path;
  if (root["state_dir"]) {
    if (auto s = L.scalar(root["state_dir"], "state_dir")) cfg.state_dir = L.path(*s);
  } else {
    L.error(root, "state_dir is required (where postwire keeps its dedupe state)");
  }
  if (root["shutdown_timeout"]) {
    if (auto d = L.duration(root["shutdown_timeout"], "shutdown_timeout")) cfg.shutdown_timeout = *d;
  }
  if (root["workers"]) {
    if (auto t = L.scalar(root["workers"], "workers")) {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
      if (ec != std::errc() || p != t->data() + t->size() || n > 256) {
        L.error(root["workers"], "workers: '" + *t + "' is not an integer from 0 (one per CPU core) to 256");
      } else {
        cfg.workers = n;
      }
    }
  }
  if (root["delivery"]) {
    if (auto s = L.scalar(root["delivery"], "delivery")) {
      if (*s == "at_least_once") {
        cfg.delivery = DeliveryMode::at_least_once;
      } else if (*s == "exactly_once") {
        cfg.delivery = DeliveryMode::exactly_once;
      } else {
        L.error(root["delivery"], "delivery must be at_least_once or exactly_once");
      }
    }
  }
  if (const auto state = root["state"];
      state && L.check_map(state, "state", {"ttl", "max_items", "commit_interval"})) {
    if (state["commit_interval"]) {
      if (auto d = L.duration(state["commit_interval"], "state.commit_interval")) {
        if (*d > std::chrono::minutes(10)) {
          L.error(state["commit_interval"], "state.commit_interval: at most 10m");
        } else {
          cfg.state.commit_interval = *d;
        }
      }
    }
    if (state["ttl"]) {
      if (auto d = L.duration(state["ttl"], "state.ttl")) {
        cfg.state.ttl = std::chrono::duration_cast<std::chrono::seconds>(*d);
      }
    }
    if (state["max_items"]) {
      if (auto t = L.scalar(state["max_items"], "state.max_items")) {
        std::size_t n = 0;
        auto [p, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
        if (ec != std::errc() || p != t->data() + t->size() || n == 0) {
          L.error(state["max_items"], "state.max_items: '" + *t + "' is not a positive integer");
        } else {
          cfg.state.max_items = n;
        }
      }
    }
  }
  if (const auto log = root["log"]; log && L.check_map(log, "log", {"level", "format"})) {
    if (log["level"]) {
      if (auto s = L.scalar(log["level"], "log.level")) {
        static const std::set<std::string> levels{"trace", "debug",    "info", "warn",
                                                  "error", "critical", "off"};
        if (levels.count(*s) == 0)
          L.error(log["level"], "log.level: '" + *s + "' is not trace|debug|info|warn|error");
        cfg.log_level = *s;
      }
    }
    if (log["format"]) {
      if (auto s = L.scalar(log["format"], "log.format")) {
        if (*s != "text" && *s != "json") L.error(log["format"], "log.format must be text or json");
        cfg.log_format = *s;
      }
    }
  }
  if (const auto admin = root["admin"]; admin && L.check_map(admin, "admin", {"listen"})) {
    if (admin["listen"]) {
      if (auto s = L.scalar(admin["listen"], "admin.listen")) {
        static const std::regex re(R"(^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})$)");
        if (!std::regex_match(*s, re))
          L.error(admin["listen"], "admin.listen must be host:port, e.g. 127.0.0.1:9464");
        cfg.admin_listen = *s;
      }
    }
  }

  static const std::set<std::string> kTypedLibrdkafkaKeys{
      "bootstrap.servers",     "metadata.broker.list", "client.id",          "acks",
      "request.required.acks", "enable.idempotence",   "message.timeout.ms", "delivery.timeout.ms"};
  if (const auto kafka = root["kafka"];
      kafka && L.check_map(kafka, "kafka",
                           {"bootstrap_servers", "client_id", "topics", "delivery_timeout", "librdkafka"})) {
    if (kafka["bootstrap_servers"]) {
      if (auto s = L.scalar(kafka["bootstrap_servers"], "kafka.bootstrap_servers")) {
        if (s->empty()) L.error(kafka["bootstrap_servers"], "kafka.bootstrap_servers must not be empty");
        cfg.kafka.bootstrap_servers = *s;
      }
    } else {
      L.error(kafka, "kafka.bootstrap_servers is required (a broker list, or 'embedded')");
    }
    if (kafka["client_id"]) {
      if (auto s = L.scalar(kafka["client_id"], "kafka.client_id")) cfg.kafka.client_id = *s;
    }
    if (const auto topics = kafka["topics"];
        topics && L.check_map(topics, "kafka.topics", {"posts", "comments", "deadletter"})) {
      static const std::regex topic_re("^[A-Za-z0-9._-]{1,249}$");
      auto topic = [&](const char* key, std::string& out) {
        if (!topics[key]) return;
        if (auto s = L.scalar(topics[key], std::string("kafka.topics.") + key)) {
          if (!std::regex_match(*s, topic_re)) {
            L.error(topics[key],
                    std::string("kafka.topics.") + key + ": '" + *s + "' is not a valid topic name");
          }
          out = *s;
        }
      };
      topic("posts", cfg.kafka.topic_posts);
      topic("comments", cfg.kafka.topic_comments);
      topic("deadletter", cfg.kafka.topic_deadletter);
    }
    if (kafka["delivery_timeout"]) {
      if (auto d = L.duration(kafka["delivery_timeout"], "kafka.delivery_timeout"))
        cfg.kafka.delivery_timeout = *d;
    }
    if (const auto extra = kafka["librdkafka"]; extra) {
      if (!extra.IsMap()) {
        L.error(extra, "kafka.librdkafka must be a mapping of librdkafka properties");
      } else {
        for (const auto& kv : extra) {
          const auto key = kv.first.Scalar();
          if (kTypedLibrdkafkaKeys.count(key) != 0) {
            L.error(kv.first, "kafka.librdkafka." + key +
                                  " clashes with a typed setting (use kafka.bootstrap_servers, client_id or "
                                  "delivery_timeout; acks=all and idempotence are always on)");
            continue;
          }
          if (auto v = L.scalar(kv.second, "kafka.librdkafka." + key))
            cfg.kafka.librdkafka.emplace_back(key, *v);
        }
      }
    }
  } else if (!root["kafka"]) {
    L.error(root, "kafka section is required (at least kafka.bootstrap_servers)");
  }

  // Defaults every source inherits.
  SourceSpec defaults;
  if (const auto d = root["defaults"];
      d &&
      L.check_map(d, "defaults", {"interval", "timeout", "max_document_bytes", "timezone", "language"})) {
    if (d["interval"]) {
      if (auto v = L.duration(d["interval"], "defaults.interval")) defaults.interval = *v;
    }
    if (d["timeout"]) {
      if (auto v = L.duration(d["timeout"], "defaults.timeout")) defaults.timeout = *v;
    }
    if (d["max_document_bytes"]) {
      if (auto s = L.scalar(d["max_document_bytes"], "defaults.max_document_bytes")) {
        if (auto n = parse_size(*s))
          defaults.max_document_bytes = *n;
        else
          L.error(d["max_document_bytes"], "defaults.max_document_bytes: '" + *s + "' is not a size");
      }
    }
    if (d["timezone"]) defaults.timezone = L.scalar(d["timezone"], "defaults.timezone");
    if (d["language"]) defaults.language = L.language_tag(d["language"], "defaults.language");
  }

  const auto sources = root["sources"];
  if (!sources) {
    L.error(root, "sources is required (a list of sources to poll)");
  } else if (!sources.IsSequence()) {
    L.error(sources, "sources must be a list");
  } else {
    std::set<std::string> seen_ids;
    static const std::set<std::string> kCommonKeys{
        "id",       "type",     "url",       "interval",           "timeout",     "enabled",
        "timezone", "language", "state_ttl", "max_document_bytes", "cross_source"};
    for (const auto& s : sources) {
      if (!s.IsMap()) {
        L.error(s, "each source must be a mapping with id, type and url");
        continue;
      }
      SourceSpec spec = defaults;
      bool enabled = true;
      const ConnectorFactory* factory = nullptr;
      if (s["type"]) {
        if (auto t = L.scalar(s["type"], "type")) {
          factory = registry.find(*t);
          if (factory == nullptr) {
            std::string known;
            for (const auto& k : registry.types()) known += (known.empty() ? "" : ", ") + k;
            L.error(s["type"], "unknown source type '" + *t + "' (known: " + known + ")");
          }
          spec.type = *t;
        }
      } else {
        L.error(s, "source needs a type");
      }
      std::set<std::string> allowed = kCommonKeys;
      if (factory != nullptr) {
        for (const auto& o : factory->options) allowed.insert(o.name);
      }
      L.check_map(s, "source", allowed);
      if (s["id"]) {
        if (auto id = L.scalar(s["id"], "id")) {
          if (!is_valid_source_id(*id)) {
            L.error(s["id"], "source id '" + *id + "' must match [a-z0-9][a-z0-9._-]*");
          } else if (!seen_ids.insert(*id).second) {
            L.error(s["id"], "duplicate source id '" + *id + "'");
          }
          spec.id = *id;
        }
      } else {
        L.error(s, "source needs an id");
      }
      if (s["url"]) {
        if (auto u = L.scalar(s["url"], "url")) {
          if (auto resolved = L.source_url(s["url"], *u)) spec.url = *resolved;
        }
      } else {
        L.error(s, "source needs a url");
      }
      if (s["interval"]) {
        if (auto v = L.duration(s["interval"], "interval")) {
          if (*v < 100ms) L.error(s["interval"], "interval must be at least 100ms");
          spec.interval = *v;
        }
      }
      if (s["timeout"]) {
        if (auto v = L.duration(s["timeout"], "timeout")) spec.timeout = *v;
      }
      if (s["max_document_bytes"]) {
        if (auto t = L.scalar(s["max_document_bytes"], "max_document_bytes")) {
          if (auto n = parse_size(*t))
            spec.max_document_bytes = *n;
          else
            L.error(s["max_document_bytes"], "max_document_bytes: '" + *t + "' is not a size");
        }
      }
      if (s["timezone"]) spec.timezone = L.scalar(s["timezone"], "timezone");
      if (s["language"]) spec.language = L.language_tag(s["language"], "language");
      if (s["state_ttl"]) {
        if (auto v = L.duration(s["state_ttl"], "state_ttl")) {
          spec.state_ttl = std::chrono::duration_cast<std::chrono::seconds>(*v);
        }
      }
      if (s["cross_source"]) {
        if (auto v = L.scalar(s["cross_source"], "cross_source")) {
          if (*v == "drop") {
            spec.drop_cross_source = true;
          } else if (*v != "mark") {
            L.error(s["cross_source"], "cross_source must be mark (publish with duplicate_of) or drop");
          }
        }
      }
      if (s["enabled"]) {
        if (auto b = L.boolean(s["enabled"], "enabled")) enabled = *b;
      }
      // Connector-specific keys: checked against the factory's declared kinds,
      // then the factory itself gets a say (e.g. a regex that does not compile).
      YAML::Node options(YAML::NodeType::Map);
      if (factory != nullptr) {
        for (const auto& o : factory->options) {
          const auto v = s[o.name];
          if (!v) continue;
          using Kind = OptionSpec::Kind;
          switch (o.kind) {
            case Kind::string_list: {
              if (!v.IsSequence()) {
                L.error(v, o.name + " must be a list");
                continue;
              }
              YAML::Node list(YAML::NodeType::Sequence);
              for (const auto& item : v) {
                if (auto text = L.scalar(item, o.name)) list.push_back(*text);
              }
              options[o.name] = list;
              break;
            }
            case Kind::boolean:
              if (auto b = L.boolean(v, o.name)) options[o.name] = *b;
              break;
            case Kind::integer:
              if (auto text = L.scalar(v, o.name)) {
                long long n = 0;
                auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
                if (ec != std::errc() || p != text->data() + text->size()) {
                  L.error(v, o.name + ": '" + *text + "' is not an integer");
                } else {
                  options[o.name] = n;
                }
              }
              break;
            case Kind::duration:
              if (auto d = L.duration(v, o.name)) options[o.name] = std::to_string(d->count()) + "ms";
              break;
            case Kind::string:
              if (auto text = L.scalar(v, o.name)) options[o.name] = *text;
              break;
          }
        }
        spec.options = options;
        if (!spec.id.empty() && !spec.url.empty()) {
          auto created = factory->create(spec);
          if (!created) L.error(s, "source '" + spec.id + "': " + created.error().message);
        }
      }
      if (enabled) cfg.sources.push_back(std::move(spec));
    }
  }

  for (auto& e : L.errors) result.errors.push_back(std::move(e));
  if (result.errors.empty()) result.config = std::move(cfg);
  return result;
}

}  // namespace postwire
