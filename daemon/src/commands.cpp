#include "postwire/daemon/commands.hpp"

#include <curl/curl.h>
#include <librdkafka/rdkafka.h>
#include <libxml/xmlversion.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "feed/feed_connector.hpp"
#include "feed/feed_parser.hpp"
#include "normalise/dates.hpp"
#include "normalise/language.hpp"
#include "postwire/daemon/admin_server.hpp"
#include "postwire/daemon/config.hpp"
#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/daemon/embedded_broker.hpp"
#include "postwire/daemon/http_fetcher.hpp"
#include "postwire/daemon/kafka_publisher.hpp"
#include "postwire/daemon/logging.hpp"
#include "postwire/daemon/metrics.hpp"
#include "postwire/daemon/outbox_recovery.hpp"
#include "postwire/daemon/polling_driver.hpp"
#include "postwire/schema/event_json.hpp"
#include "postwire/schema/ids.hpp"
#include "postwire/schema/json_writer.hpp"
#include "postwire/schema/time.hpp"

namespace postwire {

namespace asio = boost::asio;

namespace {

ConnectorRegistry& registry() {
  static ConnectorRegistry r = [] {
    ConnectorRegistry reg;
    register_builtin_connectors(reg);
    return reg;
  }();
  return r;
}

void print_config_errors(const ConfigLoad& load) {
  for (const auto& e : load.errors) std::cerr << e.to_string() << "\n";
}

// Loads the config and sets up logging (CLI flags win over the file).
std::optional<Config> load_and_log(const CommonOptions& options) {
  auto load = load_config(options.config, options.overrides, registry());
  const std::string format = options.log_format.value_or(load.config ? load.config->log_format : "text");
  const std::string level = options.log_level.value_or(load.config ? load.config->log_level : "info");
  if (!setup_logging(format, level)) {
    std::cerr << "unknown log level '" << level << "'\n";
    return std::nullopt;
  }
  if (!load.ok()) {
    print_config_errors(load);
    spdlog::error("configuration {} is invalid ({} error{})", options.config.string(), load.errors.size(),
                  load.errors.size() == 1 ? "" : "s");
    return std::nullopt;
  }
  return std::move(load.config);
}

bool write_small_file(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    out << text << "\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // readers never see a half-written file
  return !ec;
}

std::string print_line(const Event& event, const Delivery& d) {
  const std::string& title = event.kind == EventKind::post
                                 ? event.post.title.value_or("(untitled)")
                                 : event.comment.author.name.value_or("(anonymous)");
  return fmt::format("acked {}[{}]@{} {}.{} v{} {} {}", d.topic, d.partition, d.offset, to_string(event.kind),
                     to_string(event.event_type), event.version, event.item_id(), title);
}

// Everything a running postwire is made of, in construction order; members are
// destroyed in reverse, so the producer (whose last reports call into the
// driver and store) goes before them, and the embedded broker last of all.
struct Runtime {
  asio::io_context io;
  std::unique_ptr<ComputePool> compute;  // joined before the loop it posts results to goes away
  Metrics metrics;
  std::unique_ptr<EmbeddedBroker> broker;
  std::unique_ptr<DedupeStore> store;
  std::unique_ptr<HttpFetcher> fetcher;
  std::unique_ptr<PollingDriver> driver;
  std::unique_ptr<KafkaPublisher> publisher;
  std::unique_ptr<AdminServer> admin;
  bool unresolved = false;  // exactly-once: a delivery outcome is unknown; stop and recover on restart

  void expire_state() {
    const auto stats = store->expire(std::chrono::system_clock::now());
    if (stats.expired + stats.evicted > 0) {
      metrics.state_expired.Add({{"reason", "ttl"}}).Increment(static_cast<double>(stats.expired));
      metrics.state_expired.Add({{"reason", "evicted"}}).Increment(static_cast<double>(stats.evicted));
      spdlog::info("state: forgot {} expired and {} evicted items; {} remembered", stats.expired,
                   stats.evicted, store->size());
    }
    metrics.state_items.Set(static_cast<double>(store->size()));
  }

  ~Runtime() {
    compute.reset();  // no pool thread may still be working on a poll below
    admin.reset();
    publisher.reset();  // purges anything left: its reports still find driver and store alive
    driver.reset();
  }

