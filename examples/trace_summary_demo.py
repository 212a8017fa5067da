"""Demo: index DFTracer traces with dftracer.utils and summarise them.

1. Writes a few hundred synthetic trace files (DFTracer 1.x layout, for
   scale) on the io pool.
2. Runs a small I/O workload under the real tracer (PyPI ``dftracer``, its
   preload library) in several processes; each also exports the runtime's
   own trace beside the tracer's (examples/traced_workload.py).
3. Indexes all of them with :func:`dftracer.utils.traces.read_traces`:
   reading on the io pool, parsing chunks on the compute pool, with live
   progress, then prints per-trace-file, per-call and per-file summaries,
   the errors it counted, and what every worker did.
4. Draws the traced workload's merged timeline (its I/O calls over the
   runtime's tasks, on the same threads) and this runtime's own timeline.

Usage: python examples/trace_summary_demo.py [directory] [files] [--ranks N]
       python examples/trace_summary_demo.py --traces DIR   (index an existing folder)
"""

from __future__ import annotations

import argparse
import concurrent.futures
import gzip
import json
import os
import random
import shutil
import sys
import tempfile
import time

import dftracer.utils as dft
from dftracer.utils import traces

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import traced_run  # noqa: E402  (beside this file)

NAMES = ["read", "write", "open64", "close", "lseek64", "fsync", "pread64", "pwrite64"]
CATEGORIES = ["POSIX", "STDIO"]
WORKLOAD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "traced_workload.py")


def write_synthetic(path: str, seed: int, events: int) -> int:
    """One synthetic trace in DFTracer's 1.x layout; returns its size."""
    rng = random.Random(seed)
    ts = 1_700_000_000_000_000 + seed * 1000
    lines = ["["]
    for i in range(events):
        ts += rng.randint(1, 50)
        name = rng.choice(NAMES)
        size = rng.choice([0, 4096, 65536, 1 << 20]) if "read" in name or "write" in name else 0
        lines.append(json.dumps({"id": i, "name": name, "cat": rng.choice(CATEGORIES), "pid": seed,
                                 "tid": rng.randint(0, 3), "ts": ts, "dur": rng.randint(1, 400), "ph": "X",
                                 "args": {"fname": f"/lus/data/shard-{rng.randint(0, 63)}.h5", "size": size,
                                          "hostname": f"nid{seed % 8:04d}"}}, separators=(",", ":")))
    with gzip.open(path, "wb", compresslevel=6) as f:
        f.write(("\n".join(lines) + "\n]\n").encode())
    return os.path.getsize(path)


def show_progress(rt: dft.Runtime, label: str, done: object) -> None:
    """Live counts from Runtime.get_progress() until done() is true."""
    while not done():  # type: ignore[operator]
        p = rt.get_progress(max_queued=0)
        busy = sum(not w["idle"] for w in p["workers"])
        print(f"\r  {label}: {p['completed']:6d}/{p['total']:6d} tasks done, {p['running']:2d} running, "
              f"{p['queued']:5d} queued, {busy}/{len(p['workers'])} workers busy", end="", flush=True)
        time.sleep(0.1)
    print()


def run_workload(directory: str, ranks: int) -> str | None:
    """The workload under DFTracer in `ranks` processes; its trace folder."""
    if traced_run.find_preload() is None:
        print("DFTracer is not installed (pip install --no-deps dftracer): indexing synthetic traces only")
        return None
    trace_dir = os.path.join(directory, "real")
    shutil.rmtree(trace_dir, ignore_errors=True)
    start = time.perf_counter()
    procs = [traced_run.python_traced(WORKLOAD, os.path.join(directory, "data"), trace_dir, str(r), "6", "256",
                                      trace_dir=trace_dir) for r in range(ranks)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"traced workload failed:\n{err}")
    print(f"ran the workload under DFTracer in {ranks} processes in {time.perf_counter() - start:.2f} s "
          f"-> {trace_dir}")
    return trace_dir


def index(rt: dft.Runtime, sources: list[str]) -> traces.TraceSet:
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(traces.read_traces, sources, runtime=rt)
        show_progress(rt, "indexing traces", future.done)
        found = future.result()
    elapsed = time.perf_counter() - start
    print(f"indexed {len(found.traces)} trace files, {len(found.events):,} events in {elapsed:.2f} s "
          f"({len(found.events) / max(elapsed, 1e-9):,.0f} events/s); {len(found.empty_files)} empty files "
          f"skipped, {len(found.errors)} errors")
    return found


