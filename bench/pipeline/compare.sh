#!/usr/bin/env bash
# Two (or more) postwire builds side by side on the pipeline benchmark's corpus:
# the three `postwire once` epochs from empty state, each build in turn, the order
# reversed every other round, a fresh broker per run. Prints the wall-clock time of
# each run, then each build's median; for telling builds apart on a noisy machine
# (compare within a round). The runs follow each other as the bench's epochs do:
# memory one run frees is still warm for the next, which single `once` runs with
# a copy step in between do not reproduce (bench/RESULTS.md, pipeline, 2026-12-04).
#
#   bench/pipeline/compare.sh ROUNDS POSTWIRE POSTWIRE...
#
# Each POSTWIRE is a binary, or a command that runs one, split on spaces: e.g.
#   bench/pipeline/compare.sh 6 "env MIMALLOC_LARGE_OS_PAGES=0 build/daemon/postwire" build/daemon/postwire
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROUNDS="$1"
shift
source bench/pipeline/common.sh

make_work compare
python3 "$SHARED/bench/gen_corpus.py" --out "$work/corpus" --sites 100 --window 20 --epochs 3 \
  --comments 6 --comment-links relative > /dev/null

run() {
  local -a command
  read -r -a command <<< "$1"
  local bootstrap epoch t0 t1
  coproc MOCKP { "$MOCK" --brokers 1 --partitions 3 --topics "postwire.posts,postwire.comments,postwire.deadletter"; }
  mock_pid=$MOCKP_PID
  read -r bootstrap <&"${MOCKP[0]}"
  rm -rf "$work/state"
  for epoch in 1 2 3; do
    write_epoch_config "$work/corpus" "$epoch" "$bootstrap" "$work/state" > "$work/epoch-$epoch.yaml"
  done
  warm_corpus "$work/corpus"
  t0=$(date +%s%N)
  for epoch in 1 2 3; do "${command[@]}" once --config "$work/epoch-$epoch.yaml" --log-level warn > /dev/null; done
  t1=$(date +%s%N)
  kill "$mock_pid"; wait "$mock_pid" 2>/dev/null || true
  echo "round $round $1 wall_ms=$(( (t1 - t0) / 1000000 ))"
  walls["$1"]+="$(( (t1 - t0) / 1000000 )) "
}
declare -A walls

for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then
    for b in "$@"; do run "$b"; done
  else
    for (( i = $#; i > 0; i-- )); do run "${!i}"; done
  fi
done
for b in "$@"; do
  python3 -c 'import statistics, sys; w = [int(x) for x in sys.argv[2].split()]
print(f"median {statistics.median(w):.0f} ms over {len(w)} rounds: {sys.argv[1]}")' "$b" "${walls[$b]}"
done