  Result<void> start(const Config& config, bool print_events) {
    std::error_code ec;
    std::filesystem::create_directories(config.state_dir, ec);
    if (ec)
      return make_error(Errc::io,
                        "cannot create state_dir " + config.state_dir.string() + ": " + ec.message());
    auto opened = DedupeStore::open(config.state_dir, make_store_options(config));
    if (!opened) return std::move(opened).error();
    store = std::move(*opened);
    metrics.state_items.Set(static_cast<double>(store->size()));
    spdlog::info("state: {} remembered items in {}", store->size(), (config.state_dir / "state.db").string());

    std::string bootstrap = config.kafka.bootstrap_servers;
    if (config.kafka.embedded()) {
      EmbeddedBroker::Options opts;
      opts.topics = {config.kafka.topic_posts, config.kafka.topic_comments, config.kafka.topic_deadletter};
      auto started = EmbeddedBroker::start(opts);
      if (!started) return std::move(started).error();
      broker = std::move(*started);
      bootstrap = broker->bootstrap_servers();
      const auto file = config.state_dir / "embedded-kafka.bootstrap";
      write_small_file(file, bootstrap);
      spdlog::warn(
          "using the embedded test broker (librdkafka mock cluster, 3 brokers) at {}; written to {}. "
          "It keeps about 5 MiB per partition and nothing across restarts: not for production",
          bootstrap, file.string());
    }
    auto pub = KafkaPublisher::create(io, config.kafka, bootstrap, metrics);
    if (!pub) return std::move(pub).error();
    publisher = std::move(*pub);
    fetcher = std::make_unique<HttpFetcher>(io, HttpFetcherOptions{"postwire/" POSTWIRE_VERSION, 5});
    driver = std::make_unique<PollingDriver>(io, config.kafka, config.delivery, registry(), *fetcher, *store,
                                             *publisher, metrics);
    compute = std::make_unique<ComputePool>(config.workers);
    driver->set_compute_pool(compute.get());
    driver->set_commit_interval(config.state.commit_interval);
    expire_state();
    if (config.delivery == DeliveryMode::exactly_once) {
      auto recovered = recover_outbox(*store, config.kafka, bootstrap, metrics);
      if (!recovered) {
        return make_error(recovered.error().code, "exactly-once recovery failed (nothing was published): " +
                                                      recovered.error().message);
      }
      driver->set_unresolved_handler([this] { unresolved = true; });
    }
    if (print_events) {
      driver->set_ack_observer(
          [](const Event& e, const Delivery& d) { std::cout << print_line(e, d) << std::endl; });
    }
    return {};
  }
};

std::string summary_json(const RunTotals& t, std::size_t sources) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("sources");
  w.value(static_cast<std::int64_t>(sources));
  w.key("published");
  w.value(static_cast<std::int64_t>(t.published));
  w.key("duplicates");
  w.value(static_cast<std::int64_t>(t.duplicates));
  w.key("unchanged");
  w.value(static_cast<std::int64_t>(t.unchanged));
  w.key("errors");
  w.value(static_cast<std::int64_t>(t.source_errors + t.undelivered));
  w.key("dead_lettered");
  w.value(static_cast<std::int64_t>(t.dead_lettered));
  w.end_object();
  return out;
}

}  // namespace

std::string version_string() {
  return std::string("postwire ") + POSTWIRE_VERSION + " (librdkafka " + rd_kafka_version_str() +
         ", libcurl " + curl_version_info(CURLVERSION_NOW)->version + ", libxml2 " + LIBXML_DOTTED_VERSION +
         ")";
}

int command_check(const CommonOptions& options) {
  auto load = load_config(options.config, options.overrides, registry());
  if (!load.ok()) {
    print_config_errors(load);
    std::cerr << options.config.string() << ": " << load.errors.size() << " error"
              << (load.errors.size() == 1 ? "" : "s") << "\n";
    return kExitConfig;
  }
  std::cout << options.config.string() << ": ok, " << load.config->sources.size() << " source"
            << (load.config->sources.size() == 1 ? "" : "s") << "\n";
  return kExitOk;
}

// Loads the configuration and starts the runtime; on failure returns the exit code.
static std::optional<int> start_runtime(const CommonOptions& options, std::optional<Config>& config,
                                        Runtime& rt) {
  config = load_and_log(options);
  if (!config) return kExitConfig;
  if (auto r = rt.start(*config, options.print_events); !r) {
    spdlog::error("cannot start: reason={} {}", errc_name(r.error().code), r.error().message);
    return kExitUndelivered;
  }
  return std::nullopt;
}

