// Crash points for the delivery-guarantee tests: POSTWIRE_CRASH_AT=<point>:<n>
// makes the process SIGKILL itself the n-th time it passes <point>, so a test can
// kill the daemon exactly during a fetch, a produce, an acknowledgement or a
// state commit instead of hoping a random kill lands there. Unset (production),
// a crash point costs one branch on a cached flag.
#pragma once

#include <string_view>

namespace postwire {

enum class CrashPoint { fetched, produced, acked, committing };

void crash_point(CrashPoint point);

}  // namespace postwire
