// postwire: polls web sources for posts and comments and publishes them to Kafka.
#include <malloc.h>
#include <pthread.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "postwire/daemon/commands.hpp"
#include "postwire/daemon/state_command.hpp"

#ifdef POSTWIRE_WITH_MIMALLOC
#include <mimalloc.h>
#endif

namespace {

constexpr const char* kUsage = R"(usage:
  postwire run   --config FILE [--print-events] [COMMON]   run the daemon until SIGTERM/SIGINT (SIGHUP reloads)
  postwire once  --config FILE [--print-events] [COMMON]   poll every source once, publish, print a summary
  postwire check --config FILE [COMMON]                    validate the configuration (exit 78 if invalid)
  postwire parse [--format auto|rss|atom|jsonfeed] [--base-url URL] [--source-id ID] [--timezone ZONE]
                 [--language TAG] [--now RFC3339] [--content-type VALUE] [--id-from auto|guid|link] FILE
                                                           print the events one document yields
  postwire state inspect|export|reset --config FILE [--source ID] [--yes]
                                                           inspect, export or reset the state store
  postwire version
COMMON: --set dotted.key=value (repeatable)  --log-format text|json  --log-level trace|debug|info|warn|error
)";

// Runs a command that polls on a thread of its own, started after main() set
// mimalloc's options. mimalloc gives every thread segments of its own, and the
// main thread's first segment was created by the shared libraries' static
// initialisers, before those options could apply. Left on it, the event loop's
// memory came in 4 KiB pages: 7,000 of a pipeline epoch's 8,000 page faults
// (bench/RESULTS.md, "pipeline", 2026-12-04 later).
template <class Command>
int on_fresh_thread(Command&& command) {
#ifdef POSTWIRE_WITH_MIMALLOC
  int rc = 0;
  std::thread thread([&] {
    pthread_setname_np(pthread_self(), "pw-loop");  // for top -H, perf, bench/pipeline/cores.sh
    rc = command();
  });
  thread.join();
  return rc;
#else
  return command();
#endif
}

int usage_error(const std::string& message) {
  std::cerr << "postwire: " << message << "\n" << kUsage;
  return postwire::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
#ifdef POSTWIRE_WITH_MIMALLOC
  // Every poll's documents and events are fresh memory (about 100 MB in a large
  // `once`), and on 4 KiB pages the kernel's page faults were a large share of the
  // pipeline's CPU time. So mimalloc commits each thread's segments at once
  // (eager_commit_delay 0) and asks for transparent huge pages for them (madvise):
  // a third of the page faults, 28 % less CPU, 20 % more RSS (bench/RESULTS.md,
  // "pipeline"). Setting MIMALLOC_LARGE_OS_PAGES in the environment (0 or 1)
  // leaves both to mimalloc's own options.
  if (std::getenv("MIMALLOC_LARGE_OS_PAGES") == nullptr) {
    mi_option_set(mi_option_eager_commit_delay, 0);
    mi_option_enable(mi_option_large_os_pages);
  }
#else
  // Built without mimalloc (sanitizers, POSTWIRE_MIMALLOC=OFF): each poll allocates
  // and frees whole documents, and glibc would hand the freed top of the heap back
  // to the kernel after every document and take it again for the next (measured
  // at ~15% of parse time). Keep up to 64 MiB.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage_error("missing command");
  const std::string command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "version" || command == "--version") {
    std::cout << postwire::version_string() << "\n";
    return 0;
  }

  if (command == "parse") {
    postwire::ParseOptionsCli options;
    for (std::size_t i = 1; i < args.size(); ++i) {
      const auto& a = args[i];
      auto value = [&](std::string& out) {
        if (i + 1 >= args.size()) return false;
        out = args[++i];
        return true;
      };
      if (a == "--format") {
        if (!value(options.format)) return usage_error("--format needs a value");
      } else if (a == "--base-url") {
        std::string v;
        if (!value(v)) return usage_error("--base-url needs a value");
        options.base_url = v;
      } else if (a == "--source-id") {
        if (!value(options.source_id)) return usage_error("--source-id needs a value");
      } else if (a == "--timezone") {
        std::string v;
        if (!value(v)) return usage_error("--timezone needs an IANA zone name");
        options.timezone = v;
      } else if (a == "--language") {
        std::string v;
        if (!value(v)) return usage_error("--language needs a BCP 47 language tag");
        options.language = v;
      } else if (a == "--now") {
        std::string v;
        if (!value(v)) return usage_error("--now needs an RFC 3339 time");
        options.now = v;
      } else if (a == "--content-type") {
        std::string v;
        if (!value(v)) return usage_error("--content-type needs a value");
        options.content_type = v;
      } else if (a == "--id-from") {
        if (!value(options.id_from)) return usage_error("--id-from needs auto, guid or link");
      } else if (!a.empty() && a[0] == '-' && a != "-") {
        return usage_error("unknown option " + a);
      } else if (options.file.empty()) {
        options.file = a;
      } else {
        return usage_error("parse takes one FILE");
      }
    }
    if (options.file.empty()) return usage_error("parse needs a FILE (or - for standard input)");
    return postwire::command_parse(options);
  }

  if (command == "state") {
    return postwire::command_state(std::vector<std::string>(args.begin() + 1, args.end()), std::cout,
                                   std::cerr);
  }

  if (command != "run" && command != "once" && command != "check")
    return usage_error("unknown command " + command);
  postwire::CommonOptions options;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const auto& a = args[i];
    auto next = [&](const char* what) -> const std::string* {
      if (i + 1 >= args.size()) return nullptr;
      (void)what;
      return &args[++i];
    };
    if (a == "--config" || a == "-c") {
      const auto* v = next("--config");
      if (v == nullptr) return usage_error("--config needs a file");
      options.config = *v;
    } else if (a == "--set") {
      const auto* v = next("--set");
      if (v == nullptr) return usage_error("--set needs dotted.key=value");
      options.overrides.push_back(*v);
    } else if (a == "--log-format") {
      const auto* v = next("--log-format");
      if (v == nullptr || (*v != "text" && *v != "json"))
        return usage_error("--log-format must be text or json");
      options.log_format = *v;
    } else if (a == "--log-level") {
      const auto* v = next("--log-level");
      if (v == nullptr) return usage_error("--log-level needs a level");
      options.log_level = *v;
    } else if (a == "--print-events" && command != "check") {
      options.print_events = true;
    } else {
      return usage_error("unknown option " + a);
    }
  }
  if (options.config.empty()) return usage_error(command + " needs --config FILE");
  if (command == "run") return on_fresh_thread([&] { return postwire::command_run(options); });
  if (command == "once") return on_fresh_thread([&] { return postwire::command_once(options); });
  return postwire::command_check(options);
}
