#include "support/daemon.hpp"

#include <csignal>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "support/http_get.hpp"
#include "support/temp_dir.hpp"

namespace postwire::testing {

std::string feed_source_yaml(const std::string& id, const std::string& url, const std::string& interval) {
  return "  - id: " + id + "\n    type: feed\n    url: \"" + url + "\"\n    interval: " + interval + "\n";
}

ConfigFile write_config(const std::string& dir, const std::string& bootstrap, const std::string& sources_yaml,
                        const std::string& extra_yaml) {
  ConfigFile config;
  config.path = (std::filesystem::path(dir) / "postwire.yaml").string();
  config.state_dir = (std::filesystem::path(dir) / "state").string();
  std::string text;
  text += "state_dir: \"" + config.state_dir + "\"\n";
  text += "shutdown_timeout: 10s\n";
  text += "admin: {listen: \"127.0.0.1:0\"}\n";
  text += "kafka:\n";
  text += "  bootstrap_servers: \"" + bootstrap + "\"\n";
  text += "  topics: {posts: postwire.posts, comments: postwire.comments, deadletter: postwire.deadletter}\n";
  text += "sources:\n";
  text += sources_yaml;
  if (!sources_yaml.empty() && sources_yaml.back() != '\n') text += '\n';
  text += extra_yaml;
  write_file(config.path, text);
  return config;
}

RunResult postwire(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{POSTWIRE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, timeout);
}

std::optional<OnceSummary> parse_once_summary(const std::string& out) {
  std::optional<OnceSummary> found;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    const auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("published")) continue;
    OnceSummary summary;
    const auto get = [&json](const char* key) -> long {
      const auto it = json.find(key);
      return (it != json.end() && it->is_number_integer()) ? it->get<long>() : -1;
    };
    summary.sources = get("sources");
    summary.published = get("published");
    summary.duplicates = get("duplicates");
    summary.unchanged = get("unchanged");
    summary.errors = get("errors");
    summary.dead_lettered = get("dead_lettered");
    found = summary;
  }
  return found;
}

namespace {

// One sample line of the text format: name, labels, value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

std::optional<Sample> parse_sample(const std::string& line) {
  if (line.empty() || line[0] == '#') return std::nullopt;
  Sample sample;
  std::size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  sample.name = line.substr(0, i);
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const auto eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return std::nullopt;
      std::string key = line.substr(i, eq - i);
      std::string value;
      std::size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      sample.labels[key] = value;
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    ++i;  // '}'
  }
  while (i < line.size() && line[i] == ' ') ++i;
  const std::string rest = line.substr(i);
  const std::string number = rest.substr(0, rest.find(' '));
  if (number == "+Inf") {
    sample.value = std::numeric_limits<double>::infinity();
  } else if (number == "-Inf") {
    sample.value = -std::numeric_limits<double>::infinity();
  } else if (number == "NaN") {
    sample.value = std::numeric_limits<double>::quiet_NaN();
  } else {
    char* end = nullptr;
    sample.value = std::strtod(number.c_str(), &end);
    if (end == number.c_str()) return std::nullopt;
  }
  return sample;
}

}  // namespace

std::optional<double> metric_value(const std::string& metrics_text, const std::string& name,
                                   const std::map<std::string, std::string>& labels) {
  std::optional<double> total;
  std::istringstream lines(metrics_text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto sample = parse_sample(line);
    if (!sample || sample->name != name) continue;
    bool match = true;
    for (const auto& [key, value] : labels) {
      const auto it = sample->labels.find(key);
      if (it == sample->labels.end() || it->second != value) {
        match = false;
        break;
      }
    }
    if (match) total = total.value_or(0) + sample->value;
  }
  return total;
}

bool has_metric(const std::string& metrics_text, const std::string& name) {
  return metric_value(metrics_text, name).has_value();
}

RunningDaemon::RunningDaemon(const ConfigFile& config, const std::vector<std::string>& extra_args,
                             std::chrono::milliseconds ready_timeout) {
  std::vector<std::string> argv{POSTWIRE_BINARY, "run", "--config", config.path};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<Subprocess>(argv);
  const std::filesystem::path address_file = std::filesystem::path(config.state_dir) / "admin.address";
  const bool ready = wait_until(
      [&] {
        if (!process_->running()) return true;
        std::error_code ec;
        if (!std::filesystem::exists(address_file, ec)) return false;
        std::string text = read_file(address_file);
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
          text.pop_back();
        if (text.find(':') == std::string::npos) return false;  // still being written
        admin_address_ = text;
        return true;
      },
      ready_timeout);
  if (!process_->running()) {
    const auto code = process_->wait(std::chrono::seconds(5));
    throw std::runtime_error("postwire run exited with " + std::to_string(code.value_or(-1)) +
                             " before it was ready; stderr:\n" + process_->stderr_text());
  }
  if (!ready) {
    throw std::runtime_error("postwire run did not write " + address_file.string() + " within " +
                             std::to_string(ready_timeout.count()) + "ms; stderr:\n" +
                             process_->stderr_text());
  }
}

RunningDaemon::~RunningDaemon() {
  if (process_ && process_->running()) {
    process_->signal(SIGTERM);
    if (!process_->wait(std::chrono::seconds(15))) process_->kill();
  }
}

std::string RunningDaemon::metrics() const {
  const HttpResult result = http_get(admin_url("/metrics"));
  return result.status == 200 ? result.body : std::string();
}

std::optional<double> RunningDaemon::metric_value(const std::string& name,
                                                  const std::map<std::string, std::string>& labels) const {
  return postwire::testing::metric_value(metrics(), name, labels);
}

bool RunningDaemon::wait_for_metric_at_least(const std::string& name,
                                             const std::map<std::string, std::string>& labels, double min,
                                             std::chrono::milliseconds timeout) const {
  return wait_until(
      [&] {
        const auto value = metric_value(name, labels);
        return value && *value >= min;
      },
      timeout, std::chrono::milliseconds(50));
}

std::optional<int> RunningDaemon::terminate(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  return process_->wait(timeout);
}

}  // namespace postwire::testing
