#include "postwire/daemon/state_command.hpp"

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>

#include "postwire/connectors/connector.hpp"
#include "postwire/daemon/commands.hpp"
#include "postwire/daemon/config.hpp"
#include "postwire/daemon/dedupe_store.hpp"
#include "postwire/schema/time.hpp"

namespace postwire {
namespace {

constexpr const char* kStateUsage =
    "usage: postwire state inspect|export|reset --config FILE [--source ID] [--yes] [--set "
    "dotted.key=value]\n"
    "  inspect   summary: format, file size, items, per-source counts (safe while the daemon runs)\n"
    "  export    every remembered item as one JSON object per line (safe while the daemon runs)\n"
    "  reset     delete all state, or one source's with --source; needs --yes; the daemon must be stopped\n";

constexpr int kApplicationId = 0x50575354;

struct StateArgs {
  std::string action;
  std::filesystem::path config;
  std::vector<std::string> overrides;
  std::optional<std::string> source;
  bool yes = false;
};

// A read-only connection that does not need the lock: inspect and export work
// next to a running daemon (SQLite's WAL lets readers see the last commit).
class ReadOnlyDb {
 public:
  ~ReadOnlyDb() {
    if (db_ != nullptr) sqlite3_close(db_);
  }
  // Returns an error message, or empty on success.
  std::string open(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      return "cannot open " + path.string() + ": " + sqlite3_errmsg(db_);
    }
    sqlite3_busy_timeout(db_, 5000);
    const auto app = integer("PRAGMA application_id");
    const auto version = integer("PRAGMA user_version");
    if (!app || !version) {
      return path.string() + " is not a postwire state store (unreadable or damaged: " + sqlite3_errmsg(db_) +
             ")";
    }
    if (*app != kApplicationId) return path.string() + " is an SQLite file but not a postwire state store";
    if (*version < 1 || *version > DedupeStore::kFormatVersion) {
      return path.string() + " has state format " + std::to_string(*version) +
             ", which this postwire (format " + std::to_string(DedupeStore::kFormatVersion) + ") cannot read";
    }
    version_ = static_cast<int>(*version);
    return {};
  }
  int version() const { return version_; }
  sqlite3* handle() const { return db_; }
  std::optional<std::int64_t> integer(const char* sql) const {
    sqlite3_stmt* st = nullptr;
    std::optional<std::int64_t> v;
    if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      v = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return v;
  }

 private:
  sqlite3* db_ = nullptr;
  int version_ = 0;
};

std::string text_column(sqlite3_stmt* st, int c) {
  const auto* p = sqlite3_column_text(st, c);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
}

std::uintmax_t size_of(const std::filesystem::path& p) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(p, ec);
  return ec ? 0 : n;
}

std::string when(std::int64_t t) { return t > 0 ? format_rfc3339(t) : std::string("-"); }

struct SourceSummary {
  std::int64_t items = 0;
  std::int64_t first_seen = 0;
  std::int64_t oldest_seen = 0;
  std::int64_t newest_seen = 0;
  std::int64_t window = 0;
  std::optional<std::string> etag;
  std::optional<std::string> last_modified;
};

