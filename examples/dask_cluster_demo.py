"""Demo: the trace indexing of trace_summary_demo.py, scaled out to a Dask
cluster, with one view of every worker's runtime.

1. Starts a LocalCluster of N worker processes and registers
   DFTracerUtilsDaskWorkerPlugin (one runtime per worker).
2. Writes synthetic DFTracer-style ``.pfw.gz`` trace files, then indexes
   them: one Dask task per batch of files; inside it, each file is read on
   the worker runtime's io pool and parsed on its compute pool. A live bar
   shows the cluster's runtime tasks (``show_cluster_progress``).
3. Runs one deliberately slow parse on one worker: its watchdog report
   arrives on the client, naming the worker and the task.
4. Writes the merged trace of the cluster (one process per worker, clocks
   aligned to the client's) and a timeline picture with a row per worker
   thread.

Usage: python examples/dask_cluster_demo.py [workers] [directory] [files]
"""

from __future__ import annotations

import collections
import gzip
import json
import logging
import os
import random
import sys
import tempfile
import threading
import time

import distributed

import dftracer.utils as dft
from dftracer.utils.dask import (
    DFTracerUtilsDaskWorkerPlugin,
    cluster_progress,
    export_cluster_trace,
    show_cluster_progress,
    subscribe_watchdog,
)

NAMES = ["read", "write", "open64", "close", "lseek64", "fsync", "pread64", "pwrite64"]
SLOW_SECONDS = 1.0  # the watchdog's slow threshold on the workers


def write_trace(path: str, seed: int, events: int) -> int:
    rng = random.Random(seed)
    ts, lines = 0, ["["]
    for i in range(events):
        ts += rng.randint(1, 50)
        name = rng.choice(NAMES)
        lines.append(json.dumps({
            "id": i, "name": name, "cat": "POSIX", "pid": seed, "tid": rng.randint(0, 3), "ts": ts,
            "dur": rng.randint(1, 400), "ph": "X",
            "args": {"fname": f"/lus/data/shard-{rng.randint(0, 63)}.h5",
                     "size": rng.choice([0, 4096, 65536, 1 << 20]) if "read" in name or "write" in name else 0}},
            separators=(",", ":")))
    with gzip.open(path, "wb", compresslevel=6) as f:
        f.write(("\n".join(lines) + "\n]\n").encode())
    return os.path.getsize(path)


def read_lines(path: str) -> list[bytes]:
    with gzip.open(path, "rb") as f:
        return f.read().splitlines()


def summarise(lines: list[bytes], pause: float = 0.0) -> dict:
    calls: collections.Counter = collections.Counter()
    moved = 0
    for raw in lines:
        if raw.startswith(b"{"):
            event = json.loads(raw)
            calls[event["name"]] += 1
            moved += event["args"]["size"]
    time.sleep(pause)  # the deliberately slow parse
    return {"events": sum(calls.values()), "calls": calls, "bytes": moved}


def index_batch(paths: list[str], pause: float = 0.0) -> list[dict]:
    """One Dask task: read each file on the io pool, parse on the compute pool."""
    rt = dft.get_default_runtime()  # this worker's runtime (the plugin's)
    reads = [rt.submit_io(read_lines, p, name=f"read {os.path.basename(p)}") for p in paths]
    parses = [rt.submit(summarise, r.get(), pause, name=f"parse {os.path.basename(p)}")
              for r, p in zip(reads, paths)]
    return [h.get() for h in parses]


def write_batch(items: list[tuple[str, int]]) -> int:
    rt = dft.get_default_runtime()
    return sum(h.get() for h in [rt.submit_io(write_trace, p, seed, 800 + (seed % 7) * 150,
                                              name=f"write {os.path.basename(p)}") for p, seed in items])


def plot_cluster(path: str, picture: str, title: str) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "(install matplotlib for the timeline picture)"
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    names = {e["pid"]: e["args"]["address"] for e in events if e.get("name") == "process_name"}
    tasks = [e for e in events if e.get("ph") == "X"]
    rows = sorted({(e["pid"], e["tid"]) for e in tasks})
    origin = min(e["ts"] for e in tasks)
    colours = {"read": "#4CAF50", "parse": "#3572A5", "write": "#8BC34A"}
    fig, ax = plt.subplots(figsize=(11, 1 + 0.35 * len(rows)))
    for row, key in enumerate(rows):
        for kind, colour in colours.items():
            spans = [((e["ts"] - origin) / 1e3, max(e["dur"] / 1e3, 0.05)) for e in tasks
                     if (e["pid"], e["tid"]) == key and e["name"].startswith(kind)]
            if spans:
                ax.broken_barh(spans, (row - 0.4, 0.8), facecolors=colour, label=kind)
    ax.set_yticks(range(len(rows)), [f"{names.get(p, p)} / worker {t}" for p, t in rows], fontsize="small")
    ax.set_xlabel("time on the client's clock (ms)")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), loc="upper right", fontsize="small")
    fig.tight_layout()
    fig.savefig(picture, dpi=110)
    return picture


