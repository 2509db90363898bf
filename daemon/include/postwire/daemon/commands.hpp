// The `postwire` subcommands. main.cpp only parses arguments and calls these.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace postwire {

// sysexits-style codes where they fit.
constexpr int kExitOk = 0;
constexpr int kExitUndelivered = 1;   // an event could not be delivered (once), or a fatal runtime error
constexpr int kExitSourceFailed = 2;  // once: a source failed, everything else was delivered
constexpr int kExitUsage = 64;
constexpr int kExitDataErr = 65;  // parse: the document cannot be read as a feed
constexpr int kExitNoInput = 66;
constexpr int kExitTempFail = 75;  // run, exactly-once: stopped to recover unknown delivery outcomes
constexpr int kExitConfig = 78;

struct CommonOptions {
  std::filesystem::path config;
  std::vector<std::string> overrides;  // --set dotted.key=value
  std::optional<std::string> log_format;
  std::optional<std::string> log_level;
  bool print_events = false;  // run/once: print each acknowledged event
};

int command_run(const CommonOptions& options);
int command_once(const CommonOptions& options);
int command_check(const CommonOptions& options);

struct ParseOptionsCli {
  std::string format = "auto";
  std::optional<std::string> base_url;
  std::string source_id = "local";
  std::string file;                         // "-" for stdin
  std::optional<std::string> timezone;      // IANA zone for dates without one (a source's `timezone:`)
  std::optional<std::string> language;      // the source's language, when the document omits it (`language:`)
  std::optional<std::string> now;           // RFC 3339: fetched_at and the reference for relative dates
  std::optional<std::string> content_type;  // as if served with this Content-Type (its charset counts)
  std::string id_from = "auto";             // the feed connector's `id_from`
};
int command_parse(const ParseOptionsCli& options);

std::string version_string();

}  // namespace postwire