int inspect(const Config& config, const StateArgs& args, std::ostream& out, std::ostream& err) {
  const auto path = config.state_dir / "state.db";
  out << "state store: " << path.string() << "\n";
  const auto holder = DedupeStore::locked_by(config.state_dir);
  out << "in use: "
      << (holder
              ? "yes, by a running postwire" + (*holder > 0 ? " (pid " + std::to_string(*holder) + ")" : "")
              : std::string("no"))
      << "\n";
  if (!std::filesystem::exists(path)) {
    out << "no state yet (postwire has not run with this state_dir)\n";
    return kExitOk;
  }
  ReadOnlyDb db;
  if (auto e = db.open(path); !e.empty()) {
    err << "postwire state: " << e << "\n";
    return kExitDataErr;
  }
  const bool v1 = db.version() == 1;
  out << "format: " << db.version()
      << (db.version() < DedupeStore::kFormatVersion
              ? " (migrated to " + std::to_string(DedupeStore::kFormatVersion) +
                    " when postwire next opens it)"
              : std::string(" (current)"))
      << "\n";
  out << "file size: " << size_of(path) << " bytes (+ " << size_of(path.string() + "-wal") << " bytes WAL)\n";

  std::map<std::string, SourceSummary> sources;
  sqlite3_stmt* st = nullptr;
  const char* per_source = v1 ? "SELECT source_id, count(*), min(first_seen), min(last_seen), max(last_seen) "
                                "FROM items GROUP BY source_id"
                              : "SELECT s.source_id, g.n, g.f, g.o, g.l FROM (SELECT source_num, count(*) AS "
                                "n, min(first_seen) AS f,"
                                " min(last_seen) AS o, max(last_seen) AS l FROM items GROUP BY source_num) g"
                                " LEFT JOIN sources s USING (source_num)";
  std::int64_t total = 0;
  int rc = sqlite3_prepare_v2(db.handle(), per_source, -1, &st, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      auto& s = sources[text_column(st, 0)];
      s.items = sqlite3_column_int64(st, 1);
      s.first_seen = sqlite3_column_int64(st, 2);
      s.oldest_seen = sqlite3_column_int64(st, 3);
      s.newest_seen = sqlite3_column_int64(st, 4);
      total += s.items;
    }
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    err << "postwire state: reading " << path.string() << " failed: " << sqlite3_errmsg(db.handle()) << "\n";
    return kExitDataErr;
  }
  const char* source_rows =
      v1 ? "SELECT source_id, etag, last_modified, 0 FROM sources"
         : "SELECT source_id, etag, last_modified, length(window_keys) / 8 FROM sources";
  if (sqlite3_prepare_v2(db.handle(), source_rows, -1, &st, nullptr) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW) {
      auto& s = sources[text_column(st, 0)];
      if (sqlite3_column_type(st, 1) != SQLITE_NULL) s.etag = text_column(st, 1);
      if (sqlite3_column_type(st, 2) != SQLITE_NULL) s.last_modified = text_column(st, 2);
      s.window = sqlite3_column_int64(st, 3);
    }
  }
  sqlite3_finalize(st);

  out << "items: " << total << "\n";
  if (!v1) {
    out << "url index: " << db.integer("SELECT count(*) FROM urls").value_or(0) << " entries\n";
    out << "simhash index: " << db.integer("SELECT count(*) FROM simhashes").value_or(0) << " entries\n";
    out << "outbox: " << db.integer("SELECT count(*) FROM outbox").value_or(0) << " events not yet settled\n";
    out << "watermarks: " << db.integer("SELECT count(*) FROM watermarks").value_or(0)
        << " topic-partitions\n";
  }
  out << "limits: ttl " << config.state.ttl.count() << "s, max_items " << config.state.max_items << "\n";
  out << "sources: " << sources.size() << "\n";
  for (const auto& [id, s] : sources) {
    if (args.source && *args.source != id) continue;
    out << "  " << (id.empty() ? "(unknown)" : id) << ": items=" << s.items << " window=" << s.window
        << " first_seen=" << when(s.first_seen) << " oldest_last_seen=" << when(s.oldest_seen)
        << " newest_last_seen=" << when(s.newest_seen);
    if (s.etag) out << " etag=" << *s.etag;
    if (s.last_modified) out << " last_modified=\"" << *s.last_modified << "\"";
    out << "\n";
  }
  if (args.source && sources.find(*args.source) == sources.end())
    out << "  " << *args.source << ": no state\n";
  return kExitOk;
}

int export_items(const Config& config, const StateArgs& args, std::ostream& out, std::ostream& err) {
  const auto path = config.state_dir / "state.db";
  if (!std::filesystem::exists(path)) return kExitOk;
  ReadOnlyDb db;
  if (auto e = db.open(path); !e.empty()) {
    err << "postwire state: " << e << "\n";
    return kExitDataErr;
  }
  std::string sql =
      db.version() == 1
          ? "SELECT item_id, source_id, content_hash, version, first_seen, last_seen FROM items"
          : "SELECT i.item_id, s.source_id, i.content_hash, i.version, i.first_seen, i.last_seen"
            " FROM items i LEFT JOIN sources s USING (source_num)";
  if (args.source) sql += db.version() == 1 ? " WHERE source_id = ?1" : " WHERE s.source_id = ?1";
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    err << "postwire state: reading " << path.string() << " failed: " << sqlite3_errmsg(db.handle()) << "\n";
    return kExitDataErr;
  }
  if (args.source) sqlite3_bind_text(st, 1, args.source->c_str(), -1, SQLITE_TRANSIENT);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    nlohmann::ordered_json j;
    j["item_id"] = text_column(st, 0);
    j["source_id"] = text_column(st, 1);
    j["content_hash"] = text_column(st, 2);
    j["version"] = sqlite3_column_int64(st, 3);
    j["first_seen"] = format_rfc3339(sqlite3_column_int64(st, 4));
    j["last_seen"] = format_rfc3339(sqlite3_column_int64(st, 5));
    out << j.dump() << "\n";
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    err << "postwire state: reading " << path.string() << " failed: " << sqlite3_errmsg(db.handle()) << "\n";
    return kExitDataErr;
  }
  return kExitOk;
}

