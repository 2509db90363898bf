#!/usr/bin/env bash
# Where one `postwire once` epoch of the pipeline benchmark spends its wall-clock
# time, from the daemon's own debug log lines (no profiler, so no slow-down):
# state loaded, first and last poll finished, every source polled, deliveries
# settled, state committed, process exit; milliseconds from the start of the
# process, one line per run.
#
#   bench/pipeline/phases.sh [EPOCH] [RUNS] [SITES] [COMMENTS]     (defaults 2 3 100 6)
#
# Each run starts from a copy of the state the epochs before EPOCH left, made
# before the clock starts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
EPOCH="${1:-2}"
RUNS="${2:-3}"
SITES="${3:-100}"
COMMENTS="${4:-6}"
source bench/pipeline/common.sh

make_work phases
one_run() {
  local run="$1" t0 t1
  t0=$(date +%s.%N)
  "$POSTWIRE" once --config "$work/epoch-$EPOCH.yaml" --log-level debug > "$work/log" 2>&1
  t1=$(date +%s.%N)
  python3 - "$t0" "$t1" "$work/log" "$run" <<'PY'
import datetime, re, sys
t0, t1, log, run = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
marks, polls = {}, []
for line in open(log):
    m = re.match(r"(\S+Z) \w+ (.*)", line)
    if not m:
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ")
    at = (t.replace(tzinfo=datetime.timezone.utc).timestamp() - t0) * 1000
    text = m.group(2)
    if "remembered items" in text:
        marks["loaded"] = at
    elif " poll: " in text:
        polls.append(at)
    for key, label in (("every source polled", "polled"), ("deliveries settled", "settled"),
                       ("state committed", "committed")):
        if key in text:
            marks[label] = at
if polls:
    marks["first poll"], marks["last poll"] = min(polls), max(polls)
marks["exit"] = (t1 - t0) * 1000
order = ["loaded", "first poll", "last poll", "polled", "settled", "committed", "exit"]
print(f"run {run}: " + "  ".join(f"{k} {marks[k]:.0f}" for k in order if k in marks))
PY
}
each_epoch_run "$work" "$EPOCH" "$RUNS" "$SITES" "$COMMENTS" one_run
