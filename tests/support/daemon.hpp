// Driving the real `postwire` binary from tests: config files, one-shot runs,
// and a long-running daemon with its admin endpoints.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace postwire::testing {

struct ConfigFile {
  std::string path;       // <dir>/postwire.yaml
  std::string state_dir;  // <dir>/state
};

// One `type: feed` source, as YAML list item text for write_config.
std::string feed_source_yaml(const std::string& id, const std::string& url,
                             const std::string& interval = "1s");

// Writes <dir>/postwire.yaml: state_dir <dir>/state, admin on 127.0.0.1:0,
// the broker and the default topics; `sources_yaml` is the text of the list
// under `sources:` (items indented by two spaces, e.g. from feed_source_yaml),
// `extra_yaml` is appended at top level as is.
ConfigFile write_config(const std::string& dir, const std::string& bootstrap, const std::string& sources_yaml,
                        const std::string& extra_yaml = {});

// Runs POSTWIRE_BINARY with `args` to completion.
RunResult postwire(const std::vector<std::string>& args,
                   std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Parses the summary line `once` prints on stdout (the last line that is a JSON
// object with a "published" key); nullopt if there is none.
struct OnceSummary {
  long sources = -1;
  long published = -1;
  long duplicates = -1;
  long unchanged = -1;
  long errors = -1;
  long dead_lettered = -1;
};
std::optional<OnceSummary> parse_once_summary(const std::string& out);

// Prometheus text-format lookups. Labels select series whose labels include
// all the given ones; the values of every matching series are summed.
std::optional<double> metric_value(const std::string& metrics_text, const std::string& name,
                                   const std::map<std::string, std::string>& labels = {});
bool has_metric(const std::string& metrics_text, const std::string& name);

// `postwire run --config <config> [extra args]`, ready once the admin server
// wrote its address to <state_dir>/admin.address. Killed on destruction.
class RunningDaemon {
 public:
  // Throws std::runtime_error (with stderr) if the daemon exits or is not
  // listening within `ready_timeout`.
  RunningDaemon(const ConfigFile& config, const std::vector<std::string>& extra_args = {},
                std::chrono::milliseconds ready_timeout = std::chrono::seconds(60));
  ~RunningDaemon();
  RunningDaemon(const RunningDaemon&) = delete;
  RunningDaemon& operator=(const RunningDaemon&) = delete;

  Subprocess& process() { return *process_; }
  // "127.0.0.1:PORT"
  const std::string& admin_address() const { return admin_address_; }
  std::string admin_url(const std::string& path) const { return "http://" + admin_address_ + path; }

  // Scrapes /metrics (empty string if the scrape failed).
  std::string metrics() const;
  std::optional<double> metric_value(const std::string& name,
                                     const std::map<std::string, std::string>& labels = {}) const;
  // Polls /metrics until the metric (summed over matching series) is >= min.
  bool wait_for_metric_at_least(const std::string& name, const std::map<std::string, std::string>& labels,
                                double min,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;

  // SIGTERM, then waits; returns the exit code (nullopt if it did not exit).
  std::optional<int> terminate(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  std::string stderr_text() const { return process_->stderr_text(); }

 private:
  std::unique_ptr<Subprocess> process_;
  std::string admin_address_;
};

}  // namespace postwire::testing
