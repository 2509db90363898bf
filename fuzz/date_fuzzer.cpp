// libFuzzer target: the date parser with every context it can be given. Checks the
// contract, not just crashes: a value or date_unparseable, never both.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "normalise/dates.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  static constexpr std::string_view kZones[] = {"", "America/New_York", "Europe/Berlin", "Nowhere/Invalid"};
  for (std::string_view zone : kZones) {
    postwire::normalise::DateContext ctx;
    ctx.timezone = zone;
    ctx.now = 1795000000;
    const auto parsed = postwire::normalise::parse_date(text, ctx);
    bool unparseable = false;
    for (const auto& flag : parsed.flags) unparseable = unparseable || flag == "date_unparseable";
    if (parsed.value.has_value() == unparseable) std::abort();
  }
  return 0;
}
