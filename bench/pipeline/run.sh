#!/usr/bin/env bash
# Whole-pipeline throughput: postwire vs the Python script a user would write
# instead (shared/bench/py_baseline.py: feedparser + confluent-kafka), on the same
# generated corpus and the same local Kafka-protocol broker, side by side in one run.
#
#   bench/pipeline/run.sh [ROUNDS] [SITES] [COMMENTS]     (defaults 3 100 6)
#
# Each round runs both, alternating which goes first; every run starts from empty
# state and fresh topics. Prints one line per run and the medians, in events/s
# (events acknowledged by the broker per wall-clock second, fetch to ack).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROUNDS="${1:-3}"
SITES="${2:-100}"
COMMENTS="${3:-6}"
source bench/pipeline/common.sh
for pkg in python3-feedparser python3-confluent-kafka; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || {
    echo "bench needs $pkg (apt-get install $pkg)" >&2; exit 1; }
done

make_work bench
python3 "$SHARED/bench/gen_corpus.py" --out "$work/corpus" --sites "$SITES" --window 20 --epochs 3 \
  --comments "$COMMENTS" --comment-links relative > "$work/truth.line"
corpus_bytes=$(du -sb "$work/corpus" | cut -f1)
echo "corpus: $(cat "$work/truth.line") bytes=$corpus_bytes"

start_broker() {
  coproc MOCKP { "$MOCK" --brokers 1 --partitions 3 \
    --topics "postwire.posts,postwire.comments,postwire.deadletter,$1.posts,$1.comments"; }
  mock_pid=$MOCKP_PID
  read -r bootstrap <&"${MOCKP[0]}"
}
stop_broker() { kill "$mock_pid" 2>/dev/null || true; wait "$mock_pid" 2>/dev/null || true; }


run_baseline() {
  start_broker baseline
  warm_corpus "$work/corpus"
  /usr/bin/python3 "$SHARED/bench/py_baseline.py" --corpus "$work/corpus" --bootstrap "$bootstrap" > "$work/base.json"
  stop_broker
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["delivered"], d["seconds"])' "$work/base.json"
}

run_postwire() {
  start_broker bench
  rm -rf "$work/state"
  local total=0 t0 t1
  # The three configurations are written before the clock starts (the baseline,
  # too, starts its clock after its own set-up).
  for epoch in 1 2 3; do
    write_epoch_config "$work/corpus" "$epoch" "$bootstrap" "$work/state" > "$work/postwire-$epoch.yaml"
  done
  local outs=()
  warm_corpus "$work/corpus"
  t0=$(date +%s.%N)
  for epoch in 1 2 3; do
    outs+=("$("$POSTWIRE" once --config "$work/postwire-$epoch.yaml" --log-level warn)")
  done
  t1=$(date +%s.%N)
  for out in "${outs[@]}"; do
    [[ "$out" =~ \"published\":([0-9]+) ]] || { echo "no summary from postwire once: $out" >&2; exit 1; }
    total=$((total + BASH_REMATCH[1]))
  done
  stop_broker
  echo "$total $(python3 -c "print(round($t1 - $t0, 3))")"
}

declare -a base_rates pw_rates
for round in $(seq 1 "$ROUNDS"); do
  if (( round % 2 )); then order="baseline postwire"; else order="postwire baseline"; fi
  for who in $order; do
    read -r events seconds < <("run_$who")
    rate=$(python3 -c "print(round($events / $seconds, 1))")
    echo "round $round $who events=$events seconds=$seconds events_per_s=$rate"
    if [ "$who" = baseline ]; then base_rates+=("$rate"); else pw_rates+=("$rate"); fi
  done
done
python3 - "${base_rates[*]}" "${pw_rates[*]}" <<'PY'
import statistics, sys
base = [float(x) for x in sys.argv[1].split()]
pw = [float(x) for x in sys.argv[2].split()]
mb, mp = statistics.median(base), statistics.median(pw)
print(f"median events/s: baseline {mb:.1f}, postwire {mp:.1f}, ratio {mp / mb:.1f}x")
PY
