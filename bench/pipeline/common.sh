# Shared by run.sh and timeline.sh (sourced, from the repository root).
# Expects BUILD_DIR (default build) and SHARED_DIR (default ../shared) in the environment.
BUILD_DIR="${BUILD_DIR:-build}"
POSTWIRE="$BUILD_DIR/daemon/postwire"
MOCK="$BUILD_DIR/tests/postwire-mock-kafka"
SHARED="${SHARED_DIR:-$(cd .. && pwd)/shared}"
[ -x "$POSTWIRE" ] && [ -x "$MOCK" ] || { echo "build first: ./scripts/build" >&2; exit 1; }

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
