#include "normalise/entities.hpp"

#include <algorithm>
#include <iterator>

namespace postwire::normalise {
namespace {

constexpr NamedEntity kEntities[] = {
#include "normalise/entities_table.inc"
};

}  // namespace

const NamedEntity* find_html_entity(std::string_view name) {
  if (name.empty() || name.size() > 32) return nullptr;
  const auto* end = std::end(kEntities);
  const auto* it = std::lower_bound(std::begin(kEntities), end, name,
                                    [](const NamedEntity& e, std::string_view n) { return e.name < n; });
  return it != end && it->name == name ? it : nullptr;
}

const NamedEntity* find_legacy_prefix(std::string_view text) {
  // Legacy names are at most 6 characters long ("middot", "frac34").
  for (std::size_t n = std::min<std::size_t>(text.size(), 6); n >= 2; --n) {
    const NamedEntity* e = find_html_entity(text.substr(0, n));
    if (e != nullptr && e->legacy) return e;
  }
  return nullptr;
}

}  // namespace postwire::normalise
