#!/usr/bin/env bash
# Generates the corpus (read-only generator in /work/shared/bench, output in /tmp)
# and runs parse_bench and the feedparser baseline on it, one after the other.
#
#   bench/parse/run.sh [BUILD_DIR] [RUNS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build_dir="${1:-build}"
runs="${2:-5}"
corpus=/tmp/postwire-parse-corpus-e1
gen=/work/shared/bench/gen_corpus.py
if [[ ! -d "$corpus" ]]; then
  python3 "$gen" --out "$corpus" --sites 200 --window 20 --epochs 1 --comments 8 >/dev/null
fi
cmake --build "$build_dir" -j2 --target parse_bench parse_bench_glibc >/dev/null
echo "corpus: $(find "$corpus" -name '*.xml' -o -name '*.json' | wc -l) documents, $(du -sh "$corpus" | cut -f1)"
# With the daemon's allocator (mimalloc, docs/dependencies.md) and the options
# daemon/main.cpp sets for it (huge pages, segments committed at once).
export MIMALLOC_LARGE_OS_PAGES=1 MIMALLOC_EAGER_COMMIT_DELAY=0
"$build_dir/bench/parse/parse_bench" "$corpus" "$runs" | sed 's/"impl":"postwire"/"impl":"postwire (mimalloc)"/'
# The same code on glibc's allocator with the settings daemon/main.cpp applies when
# built without mimalloc (mallopt M_TRIM_THRESHOLD 64 MiB, M_TOP_PAD 16 MiB).
MALLOC_TRIM_THRESHOLD_=67108864 MALLOC_TOP_PAD_=16777216 \
  "$build_dir/bench/parse/parse_bench_glibc" "$corpus" "$runs" | sed 's/"impl":"postwire"/"impl":"postwire (glibc, tuned)"/'
# As for sources configured with `language: en`: the corpus declares no language,
# so this is the cost without language detection (CLD2).
PARSE_BENCH_LANGUAGE=en "$build_dir/bench/parse/parse_bench" "$corpus" "$runs" |
  sed 's/"impl":"postwire"/"impl":"postwire (mimalloc, source language configured)"/'
/usr/bin/python3 bench/parse/feedparser_baseline.py "$corpus" 3
