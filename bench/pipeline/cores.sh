#!/usr/bin/env bash
# How many cores one `postwire once` epoch of the pipeline benchmark keeps busy,
# per thread, in 50 ms slices (bench/pipeline/cores.py: /proc samples, no
# profiler, so no slow-down). For finding the stretches where a core idles: the
# start-up, the tail after the last poll, the close.
#
#   bench/pipeline/cores.sh [EPOCH] [RUNS]     (defaults 2 2; the bench's corpus: 100 sites, 6 comments)
#
# Each run starts from a copy of the state the epochs before EPOCH left; the runs
# follow one another, so later ones find the memory the previous one freed
# still warm, as the bench's epochs do (bench/RESULTS.md, pipeline, 2026-12-04).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source bench/pipeline/common.sh

make_work cores
one_run() {
  echo "run $1:"
  python3 bench/pipeline/cores.py "$POSTWIRE" once --config "$work/epoch-${EPOCH}.yaml" --log-level warn
}
EPOCH="${1:-2}"
each_epoch_run "$work" "$EPOCH" "${2:-2}" 100 6 one_run