def report(found: traces.TraceSet, real_dir: str | None) -> None:
    for error in found.errors[:5]:
        print(f"  error: {error}")
    real = [t for t in found.traces if real_dir is None or t.path.startswith(real_dir)]
    print(f"\nper trace file ({'written by DFTracer and the runtime' if real_dir else 'all'}, "
          f"busiest {min(8, len(real))} of {len(real)}):")
    print(f"  {'file':44s} {'events':>8} {'metadata':>8} {'errors':>6}")
    for t in sorted(real, key=lambda t: -t.events)[:8]:
        print(f"  {os.path.basename(t.path)[-44:]:44s} {t.events:>8,} {t.metadata:>8,} {t.errors:>6}")
    events = found.events if real_dir is None else found.events_of(lambda t: t.path.startswith(real_dir))
    if real_dir is not None:
        print(f"synthetic traces: {len(found.events) - len(events):,} events in {len(found.traces) - len(real)} files")
    calls, files, categories = traces.summarize(e for e in events if e.get("cat") not in traces.RUNTIME_CATEGORIES)
    tasks = traces.summarize(e for e in events if e.get("cat") in traces.RUNTIME_CATEGORIES)[2]
    print("\nevents by category: " + ", ".join(f"{c} {n:,}" for c, n in (categories + tasks).most_common()))
    print("\nper call (busiest 10 by time):")
    print(f"  {'call':20s} {'count':>9} {'time ms':>10} {'MB moved':>10}")
    for name, s in sorted(calls.items(), key=lambda kv: -kv[1].dur_us)[:10]:
        print(f"  {name[:20]:20s} {s.count:>9,} {s.dur_us / 1e3:>10.2f} {s.bytes / 1e6:>10.3f}")
    print("\nper file (busiest 8 by bytes moved; paths resolved from DFTracer's file hashes):")
    for path, s in sorted(files.items(), key=lambda kv: (-kv[1].bytes, kv[0]))[:8]:
        shown = path if len(path) <= 52 else "..." + path[-49:]
        print(f"  {shown:52s} {s.count:>7,} calls {s.bytes / 1e3:>10.1f} kB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", default=os.path.join(tempfile.gettempdir(), "dftracer-demo"))
    parser.add_argument("files", nargs="?", type=int, default=300, help="synthetic trace files")
    parser.add_argument("--ranks", type=int, default=3, help="processes running the traced workload")
    parser.add_argument("--traces", metavar="DIR", help="index this folder of traces instead")
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)

    with dft.Runtime(threads=0, io_threads=0, history=20000) as rt:
        print(f"runtime: {rt.threads} compute threads, {rt.io_threads} io threads")
        real_dir = None
        if args.traces:
            sources = [args.traces]
        else:
            synthetic = os.path.join(args.directory, "synthetic")
            os.makedirs(synthetic, exist_ok=True)
            start = time.perf_counter()
            writes = [rt.submit_io(write_synthetic, os.path.join(synthetic, f"rank-{i:04d}.pfw.gz"), i,
                                   800 + (i % 7) * 150, name=f"write rank-{i:04d}") for i in range(args.files)]
            show_progress(rt, "writing synthetic traces", lambda: all(h.done() for h in writes))
            total = sum(h.get() for h in writes)
            print(f"  wrote {args.files} synthetic files, {total / 1e6:.1f} MB, in {time.perf_counter() - start:.2f} s")
            real_dir = run_workload(args.directory, args.ranks)
            sources = [synthetic] + ([real_dir] if real_dir else [])
        found = index(rt, sources)
        report(found, real_dir)
        progress = rt.get_progress(max_queued=0)
        own_trace = os.path.join(args.directory, "runtime-demo.pfw.gz")
        rt.export_trace(own_trace)
        pictures = []
        try:
            if real_dir is not None:
                merged = os.path.join(args.directory, "merged-timeline.png")
                dft.plot_timeline(real_dir, merged,
                                  title="traced workload: DFTracer's I/O calls over the runtime's tasks")
                pictures.append(merged)
            elif len(found.events) <= 200_000:
                picture = os.path.join(args.directory, "traces-timeline.png")
                dft.plot_timeline(found, picture, title=f"{args.traces}")
                pictures.append(picture)
            own = os.path.join(args.directory, "runtime-timeline.png")
            rt.plot_timeline(own, title="this demo's runtime: read (io) and parse (compute) tasks")
            pictures.append(own)
        except ImportError:
            pictures.append("(install matplotlib for the timeline pictures)")

    print(f"\ntasks: {progress['total']} total, {progress['completed']} completed, {progress['failed']} failed")
    print(f"  {'worker':>6}  {'pool':8} {'tasks run':>9}  os tid")
    for w in progress["workers"]:
        print(f"  {w['id']:>6}  {w['pool']:8} {w['tasks_run']:>9}  {w['os_thread']}")
    print(f"\nruntime's own trace (DFTracer .pfw.gz; Perfetto reads the .json export): {own_trace}")
    for picture in pictures:
        print(f"timeline picture: {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
