#include "postwire/daemon/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>

#include "postwire/schema/json_writer.hpp"
#include "postwire/schema/time.hpp"

namespace postwire {
namespace {

// Log lines name their subjects as key=value tokens ("source=x ... reason=parse");
// in JSON those become fields, so a log pipeline can filter on them.
void write_fields(JsonWriter& w, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const bool token_start = i == 0 || text[i - 1] == ' ';
    std::size_t k = i;
    while (k < text.size() && ((text[k] >= 'a' && text[k] <= 'z') || text[k] == '_')) ++k;
    if (token_start && k > i && k < text.size() && text[k] == '=') {
      const std::string_view key = text.substr(i, k - i);
      std::size_t end = text.find(' ', k + 1);
      if (end == std::string_view::npos) end = text.size();
      if (key != "time" && key != "level" && key != "msg" && end > k + 1) {
        w.key(key);
        w.value(text.substr(k + 1, end - k - 1));
      }
      i = end;
      continue;
    }
    ++i;
  }
}

class JsonStderrSink final : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line;
    JsonWriter w(line);
    w.begin_object();
    w.key("time");
    w.value(format_rfc3339_millis(
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count()));
    w.key("level");
    const auto level = spdlog::level::to_string_view(msg.level);
    w.value(std::string_view(level.data(), level.size()));
    w.key("msg");
    w.value(std::string_view(msg.payload.data(), msg.payload.size()));
    write_fields(w, std::string_view(msg.payload.data(), msg.payload.size()));
    w.end_object();
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

bool setup_logging(const std::string& format, const std::string& level) {
  spdlog::sink_ptr sink;
  if (format == "json") {
    sink = std::make_shared<JsonStderrSink>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v");
  }
  auto logger = std::make_shared<spdlog::logger>("postwire", sink);
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  if (format == "json") sink->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  spdlog::set_level(parsed);
  spdlog::flush_on(spdlog::level::info);
  return true;
}

}  // namespace postwire