int reset(const Config& config, const StateArgs& args, std::ostream& out, std::ostream& err) {
  const auto path = config.state_dir / "state.db";
  const std::string what = args.source ? "the state of source " + *args.source : "all state";
  if (!args.yes) {
    err << "postwire state reset: this deletes " << what << " in " << path.string()
        << "; everything forgotten is published again. Add --yes to confirm.\n";
    return kExitUsage;
  }
  if (auto holder = DedupeStore::locked_by(config.state_dir)) {
    err << "postwire state reset: " << config.state_dir.string() << " is in use by a running postwire"
        << (*holder > 0 ? " (pid " + std::to_string(*holder) + ")" : "") << "; stop it first\n";
    return kExitStateLocked;
  }
  if (!std::filesystem::exists(path)) {
    out << "reset: no state in " << config.state_dir.string() << ", nothing to delete\n";
    return kExitOk;
  }
  auto store = DedupeStore::open(config.state_dir, make_store_options(config));
  if (!store) {
    err << "postwire state reset: " << store.error().message << "\n";
    const bool locked = store.error().message.find("in use by another postwire") != std::string::npos;
    return locked ? kExitStateLocked : kExitDataErr;
  }
  auto removed = args.source ? (*store)->reset_source(*args.source) : (*store)->reset_all();
  if (!removed) {
    err << "postwire state reset: " << removed.error().message << "\n";
    return kExitUndelivered;
  }
  out << "reset: deleted " << what << " (" << *removed << " item" << (*removed == 1 ? "" : "s") << ")\n";
  return kExitOk;
}

}  // namespace

int command_state(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  StateArgs args;
  auto usage = [&](const std::string& message) {
    err << "postwire state: " << message << "\n" << kStateUsage;
    return kExitUsage;
  };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const auto& a = argv[i];
    auto value = [&](std::string& v) {
      if (i + 1 >= argv.size()) return false;
      v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--help" || a == "-h") {
      out << kStateUsage;
      return kExitOk;
    } else if (a == "--config" || a == "-c") {
      if (!value(v)) return usage("--config needs a file");
      args.config = v;
    } else if (a == "--set") {
      if (!value(v)) return usage("--set needs dotted.key=value");
      args.overrides.push_back(v);
    } else if (a == "--source") {
      if (!value(v)) return usage("--source needs a source id");
      args.source = v;
    } else if (a == "--yes" || a == "-y") {
      args.yes = true;
    } else if (a == "--log-level" || a == "--log-format") {
      if (!value(v)) return usage(a + " needs a value");  // accepted for symmetry; state commands do not log
    } else if (!a.empty() && a[0] == '-') {
      return usage("unknown option " + a);
    } else if (args.action.empty()) {
      args.action = a;
    } else {
      return usage("unexpected argument " + a);
    }
  }
  if (args.action.empty()) return usage("missing action (inspect, export or reset)");
  if (args.action != "inspect" && args.action != "export" && args.action != "reset") {
    return usage("unknown action " + args.action);
  }
  if (args.config.empty()) return usage(args.action + " needs --config FILE");

  ConnectorRegistry registry;
  register_builtin_connectors(registry);
  auto load = load_config(args.config, args.overrides, registry);
  if (!load.ok()) {
    for (const auto& e : load.errors) err << e.to_string() << "\n";
    err << args.config.string() << ": invalid configuration\n";
    return kExitConfig;
  }
  const Config& config = *load.config;
  if (args.action == "inspect") return inspect(config, args, out, err);
  if (args.action == "export") return export_items(config, args, out, err);
  return reset(config, args, out, err);
}

}  // namespace postwire
