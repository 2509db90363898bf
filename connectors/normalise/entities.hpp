// The complete HTML 5 table of named character references (2,231 names, generated
// from Python's html.entities.html5 by scripts/gen_entities.py).
#pragma once

#include <string_view>

namespace postwire::normalise {

struct NamedEntity {
  std::string_view name;  // without '&' and ';'
  std::string_view utf8;  // the expansion: one or two code points
  bool legacy;            // HTML 5 also recognises it without the ';' ("&amp", "&eacute")
};

// The expansion of `&name;`, or nullptr when HTML 5 has no such name.
const NamedEntity* find_html_entity(std::string_view name);

// The longest legacy name (usable without ';') that `text` starts with, or nullptr:
// "copy2007" -> "copy", "notit" -> "not".
const NamedEntity* find_legacy_prefix(std::string_view text);

}  // namespace postwire::normalise