int command_once(const CommonOptions& options) {
  std::optional<Config> config;
  Runtime rt;
  if (auto failed = start_runtime(options, config, rt)) return *failed;
  std::size_t left = 0;
  asio::co_spawn(
      rt.io,
      [&]() -> asio::awaitable<void> {
        co_await rt.driver->poll_all_once(config->sources);
        spdlog::debug("once: every source polled");
        // Bounded by the delivery timeout: librdkafka reports every message by then.
        left = co_await rt.publisher->drain(config->kafka.delivery_timeout + std::chrono::seconds(5));
        spdlog::debug("once: deliveries settled ({} left)", left);
        rt.io.stop();
      },
      asio::detached);
  rt.io.run();
  if (auto r = rt.driver->commit(); !r) {
    spdlog::error("state not saved: {}", r.error().message);
    return kExitUndelivered;
  }
  spdlog::debug("once: state committed");
  const auto& t = rt.driver->totals();
  std::cout << summary_json(t, config->sources.size()) << std::endl;
  if (left > 0 || t.undelivered > 0) {
    spdlog::error("{} events were not delivered; they will be retried on the next run", left + t.undelivered);
    return kExitUndelivered;
  }
  return t.source_errors > 0 ? kExitSourceFailed : kExitOk;
}

int command_run(const CommonOptions& options) {
  std::optional<Config> config;
  Runtime rt;
  if (auto failed = start_runtime(options, config, rt)) return *failed;
  // Not ready while stopping, so a load balancer or orchestrator stops routing
  // to (and waiting on) an instance that is draining.
  bool stopping = false;
  auto admin = AdminServer::start(rt.io, config->admin_listen,
                                  AdminHandlers{[&] {
                                                  rt.driver->report_state_metrics();
                                                  return rt.metrics.serialize();
                                                },
                                                [&] { return !stopping && rt.publisher->reachable(); },
                                                [&] {
                                                  if (stopping)
                                                    return std::string("not ready: shutting down");
                                                  if (!rt.publisher->reachable())
                                                    return std::string("not ready: kafka unreachable");
                                                  return std::string("ready");
                                                }});
  if (!admin) {
    spdlog::error("cannot start: {}", admin.error().message);
    return kExitUndelivered;
  }
  rt.admin = std::move(*admin);
  const auto address = rt.admin->local_address();
  write_small_file(config->state_dir / "admin.address", address);
  spdlog::info("postwire {} running: {} sources, metrics at http://{}/metrics", POSTWIRE_VERSION,
               config->sources.size(), address);

  asio::signal_set signals(rt.io, SIGINT, SIGTERM, SIGHUP);
  std::function<void()> wait_signal;
  wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        auto load = load_config(options.config, options.overrides, registry());
        if (!load.ok()) {
          rt.metrics.reloads.Add({{"outcome", "error"}}).Increment();
          for (const auto& e : load.errors) spdlog::error("reload rejected: {}", e.to_string());
          spdlog::error("SIGHUP: new configuration is invalid; keeping the running one");
        } else {
          rt.metrics.reloads.Add({{"outcome", "ok"}}).Increment();
          if (load.config->kafka.bootstrap_servers != config->kafka.bootstrap_servers ||
              load.config->state_dir != config->state_dir ||
              load.config->admin_listen != config->admin_listen) {
            spdlog::warn("SIGHUP: kafka, state_dir and admin changes take effect only after a restart");
          }
          spdlog::info("SIGHUP: reloading {} sources", load.config->sources.size());
          rt.driver->apply(load.config->sources);
        }
        wait_signal();
        return;
      }
      if (stopping) {
        spdlog::warn("second stop signal: exiting without waiting for deliveries");
        rt.io.stop();
        return;
      }
      stopping = true;
      spdlog::info("signal {}: stopping polls, waiting up to {}ms for {} in-flight events", signo,
                   config->shutdown_timeout.count(), rt.publisher->in_flight());
      rt.driver->stop();
      asio::co_spawn(
          rt.io,
          [&]() -> asio::awaitable<void> {
            const auto left = co_await rt.publisher->drain(config->shutdown_timeout);
            if (left > 0) {
              spdlog::warn(
                  "{} events still in flight at shutdown; they will be fetched and sent again next start",
                  left);
            }
            rt.io.stop();
          },
          asio::detached);
      wait_signal();
    });
  };
  wait_signal();

  // Housekeeping on the loop: state expiry every 10 minutes, and in exactly-once
  // mode a stop (exit 75, for the supervisor to restart us) once a delivery
  // outcome is unknown: recovery at start settles it without duplicates.
  int exit_code = kExitOk;
  asio::steady_timer housekeeping(rt.io);
  auto last_expiry = std::chrono::steady_clock::now();
  std::function<void()> tick;
  tick = [&] {
    housekeeping.expires_after(std::chrono::seconds(1));
    housekeeping.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (rt.unresolved && !stopping) {
        spdlog::error("exactly-once: stopping so that a restart can settle unknown delivery outcomes");
        exit_code = kExitTempFail;
        std::raise(SIGTERM);
      }
      if (std::chrono::steady_clock::now() - last_expiry > std::chrono::minutes(10)) {
        last_expiry = std::chrono::steady_clock::now();
        rt.expire_state();
      }
      tick();
    });
  };
  tick();
  rt.driver->start(config->sources);
  rt.io.run();
  if (auto r = rt.driver->commit(); !r) {
    spdlog::error("state not saved at shutdown: {}", r.error().message);
    return kExitUndelivered;
  }
  spdlog::info("stopped: {} events published", rt.driver->totals().published);
  return exit_code;
}

