#!/usr/bin/python3
"""Baseline for parse_bench: Debian's python3-feedparser parsing the same documents
(feedparser does not read JSON Feed: those go through json.loads, as in
/work/shared/bench/py_baseline.py). One process, one thread, RUNS runs; prints the
median MB/s and items/s as one JSON line.

  feedparser_baseline.py CORPUS_DIR [RUNS]
"""
import glob
import json
import os
import sys
import time

import feedparser


def main():
    corpus = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    docs = []
    for path in sorted(glob.glob(os.path.join(corpus, "**", "*.*"), recursive=True)):
        if path.endswith((".xml", ".json")) and os.path.basename(path) != "truth.json":
            with open(path, "rb") as f:
                docs.append((path.endswith(".json"), f.read()))
    total = sum(len(d) for _, d in docs)
    times = []
    items = 0
    for _ in range(runs):
        items = 0
        t0 = time.perf_counter()
        for is_json, data in docs:
            if is_json:
                items += len(json.loads(data)["items"])
            else:
                items += len(feedparser.parse(data).entries)
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"impl": "python3-feedparser " + feedparser.__version__, "documents": len(docs), "bytes": total,
                      "items": items, "runs": runs, "median_s": round(median, 3),
                      "mb_per_s": round(total / median / 1e6, 2), "items_per_s": round(items / median)}))


if __name__ == "__main__":
    main()
