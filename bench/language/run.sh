#!/usr/bin/env bash
# Language detection on multilingual samples made from the gettext catalogues
# installed on this machine (make_samples.py): how often detecting a document's
# items together (detect_languages) gives the answer each item gets alone, and
# what it costs.
#
#   bench/language/run.sh [BUILD_DIR] [FOREIGN]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build_dir="${1:-build}"
foreign="${2:-2}"
samples=/tmp/postwire-language-samples.tsv
python3 bench/language/make_samples.py > "$samples"
cmake --build "$build_dir" -j2 --target language_eval >/dev/null
"$build_dir/bench/language/language_eval" "$samples" "$foreign"
