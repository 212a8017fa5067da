"""How gathering cluster progress and the merged trace grows with the
number of Dask worker processes (measured on one machine).

For each cluster size N (default 2, 8 and 32 worker processes, one thread
each, a runtime of one compute and one io thread per worker), every worker
first runs enough runtime tasks to fill its history (``--history``), then:

* ``cluster_progress(max_tasks=20)`` is timed ``--repeat`` times;
* ``export_cluster_trace(.pfw.gz)`` is timed ``--trace-repeat`` times;
* the bytes each worker sends are measured (progress answer pickled; trace
  answer gzip-compressed as sent).

``client CPU`` is the CPU time of this process (the client and, in a
LocalCluster, the scheduler) per call: the part that a real cluster pays
centrally, while the work on each worker runs in parallel on its own node.
A least-squares line through the points predicts 1,000 workers.

Usage: python benchmarks/dask_cluster_scaling.py [--workers 2 8 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import tempfile
import time

import distributed

import dftracer.utils._cluster as cluster_mod
from dftracer.utils.dask import DFTracerUtilsDaskWorkerPlugin, cluster_progress, export_cluster_trace


def fill_history(n: int) -> int:
    import dftracer.utils as dft

    rt = dft.get_default_runtime()
    handles = [rt.submit(abs, -i, name=f"t{i}") for i in range(n)]
    return sum(h.get() for h in handles)


def timed(fn, repeat: int) -> tuple[list[float], list[float]]:
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    return my - slope * mx, slope


def measure(n: int, args: argparse.Namespace) -> dict[str, object]:
    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        client.wait_for_workers(n, timeout=600)
        client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=1, io_threads=1, history=args.history))
        startup = time.perf_counter() - start
        addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
        client.gather([client.submit(fill_history, args.history * 2, workers=[a], pure=False)
                       for a in addresses])
        cluster_progress(client, timeout=120)  # warm-up
        p_wall, p_cpu = timed(lambda: cluster_progress(client, timeout=120, max_tasks=20), args.repeat)
        progress = cluster_progress(client, timeout=120, max_tasks=20)
        assert not progress["missing"], progress["missing"]
        progress_bytes = statistics.fmean(len(pickle.dumps(w)) for w in progress["dask_workers"])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "cluster.pfw.gz")
            t_wall, t_cpu = timed(lambda: export_cluster_trace(client, path, timeout=300), args.trace_repeat)
            info = export_cluster_trace(client, path, timeout=300)
            file_bytes = os.path.getsize(path)
        answers = client.run(cluster_mod._worker_trace, 100_000)  # async: awaited on the worker
        trace_bytes = statistics.fmean(len(a["trace"]) for a in answers.values())
        bounds = [w["bound_us"] for w in info["workers"]]
    row = {
        "workers": n, "startup_s": startup,
        "progress_ms": statistics.median(p_wall) * 1e3, "progress_ms_min": min(p_wall) * 1e3,
        "progress_ms_max": max(p_wall) * 1e3, "progress_cpu_ms": statistics.median(p_cpu) * 1e3,
        "progress_bytes_per_worker": progress_bytes,
        "trace_ms": statistics.median(t_wall) * 1e3, "trace_ms_min": min(t_wall) * 1e3,
        "trace_ms_max": max(t_wall) * 1e3, "trace_cpu_ms": statistics.median(t_cpu) * 1e3,
        "trace_events": info["events"], "trace_bytes_per_worker": trace_bytes, "trace_file_bytes": file_bytes,
        "clock_bound_us_median": statistics.median(bounds), "clock_bound_us_max": max(bounds),
    }
    print(json.dumps(row), flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--history", type=int, default=1024, help="runtime history per worker")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--trace-repeat", type=int, default=3)
    parser.add_argument("--json", help="write the rows to this file")
    args = parser.parse_args()
    rows = [measure(n, args) for n in args.workers]

    print(f"\n{'workers':>7s} {'progress ms (min-max)':>24s} {'client CPU ms':>13s} {'B/worker':>9s} "
          f"{'trace ms (min-max)':>24s} {'client CPU ms':>13s} {'gz KB/worker':>12s} {'events':>8s} "
          f"{'clock bound us':>14s}")
    for r in rows:
        print(f"{r['workers']:7d} {r['progress_ms']:9.1f} ({r['progress_ms_min']:.1f}-{r['progress_ms_max']:.1f})"
              f"{'':>4s} {r['progress_cpu_ms']:13.1f} {r['progress_bytes_per_worker']:9.0f} "
              f"{r['trace_ms']:9.0f} ({r['trace_ms_min']:.0f}-{r['trace_ms_max']:.0f}){'':>6s} "
              f"{r['trace_cpu_ms']:13.0f} {r['trace_bytes_per_worker'] / 1e3:12.1f} {r['trace_events']:8d} "
              f"{r['clock_bound_us_median']:8.0f} (max {r['clock_bound_us_max']:.0f})")
    if len(rows) >= 2:
        xs = [float(r["workers"]) for r in rows]
        print("\nleast-squares line (a + b * workers), predicted for 1,000 workers:")
        for key in ("progress_ms", "progress_cpu_ms", "trace_ms", "trace_cpu_ms"):
            a, b = fit(xs, [float(r[key]) for r in rows])
            print(f"  {key:16s} a={a:8.2f} ms  b={b:7.3f} ms/worker  -> {a + 1000 * b:10.0f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
