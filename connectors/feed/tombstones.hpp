// Atom tombstones (RFC 6721): <at:deleted-entry ref="..." when="..."/> is how a
// feed says an entry was removed. The feed parser does not need them for the
// entries themselves, so they are read in a separate streaming pass, and only
// when the document mentions them at all.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postwire/schema/event.hpp"

namespace postwire::feed {

struct Tombstone {
  std::string ref;  // the atom:id of the deleted entry
  std::optional<UnixSeconds> when;
};

// Same safety rules as the feed parser: no network, no DTD loading, no entity
// substitution. Returns nothing for documents without tombstones or that do not parse.
std::vector<Tombstone> find_tombstones(std::string_view body);

}  // namespace postwire::feed
