#include "postwire/daemon/metrics.hpp"

#include <dirent.h>
#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <prometheus/text_serializer.h>

namespace postwire {
namespace {

prometheus::ClientMetric gauge_value(double v) {
  prometheus::ClientMetric m;
  m.gauge.value = v;
  return m;
}

prometheus::MetricFamily family(const char* name, const char* help, prometheus::MetricType type, double v) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  auto m = gauge_value(v);
  if (type == prometheus::MetricType::Counter) m.counter.value = v;
  f.metric.push_back(m);
  return f;
}

// Process metrics in the names the Prometheus client libraries use, read from /proc.
std::vector<prometheus::MetricFamily> process_families() {
  std::vector<prometheus::MetricFamily> out;
  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const auto page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the command name (which may contain spaces) start at field 3.
  const auto close = line.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string tok; rest >> tok;) f.push_back(tok);
    // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
    if (f.size() > 21) {
      const double utime = std::stod(f[11]);
      const double stime = std::stod(f[12]);
      const double start_ticks = std::stod(f[19]);
      const double vsize = std::stod(f[20]);
      const double rss_pages = std::stod(f[21]);
      double boot_time = 0;
      std::ifstream sys("/proc/stat");
      for (std::string l; std::getline(sys, l);) {
        if (l.rfind("btime ", 0) == 0) boot_time = std::stod(l.substr(6));
      }
      out.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                           prometheus::MetricType::Counter, (utime + stime) / ticks));
      out.push_back(family("process_start_time_seconds",
                           "Start time of the process since unix epoch in seconds.",
                           prometheus::MetricType::Gauge, boot_time + start_ticks / ticks));
      out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                           prometheus::MetricType::Gauge, vsize));
      out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                           prometheus::MetricType::Gauge, rss_pages * page));
    }
  }
  double fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++fds;
    }
    closedir(d);
  }
  out.push_back(
      family("process_open_fds", "Number of open file descriptors.", prometheus::MetricType::Gauge, fds));
  return out;
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      polls(prometheus::BuildCounter()
                .Name("postwire_source_polls_total")
                .Help("Polls of a source by outcome (ok, not_modified, error).")
                .Register(*registry_)),
      poll_duration(prometheus::BuildHistogram()
                        .Name("postwire_source_poll_duration_seconds")
                        .Help("Time from the start of a poll to its last fetch and parse.")
                        .Register(*registry_)),
      last_success(prometheus::BuildGauge()
                       .Name("postwire_source_last_success_timestamp_seconds")
                       .Help("Unix time of the last poll of a source that succeeded.")
                       .Register(*registry_)),
      source_errors(prometheus::BuildCounter()
                        .Name("postwire_source_errors_total")
                        .Help("Failed polls and per-item failures of a source by reason.")
                        .Register(*registry_)),
      items(
          prometheus::BuildCounter()
              .Name("postwire_items_total")
              .Help(
                  "Items seen by source, kind (post, comment) and result (new, updated, duplicate, invalid).")
              .Register(*registry_)),
      published(prometheus::BuildCounter()
                    .Name("postwire_events_published_total")
                    .Help("Events acknowledged by the broker, by topic.")
                    .Register(*registry_)),
      publish_errors(prometheus::BuildCounter()
                         .Name("postwire_publish_errors_total")
                         .Help("Produce and delivery failures by reason.")
                         .Register(*registry_)),
      deadletters(prometheus::BuildCounter()
                      .Name("postwire_deadletter_total")
                      .Help("Items sent to the dead-letter topic, by source and reason.")
                      .Register(*registry_)),
      delivery_latency(
          prometheus::BuildHistogram()
              .Name("postwire_event_delivery_latency_seconds")
              .Help("Time from fetching an item to the broker acknowledging its event.")
              .Register(*registry_)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                                               2.5, 5, 10, 30, 60, 300})),
      inflight(prometheus::BuildGauge()
                   .Name("postwire_inflight_events")
                   .Help("Events handed to the producer and not yet acknowledged.")
                   .Register(*registry_)
                   .Add({})),
      state_items(prometheus::BuildGauge()
                      .Name("postwire_state_items")
                      .Help("Items remembered by the dedupe store.")
                      .Register(*registry_)
                      .Add({})),
      reloads(prometheus::BuildCounter()
                  .Name("postwire_config_reloads_total")
                  .Help("SIGHUP configuration reloads by outcome (ok, error).")
                  .Register(*registry_)),
      kafka_up(prometheus::BuildGauge()
                   .Name("postwire_kafka_up")
                   .Help("1 when the Kafka cluster is reachable, 0 otherwise.")
                   .Register(*registry_)
                   .Add({})),
      cross_source(
          prometheus::BuildCounter()
              .Name("postwire_cross_source_duplicates_total")
              .Help("Posts found to be copies of a post already seen (same canonical URL or near-identical "
                    "text), by action (mark, drop).")
              .Register(*registry_)),
      state_expired(prometheus::BuildCounter()
                        .Name("postwire_state_expired_items_total")
                        .Help("Items forgotten by the dedupe store, by reason (ttl, evicted).")
                        .Register(*registry_)),
      state_checkpoints(prometheus::BuildCounter()
                            .Name("postwire_state_checkpoints_total")
                            .Help("Background copies of the state store's write-ahead log into state.db, by "
                                  "outcome (ok, failed).")
                            .Register(*registry_)),
      state_checkpoint_background(
          prometheus::BuildGauge()
              .Name("postwire_state_checkpoint_background")
              .Help(
                  "1 while the state store checkpoints on its own thread; 0: its commits checkpoint inline, "
                  "on the event loop.")
              .Register(*registry_)
              .Add({})),
      recovered_events(
          prometheus::BuildCounter()
              .Name("postwire_outbox_recovered_total")
              .Help("Exactly-once recovery: outbox events found at the broker and marked delivered.")
              .Register(*registry_)
              .Add({})),
      recovery_republish(prometheus::BuildCounter()
                             .Name("postwire_outbox_missing_total")
                             .Help("Exactly-once recovery: outbox events not found at the broker, left to be "
                                   "produced again.")
                             .Register(*registry_)
                             .Add({})) {
  prometheus::BuildGauge()
      .Name("postwire_build_info")
      .Help("Build information; the value is always 1.")
      .Register(*registry_)
      .Add({{"version", POSTWIRE_VERSION}, {"librdkafka", rd_kafka_version_str()}})
      .Set(1);
}

prometheus::Histogram& Metrics::poll_duration_for(const std::string& source) {
  return poll_duration.Add({{"source", source}}, prometheus::Histogram::BucketBoundaries{
                                                     0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
}

void Metrics::count_item(const std::string& source, const char* kind, const char* result, double n) {
  items.Add({{"source", source}, {"kind", kind}, {"result", result}}).Increment(n);
}

void Metrics::count_source_error(const std::string& source, const std::string& reason) {
  source_errors.Add({{"source", source}, {"reason", reason}}).Increment();
}

std::string Metrics::serialize() const {
  auto families = registry_->Collect();
  for (auto& f : process_families()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace postwire