def main() -> int:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    directory = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tempfile.gettempdir(), "dftracer-dask-demo")
    files = int(sys.argv[3]) if len(sys.argv) > 3 else 120
    os.makedirs(directory, exist_ok=True)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("distributed").setLevel(logging.ERROR)

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=2, processes=True,
                                  dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        client.register_plugin(DFTracerUtilsDaskWorkerPlugin(history=8 * files,
                                                             watchdog={"slow": SLOW_SECONDS}))
        # The workers log their own watchdog reports too; keep their
        # terminals quiet so the copies the client receives stand out.
        client.run(lambda: logging.getLogger("dftracer.utils").setLevel(logging.ERROR))
        addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
        print(f"cluster: {len(addresses)} worker processes, each with its own dftracer-utils runtime")

        paths = [os.path.join(directory, f"rank-{i:04d}.pfw.gz") for i in range(files)]
        batches = [paths[i:i + 8] for i in range(0, files, 8)]
        start = time.perf_counter()
        with show_cluster_progress(client, interval=0.2):
            written = sum(client.gather(client.map(
                write_batch, [[(p, paths.index(p)) for p in b] for b in batches], pure=False)))
        print(f"wrote {files} files ({written / 1e6:.1f} MB) in {time.perf_counter() - start:.2f} s")

        start = time.perf_counter()
        with show_cluster_progress(client, interval=0.2):
            results = client.gather(client.map(index_batch, batches, pure=False))
        elapsed = time.perf_counter() - start
        summaries = [s for batch in results for s in batch]
        events = sum(s["events"] for s in summaries)
        print(f"indexed {files} files, {events:,} events in {elapsed:.2f} s ({events / elapsed:,.0f} events/s)")

        p = cluster_progress(client, timeout=30)
        print(f"\ncluster progress: {p['total']} runtime tasks, {p['completed']} completed, "
              f"{p['failed']} failed, {len(p['missing'])} worker(s) not answering")
        print(f"  {'dask worker':24s} {'host':10s} {'pid':>7s} {'tasks':>6s} {'runtime workers':>16s} {'rtt ms':>7s}")
        for w in p["dask_workers"]:
            print(f"  {w['address']:24s} {w['host'][:10]:10s} {w['pid']:7d} {w['total']:6d} "
                  f"{len(w['workers']):16d} {w['round_trip_ms']:7.1f}")

        # A deliberately slow parse on the last worker: its watchdog reports
        # it, and the report reaches this client (logged, and to a callback).
        arrived = threading.Event()
        got: list = []

        def on_report(remote) -> None:
            got.append(remote)
            arrived.set()

        subscribe_watchdog(client, on_report, log=True)
        target = addresses[-1]
        print(f"\nrunning one slow parse ({2.5 * SLOW_SECONDS:.1f} s) on {target}; its watchdog report:")
        slow = client.submit(index_batch, paths[:1], 2.5 * SLOW_SECONDS, workers=[target], pure=False)
        arrived.wait(60)
        slow.result()
        if got:
            r = got[0]
            print(f"  -> received on the client from {r.address} (host {r.host}, pid {r.pid}): "
                  f"{r.report.kind} report for task {r.report.task_name!r}")

        trace_path = os.path.join(directory, "cluster-trace.json")
        info = export_cluster_trace(client, trace_path)
        export_cluster_trace(client, os.path.join(directory, "cluster-trace.pfw.gz"))
        print(f"\nmerged trace: {info['events']} runtime tasks from {len(info['workers'])} workers")
        for w in info["workers"]:
            print(f"  pid {w['trace_pid']}: {w['address']} ({w['events']} tasks), clock offset "
                  f"{w['offset_us'] / 1e3:+.2f} ms +/- {w['bound_us'] / 1e3:.2f} ms")
        picture = plot_cluster(trace_path, os.path.join(directory, "cluster-timeline.png"),
                               f"{files} trace files on {len(addresses)} Dask workers")

    calls: collections.Counter = collections.Counter()
    for s in summaries:
        calls.update(s["calls"])
    print("\ncalls across all ranks: " + ", ".join(f"{n} {c:,}" for n, c in calls.most_common(4)) + ", ...")
    print(f"\ncluster trace (open in Perfetto): {trace_path}")
    print(f"timeline picture: {picture}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
