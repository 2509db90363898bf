#!/usr/bin/env bash
# Where one `postwire once` epoch of the pipeline benchmark spends its time, per
# thread, in 25 ms slices: the event loop (M), the compute pool (P) and
# librdkafka's broker thread (B), each with its main activities. For finding what
# runs alone while the other core idles; not a throughput figure (perf slows the
# run down about twofold).
#
#   bench/pipeline/timeline.sh [EPOCH] [SITES] [COMMENTS]     (defaults 2 100 6)
#
# TIMELINE_ARGS in the environment is added to the `postwire once` command line,
# e.g. TIMELINE_ARGS="--set state.commit_interval=50ms".
#
# Needs perf (linux-perf). Epochs before EPOCH run first, unprofiled, to build the
# state that epoch starts from.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
EPOCH="${1:-2}"
SITES="${2:-100}"
COMMENTS="${3:-6}"
source bench/pipeline/common.sh
command -v perf >/dev/null || { echo "timeline needs perf (apt-get install linux-perf)" >&2; exit 1; }

make_work timeline
run_up_to_epoch "$work" "$EPOCH" "$SITES" "$COMMENTS"
perf record -q -F 10000 --call-graph=dwarf,16384 -o "$work/perf.data" -- \
  "$POSTWIRE" once --config "$work/epoch-$EPOCH.yaml" --log-level warn ${TIMELINE_ARGS:-} > /dev/null
perf script -i "$work/perf.data" -F comm,tid,time,ip,sym 2>/dev/null | python3 bench/pipeline/timeline.py
