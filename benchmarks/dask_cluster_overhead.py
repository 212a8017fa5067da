"""Overhead of DFTracerUtilsDaskWorkerPlugin on a Dask computation of many
small tasks, against the same computation without it, in one run.

Configurations (all on the same LocalCluster, in a shuffled order per round
so drift and neighbours' load hit them alike):

* ``dask``: no plugin; Dask's own worker threads run the tasks.
* ``plugin``: the plugin registered (a runtime, its watchdog thread and the
  watchdog event publisher on every worker); Dask's threads run the tasks.
* ``plugin+annotate``: as ``plugin``, and the tasks run on the runtime under
  ``dask.annotate(executor="dftracer")``, so every one is a runtime task
  (visible in progress, watched by the watchdog, in the trace).
* ``plugin+annotate+display``: as above while ``show_cluster_progress``
  polls ``cluster_progress`` every 0.5 s (the live display).

Usage: python benchmarks/dask_cluster_overhead.py [--tasks 10000] [--rounds 5] [--workers 2]
Prints a table (median, min, max, and the median overhead against ``dask``
with the range of the per-round ratios) and, with --json, the raw timings.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time

import dask
import distributed

from dftracer.utils.dask import EXECUTOR_NAME, DFTracerUtilsDaskWorkerPlugin, show_cluster_progress

CONFIGS = ["dask", "plugin", "plugin+annotate", "plugin+annotate+display"]


def small(i: int) -> int:
    return i + 1


def run_once(client: distributed.Client, config: str, tasks: int) -> float:
    if config == "dask":
        client.unregister_worker_plugin(DFTracerUtilsDaskWorkerPlugin.name)
    else:
        client.register_plugin(DFTracerUtilsDaskWorkerPlugin())
    start = time.perf_counter()
    if config == "dask" or config == "plugin":
        futures = client.map(small, range(tasks), pure=False)
        client.gather(futures)
    elif config == "plugin+annotate":
        with dask.annotate(executor=EXECUTOR_NAME):
            futures = client.map(small, range(tasks), pure=False)
        client.gather(futures)
    else:
        with show_cluster_progress(client, interval=0.5, stream=io.StringIO(), use_tqdm=False):
            with dask.annotate(executor=EXECUTOR_NAME):
                futures = client.map(small, range(tasks), pure=False)
            client.gather(futures)
    elapsed = time.perf_counter() - start
    del futures
    if config == "dask":  # leave the cluster as the next round expects
        client.register_plugin(DFTracerUtilsDaskWorkerPlugin())
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="threads per Dask worker")
    parser.add_argument("--json", help="write raw timings to this file")
    args = parser.parse_args()

    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=args.threads, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        client.register_plugin(DFTracerUtilsDaskWorkerPlugin())
        for config in CONFIGS:  # warm-up: imports, connections, code paths
            run_once(client, config, min(args.tasks, 1000))
        timings: dict[str, list[float]] = {c: [] for c in CONFIGS}
        rng = random.Random(20)
        for r in range(args.rounds):
            order = CONFIGS[:]
            rng.shuffle(order)
            for config in order:
                timings[config].append(run_once(client, config, args.tasks))
            print(f"round {r + 1}/{args.rounds}: " +
                  ", ".join(f"{c} {timings[c][-1]:.2f} s" for c in CONFIGS), flush=True)

    base = timings["dask"]
    print(f"\n{args.tasks:,} tasks, {args.workers} worker processes x {args.threads} thread(s), "
          f"{args.rounds} rounds\n")
    print(f"{'configuration':26s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'us/task':>8s} "
          f"{'overhead (median)':>18s} {'per-round range':>18s}")
    for config in CONFIGS:
        t = timings[config]
        ratios = [x / b - 1 for x, b in zip(t, base, strict=True)]
        median = statistics.median(t)
        print(f"{config:26s} {median:9.2f} {min(t):7.2f} {max(t):7.2f} {median / args.tasks * 1e6:8.0f} "
              f"{(median / statistics.median(base) - 1) * 100:17.1f}% "
              f"{min(ratios) * 100:+8.1f}..{max(ratios) * 100:+.1f}%")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "timings": timings}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
