#!/usr/bin/env python3
"""Runs a command and prints, per 50 ms slice of its run, how many cores each of
its threads kept busy (from /proc/PID/task/*/stat, sampled every 10 ms; the
kernel counts in 10 ms ticks, so single slices are coarse). No profiler, so no
slow-down: for seeing which phases of a run leave a core idle. Used by cores.sh.

  cores.py COMMAND [ARG...]
"""
import os
import subprocess
import sys
import time

SLICE_S = 0.05


def thread_ticks(pid):
    """tid -> (name, utime + stime in ticks) of the process's live threads."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (name, int(fields[11]) + int(fields[12]))
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
    start = time.monotonic()
    previous, names, slices = {}, {}, {}
    while child.poll() is None:
        now = time.monotonic()
        current = thread_ticks(child.pid)
        used = slices.setdefault(int((now - start) / SLICE_S), {})
        for tid, (name, ticks) in current.items():
            names[tid] = name
            used[tid] = used.get(tid, 0) + ticks - previous.get(tid, 0)
            previous[tid] = ticks
        time.sleep(0.01)
    if child.returncode != 0:
        sys.exit(f"command failed with exit status {child.returncode}")
    # Threads that never used a tick are left out (librdkafka starts several idle ones).
    busy = sorted((t for t in names if any(s.get(t, 0) for s in slices.values())), key=int)
    print("   ms " + "".join(f"{names[t][:10] + '/' + t[-3:]:>15}" for t in busy) + "   total")
    for n in sorted(slices):
        cores = [slices[n].get(t, 0) / ticks_per_s / SLICE_S for t in busy]
        print(f"{int(n * SLICE_S * 1000):5d} " + "".join(f"{c:15.1f}" for c in cores) + f"   {sum(cores):5.1f}")


if __name__ == "__main__":
    main()
