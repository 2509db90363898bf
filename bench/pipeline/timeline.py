#!/usr/bin/env python3
"""Reads `perf script -F comm,tid,time,ip,sym` (with call chains) of one
postwire process on stdin and prints, per 25 ms slice, the samples of the event
loop (M, the thread named pw-loop), the compute pool (P, pw-compute) and the
other threads (B: librdkafka's, the checkpoint thread, start-up), each with its
activities, named after the first matching frame of the call chain. Used by
timeline.sh."""
import collections
import sys

# Checked in order against the whole call chain; the first match names the sample.
ACTIVITIES = [
    ("cld2", "CLD2::"), ("parse", "parse_feed"), ("prepare", "prepare_event"),
    ("keys", "cross_source_keys"), ("flush", "DedupeStore::flush"), ("ack", "on_delivery"),
    ("close", "~DedupeStore"), ("store", "DedupeStore::"), ("produce", "KafkaPublisher::produce"),
    ("rdkafka", "rd_kafka"), ("read", "read_file_url"), ("poll", "poll_once"),
    ("sqlite", "sqlite3"), ("fault", "page_fault"),
]
SLICE_MS = 25


def samples(stream):
    block = []
    for line in stream:
        line = line.rstrip("\n")
        if line.strip():
            block.append(line.strip())
            continue
        if block:
            yield block
            block = []
    if block:
        yield block


def main():
    rows = []
    for block in samples(sys.stdin):
        head = block[0].split()
        if len(head) < 3:
            continue
        comm, when = head[0], float(head[2].rstrip(":"))
        chain = " ".join(frame.split(" ", 1)[1] if " " in frame else frame for frame in block[1:])
        activity = next((name for name, key in ACTIVITIES if key in chain), "other")
        rows.append((when, comm, activity))
    if not rows:
        sys.exit("no samples")
    start = min(r[0] for r in rows)
    slices = collections.defaultdict(collections.Counter)
    totals = collections.Counter()
    for when, comm, activity in rows:
        role = {"pw-loop": "M", "pw-compute": "P"}.get(comm, "B")
        n = int((when - start) * 1000 // SLICE_MS)
        slices[n][role] += 1
        slices[n][role + ":" + activity] += 1
        totals[role + ":" + activity] += 1

    def top(counter, role, width):
        parts = [f"{k[2:]} {v}" for k, v in counter.most_common() if k.startswith(role + ":")]
        return ", ".join(parts)[:width]

    print("samples per slice (10 kHz): M event loop, P compute pool, B other threads")
    for n in sorted(slices):
        c = slices[n]
        print(f"{n * SLICE_MS:5d} ms  M{c['M']:4d} P{c['P']:4d} B{c['B']:4d} | M: {top(c, 'M', 60)} | P: {top(c, 'P', 40)}")
    for role, name in (("M", "event loop"), ("P", "compute pool"), ("B", "other threads")):
        print(f"{name}: {top(totals, role, 200)}")


if __name__ == "__main__":
    main()
