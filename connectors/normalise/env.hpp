// Switches read from the environment once, for verification modes such as
// POSTWIRE_HTML_FASTPATH_CHECK (tests and corpus runs, not production).
#pragma once

namespace postwire::normalise {

// True when the variable is set to anything but "" or "0".
bool env_flag(const char* name);

}  // namespace postwire::normalise
