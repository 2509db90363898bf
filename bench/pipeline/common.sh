# Shared by run.sh, timeline.sh and instructions.sh (sourced, from the repository root).
# Expects BUILD_DIR (default build) and SHARED_DIR (default ../shared) in the environment.
BUILD_DIR="${BUILD_DIR:-build}"
POSTWIRE="$BUILD_DIR/daemon/postwire"
MOCK="$BUILD_DIR/tests/postwire-mock-kafka"
SHARED="${SHARED_DIR:-$(cd .. && pwd)/shared}"
[ -x "$POSTWIRE" ] && [ -x "$MOCK" ] || { echo "build first: ./scripts/build" >&2; exit 1; }

# make_work NAME: a fresh work directory in $work, removed at exit together with
# the broker in $mock_pid, if one was started in this shell. (Not
# `kill ${mock_pid:-0}`: with the broker started in a subshell that is kill 0,
# which signalled the script's whole process group and left $work behind.)
make_work() {
  work="$(mktemp -d "/tmp/postwire-$1.XXXXXX")"
  trap '[ -z "${mock_pid:-}" ] || kill "$mock_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
}

# warm_corpus CORPUS: reads every file of CORPUS once. This VM hands the page
# cache back to its host within seconds to minutes (a file read 80 s ago reads 5x
# slower than one read just now), so the corpus is read right before each timed
# run, of either implementation: both then read it from memory, as they would on
# a machine that keeps its cache, and the figures measure the programs rather
# than the disk.
warm_corpus() { find "$1" -type f -exec cat {} + > /dev/null; }

# write_epoch_config CORPUS EPOCH BOOTSTRAP STATE_DIR: the `postwire once`
# configuration for one epoch of a gen_corpus.py corpus, on standard output.
write_epoch_config() {
  local corpus="$1" epoch="$2" bootstrap="$3" state="$4" d f
  echo "state_dir: $state"
  echo "kafka: {bootstrap_servers: \"$bootstrap\", delivery_timeout: 5m}"
  echo "sources:"
  for d in "$corpus/epoch-$epoch"/site-*; do
    f=$(ls "$d" | grep -E '^feed\.(xml|json)$')
    echo "  - {id: $(basename "$d"), type: feed, url: \"file://$d/$f\", max_comment_feeds: 1000}"
  done
}

# run_up_to_epoch WORK EPOCH SITES COMMENTS: a corpus of EPOCH epochs in WORK, a
# broker (its pid in mock_pid: make_work's EXIT trap stops it), and epochs 1 to
# EPOCH-1 run unmeasured, so that WORK/epoch-EPOCH.yaml starts from the state
# they leave. For the scripts that look at one epoch (timeline, instructions).
run_up_to_epoch() {
  local work="$1" last="$2" sites="$3" comments="$4" epoch bootstrap
  python3 "$SHARED/bench/gen_corpus.py" --out "$work/corpus" --sites "$sites" --window 20 --epochs "$last" \
    --comments "$comments" --comment-links relative > /dev/null
  coproc MOCKP { "$MOCK" --brokers 1 --partitions 3 --topics "postwire.posts,postwire.comments,postwire.deadletter"; }
  mock_pid=$MOCKP_PID
  read -r bootstrap <&"${MOCKP[0]}"
  for epoch in $(seq 1 "$last"); do
    write_epoch_config "$work/corpus" "$epoch" "$bootstrap" "$work/state" > "$work/epoch-$epoch.yaml"
    if (( epoch < last )); then
      "$POSTWIRE" once --config "$work/epoch-$epoch.yaml" --log-level warn > /dev/null
    fi
  done
}

# each_epoch_run WORK EPOCH RUNS SITES COMMENTS COMMAND...: run_up_to_epoch, then
# RUNS times `COMMAND... RUN` (RUN = 1, 2, ...), each from a fresh copy of the
# state the epochs before EPOCH left and with that epoch's corpus warm. For the
# scripts that look at one epoch several times (phases, cores).
each_epoch_run() {
  local work="$1" epoch="$2" runs="$3" sites="$4" comments="$5" run
  shift 5
  run_up_to_epoch "$work" "$epoch" "$sites" "$comments"
  mv "$work/state" "$work/state-before"
  for run in $(seq 1 "$runs"); do
    rm -rf "$work/state"
    cp -r "$work/state-before" "$work/state"
    warm_corpus "$work/corpus/epoch-$epoch"
    "$@" "$run"
  done
}
