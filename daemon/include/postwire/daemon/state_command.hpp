// `postwire state inspect|export|reset`: operator commands on the state store
// (docs/state.md#operator-commands). main.cpp hands over the arguments after "state".
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace postwire {

constexpr int kExitStateLocked = 75;  // EX_TEMPFAIL: a running postwire holds the state directory

// inspect: human summary (format, file sizes, items, per-source counts) on `out`.
// export:  one JSON object per item per line on `out`.
// reset:   deletes all state, or one source's with --source; needs --yes and
//          refuses while another process holds <state_dir>/state.lock.
// Exit codes: 0 ok, 64 usage, 65 the store is unreadable/foreign/newer,
// 75 the store is in use, 78 invalid configuration, 1 other storage errors.
int command_state(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace postwire
