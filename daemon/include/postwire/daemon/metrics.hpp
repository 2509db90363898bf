// The telemetry contract (docs/telemetry.md). The driver and publisher own
// these metrics; connectors never touch them, so every source gets the same set.
#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace postwire {

class Metrics {
  // Declared first: every family below is registered in it during construction.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  Metrics();

  prometheus::Family<prometheus::Counter>& polls;              // {source,outcome}
  prometheus::Family<prometheus::Histogram>& poll_duration;    // {source}
  prometheus::Family<prometheus::Gauge>& last_success;         // {source}
  prometheus::Family<prometheus::Counter>& source_errors;      // {source,reason}
  prometheus::Family<prometheus::Counter>& items;              // {source,kind,result}
  prometheus::Family<prometheus::Counter>& published;          // {topic}
  prometheus::Family<prometheus::Counter>& publish_errors;     // {reason}
  prometheus::Family<prometheus::Counter>& deadletters;        // {source,reason}
  prometheus::Histogram& delivery_latency;                     // fetch to broker ack
  prometheus::Gauge& inflight;                                 // produced, not yet acknowledged
  prometheus::Gauge& state_items;                              // remembered items in the dedupe store
  prometheus::Family<prometheus::Counter>& reloads;            // {outcome}
  prometheus::Gauge& kafka_up;                                 // 1 when a broker answered recently
  prometheus::Family<prometheus::Counter>& cross_source;       // {source,action}
  prometheus::Family<prometheus::Counter>& state_expired;      // {reason} (ttl, evicted)
  prometheus::Family<prometheus::Counter>& state_checkpoints;  // {outcome} (ok, failed)
  prometheus::Gauge& state_checkpoint_background;              // 0: commits checkpoint on the event loop
  prometheus::Counter& recovered_events;                       // exactly-once outbox: found at the broker
  prometheus::Counter& recovery_republish;  // exactly-once outbox: not found, produced again

  prometheus::Histogram& poll_duration_for(const std::string& source);
  void count_item(const std::string& source, const char* kind, const char* result, double n = 1);
  void count_source_error(const std::string& source, const std::string& reason);

  // Prometheus text exposition format, process metrics included.
  std::string serialize() const;
};

}  // namespace postwire
