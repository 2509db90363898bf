#!/usr/bin/env bash
# Instructions executed by one `postwire once` epoch of the pipeline benchmark,
# counted by callgrind (user space only): a figure that shared, noisy machines
# do not blur, for comparing two builds where wall-clock medians cannot tell a
# few per cent apart. Not a throughput figure: kernel time (page faults, file and
# state I/O) is not counted, valgrind hides SHA-NI so OpenSSL's SHA-256 counts
# several times its real weight, and the number of group commits (each one a
# few per cent of the epoch) depends on timing, so repeat a run before trusting
# a difference of that size.
#
#   bench/pipeline/instructions.sh [EPOCH] [SITES] [COMMENTS]     (defaults 2 100 6)
#
# Needs valgrind. Epochs before EPOCH run first, uncounted, to build the state
# that epoch starts from. Prints the total and the heaviest functions (inclusive).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
EPOCH="${1:-2}"
SITES="${2:-100}"
COMMENTS="${3:-6}"
source bench/pipeline/common.sh
command -v valgrind >/dev/null || { echo "instructions needs valgrind (apt-get install valgrind)" >&2; exit 1; }

make_work instructions
run_up_to_epoch "$work" "$EPOCH" "$SITES" "$COMMENTS"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
  "$POSTWIRE" once --config "$work/epoch-$EPOCH.yaml" --log-level warn > /dev/null 2> "$work/valgrind.log"
grep -E "Collected|refs" "$work/valgrind.log" | tail -1 | sed 's/^==[0-9]*== *//'
# Each function once (callgrind also lists some under a relative path), heaviest first.
callgrind_annotate --inclusive=yes "$work/callgrind.out" 2>/dev/null |
  grep -E "%\)  (/|\?\?\?)" |
  grep -E "postwire::|CLD2::Detect|xmlCtxtReadMemory|sqlite3_step|rd_kafka_poll|EVP_Digest" |
  grep -vE "boost::asio|std::" | head -20 | cut -c1-160
