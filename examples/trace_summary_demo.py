"""Demo: summarise a directory of DFTracer-style traces with dftracer.utils.

1. Writes a few hundred synthetic ``.pfw.gz`` trace files (JSON lines of
   Chrome trace events, as DFTracer writes them) on the io pool.
2. Indexes and summarises them in parallel: each file is read and
   decompressed on the io pool, then its lines are parsed and aggregated on
   the compute pool, with the io task handing its data to a compute task.
3. Shows live progress from ``Runtime.get_progress()`` while it runs, then a
   per-worker summary and the result.

Usage: python examples/trace_summary_demo.py [directory] [files]
"""

from __future__ import annotations

import collections
import gzip
import json
import os
import random
import sys
import tempfile
import time

import dftracer.utils as dft

NAMES = ["read", "write", "open64", "close", "lseek64", "fsync", "pread64", "pwrite64"]
CATEGORIES = ["POSIX", "STDIO"]


def write_trace(path: str, seed: int, events: int) -> int:
    """Write one synthetic trace file; returns its size in bytes."""
    rng = random.Random(seed)
    ts = 0
    lines = ["["]
    for i in range(events):
        ts += rng.randint(1, 50)
        name = rng.choice(NAMES)
        event = {
            "id": i, "name": name, "cat": rng.choice(CATEGORIES), "pid": seed, "tid": rng.randint(0, 3),
            "ts": ts, "dur": rng.randint(1, 400), "ph": "X",
            "args": {"fname": f"/lus/data/shard-{rng.randint(0, 63)}.h5",
                     "size": rng.choice([0, 4096, 65536, 1 << 20]) if "read" in name or "write" in name else 0},
        }
        lines.append(json.dumps(event, separators=(",", ":")))
    data = ("\n".join(lines) + "\n]\n").encode()
    with gzip.open(path, "wb", compresslevel=6) as f:
        f.write(data)
    return os.path.getsize(path)


def read_lines(path: str) -> list[bytes]:
    """io pool: read and decompress a trace file."""
    with gzip.open(path, "rb") as f:
        return f.read().splitlines()


def summarise(lines: list[bytes]) -> dict:
    """compute pool: parse JSON lines and aggregate per call and file."""
    calls: collections.Counter = collections.Counter()
    bytes_moved: collections.Counter = collections.Counter()
    busy_us = 0
    first, last = None, 0
    for raw in lines:
        if not raw.startswith(b"{"):
            continue
        event = json.loads(raw)
        calls[event["name"]] += 1
        bytes_moved[event["args"]["fname"]] += event["args"]["size"]
        busy_us += event["dur"]
        first = event["ts"] if first is None else min(first, event["ts"])
        last = max(last, event["ts"] + event["dur"])
    return {"events": sum(calls.values()), "calls": calls, "bytes": bytes_moved, "busy_us": busy_us,
            "span_us": last - (first or 0)}


def index_file(rt: dft.Runtime, path: str) -> dict:
    """One file: read on the io pool, then parse on the compute pool."""
    lines = rt.submit_io(read_lines, path, name=f"read {os.path.basename(path)}").get()
    return rt.submit(summarise, lines, name=f"parse {os.path.basename(path)}").get()


def show_progress(rt: dft.Runtime, label: str, handles: list) -> None:
    while not all(h.done() for h in handles):
        p = rt.get_progress(max_queued=0)
        busy = sum(not w["idle"] for w in p["workers"])
        print(f"\r  {label}: {p['completed']:5d}/{p['total']:5d} tasks done, {p['running']:2d} running, "
              f"{p['queued']:5d} queued, {busy}/{len(p['workers'])} workers busy", end="", flush=True)
        time.sleep(0.1)
    print()


def main() -> int:
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "dftracer-demo-traces")
    files = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    os.makedirs(directory, exist_ok=True)

    with dft.Runtime(threads=0, io_threads=0, history=4 * files) as rt:
        print(f"runtime: {rt.threads} compute threads, {rt.io_threads} io threads")

        start = time.perf_counter()
        paths = [os.path.join(directory, f"rank-{i:04d}.pfw.gz") for i in range(files)]
        writes = [rt.submit_io(write_trace, p, i, 800 + (i % 7) * 150, name=f"write {os.path.basename(p)}")
                  for i, p in enumerate(paths)]
        show_progress(rt, "writing traces ", writes)
        total_bytes = sum(h.get() for h in writes)
        print(f"  wrote {files} files, {total_bytes / 1e6:.1f} MB compressed, in {time.perf_counter() - start:.2f} s")

        start = time.perf_counter()
        indexes = [rt.submit(index_file, rt, p, name=f"index {os.path.basename(p)}") for p in paths]
        show_progress(rt, "indexing traces", indexes)
        summaries = [h.get() for h in indexes]
        elapsed = time.perf_counter() - start
        rt.wait_all(raise_on_error=True)
        progress = rt.get_progress(max_queued=0)
        trace_path = os.path.join(directory, "runtime-trace.json")
        rt.export_trace(trace_path)
        timeline_path = os.path.join(directory, "runtime-timeline.png")
        try:
            rt.plot_timeline(timeline_path, title=f"{files} trace files: write, read (io), parse (compute)")
        except ImportError:
            timeline_path = "(install matplotlib for the timeline picture)"

    calls: collections.Counter = collections.Counter()
    moved: collections.Counter = collections.Counter()
    for s in summaries:
        calls.update(s["calls"])
        moved.update(s["bytes"])
    events = sum(s["events"] for s in summaries)

    print(f"\nindexed {files} files, {events:,} events in {elapsed:.2f} s ({events / elapsed:,.0f} events/s)")
    print(f"tasks: {progress['total']} total, {progress['completed']} completed, {progress['failed']} failed, "
          f"{progress['cancelled']} cancelled")
    print("\nper worker:")
    print(f"  {'worker':>6}  {'pool':8} {'tasks run':>9}")
    for w in progress["workers"]:
        print(f"  {w['id']:>6}  {w['pool']:8} {w['tasks_run']:>9}")
    print("\ncalls across all ranks:")
    for name, n in calls.most_common():
        print(f"  {name:10s} {n:>9,}")
    print("\nbusiest files by bytes moved:")
    for fname, n in moved.most_common(5):
        print(f"  {fname:28s} {n / 1e6:10.1f} MB")
    print(f"\nruntime trace (open in Perfetto): {trace_path}")
    print(f"timeline picture: {timeline_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