int command_parse(const ParseOptionsCli& options) {
  setup_logging("text", "warn");
  auto format = feed::parse_format(options.format);
  if (!format) {
    std::cerr << "postwire parse: --format must be auto, rss, atom or jsonfeed\n";
    return kExitUsage;
  }
  auto id_from = feed::parse_id_from(options.id_from);
  if (!id_from) {
    std::cerr << "postwire parse: --id-from must be auto, guid or link\n";
    return kExitUsage;
  }
  if (options.timezone && !normalise::is_known_timezone(*options.timezone)) {
    std::cerr << "postwire parse: --timezone: unknown IANA time zone '" << *options.timezone << "'\n";
    return kExitUsage;
  }
  std::optional<std::string> language;
  if (options.language) {
    language = normalise::normalise_language_tag(*options.language);
    if (!language) {
      std::cerr << "postwire parse: --language: '" << *options.language << "' is not a language tag\n";
      return kExitUsage;
    }
  }
  UnixMillis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (options.now) {
    const normalise::ParsedDate parsed = normalise::parse_date(*options.now);
    if (!parsed.value || !parsed.flags.empty()) {
      std::cerr << "postwire parse: --now must be an RFC 3339 time with a zone, e.g. 2026-11-28T10:52:52Z\n";
      return kExitUsage;
    }
    now = *parsed.value * 1000;
  }
  std::string body;
  std::string base = options.base_url.value_or("");
  constexpr std::size_t kMax = std::size_t{64} * 1024 * 1024;
  if (options.file == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    if (base.empty()) base = "file:///dev/stdin";
  } else {
    const auto abs = std::filesystem::absolute(options.file);
    auto doc = read_file_url("file://" + abs.string(), kMax);
    if (!doc) {
      std::cerr << "postwire parse: " << doc.error().message << "\n";
      return kExitNoInput;
    }
    body = std::move(doc->body);
    if (base.empty()) base = "file://" + abs.string();
  }
  feed::ParseOptions parse_options;
  parse_options.format = *format;
  parse_options.base_url = base;
  parse_options.content_type = options.content_type;
  parse_options.timezone = options.timezone;
  parse_options.language = language;
  parse_options.now = now / 1000;
  parse_options.id_from = *id_from;
  auto parsed = feed::parse_feed(body, parse_options);
  if (!parsed) {
    std::cerr << "postwire parse: " << options.file << ": " << parsed.error().message << "\n";
    return kExitDataErr;
  }
  for (const auto& warning : parsed->warnings) std::cerr << "postwire parse: warning: " << warning << "\n";
  std::string line;
  JsonWriter w(line);
  w.begin_object();
  w.key("feed");
  feed::write_feed_summary(w, *parsed);
  w.end_object();
  std::cout << line << "\n";
  for (const auto& entry : parsed->entries) {
    std::cout << to_json(feed::entry_event(options.source_id, base, *parsed, entry, now)) << "\n";
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace postwire
