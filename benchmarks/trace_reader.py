"""Throughput of dftracer.utils.traces.read_traces (events per second) on
one core and on two, with the upstream dftracer-utils tools' readers on the
same files, in the same run, as the anchor.

The traces come from the upstream generator (dftracer_gen_fake_trace:
realistic multi-rank DFTracer 2.x .pfw.gz files with FH/HH metadata). Each
measurement runs in a fresh process pinned with taskset to the given cores:
  ours       read_traces(dir, Runtime(threads=N, io_threads=N)): read,
             decompress, parse every line into a dict, resolve paths/hosts
  upstream   dftracer_event_count (C++; builds its gzip index, then counts
             valid event lines; its executor and io threads set to N)
Ours is timed inside the process around the read only; the CLI is timed
from outside (its process start, ~10 ms, included). Every upstream run gets
a fresh index directory, so indexing is always paid. (Upstream's Python
TraceViewer is not used: in 0.0.14, on a directory or a list of files, it
returned one file's rows.)

Usage: python benchmarks/trace_reader.py [--upstream-venv DIR] [--runs 5]
           [--ranks 8] [--epochs 10] [--steps 650] [--json OUT]
Needs the upstream venv (scripts/test-python.sh makes build/ci/upstream-venv).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

OURS = """
import sys, time, dftracer.utils as dft
from dftracer.utils import traces
n = int(sys.argv[2])
with dft.Runtime(threads=n, io_threads=n, history=0) as rt:
    start = time.perf_counter()
    found = traces.read_traces(sys.argv[1], runtime=rt)
    elapsed = time.perf_counter() - start
assert not found.errors, found.errors[:3]
print(len(found.events), elapsed)
"""



def pinned(cores: int) -> list[str]:
    return ["taskset", "-c", ",".join(str(c) for c in range(cores))]


def run_ours(trace_dir: str, cores: int) -> tuple[int, float]:
    out = subprocess.run(pinned(cores) + [sys.executable, "-c", OURS, trace_dir, str(cores)], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), float(out[1])


def run_counter(bin_dir: str, trace_dir: str, cores: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as index:
        start = time.perf_counter()
        out = subprocess.run(pinned(cores) + [os.path.join(bin_dir, "dftracer_event_count"), "-d", trace_dir,
                                              "--executor-threads", str(cores), "--io-threads", str(cores),
                                              "--index-dir", index, "--force", "--log-level", "off"],
                             check=True, capture_output=True, text=True).stdout
        return int(out.split()[-1]), time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream-venv", default=os.path.join(ROOT, "build", "ci", "upstream-venv"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ranks", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=650)
    parser.add_argument("--json", help="write the raw results here")
    args = parser.parse_args()
    bin_dir = os.path.join(args.upstream_venv, "bin")
    trace_dir = os.path.join(ROOT, "build", "bench-traces", f"r{args.ranks}-e{args.epochs}-s{args.steps}")
    if not os.path.isdir(trace_dir):
        subprocess.run([os.path.join(bin_dir, "dftracer_gen_fake_trace"), "-o", trace_dir, "-p", str(args.ranks),
                        "-H", "2", "-e", str(args.epochs), "-s", str(args.steps), "--seed", "42",
                        "--log-level", "off"], check=True, capture_output=True)
    size = sum(os.path.getsize(os.path.join(trace_dir, f)) for f in os.listdir(trace_dir))
    print(f"traces: {trace_dir} ({len(os.listdir(trace_dir))} files, {size / 1e6:.1f} MB compressed)")
    readers = {"ours: read_traces": lambda c: run_ours(trace_dir, c),
               "upstream: dftracer_event_count": lambda c: run_counter(bin_dir, trace_dir, c)}
    results: dict[str, dict[int, list[float]]] = {name: {1: [], 2: []} for name in readers}
    events: dict[str, int] = {}
    for _ in range(args.runs):  # interleaved, so drift in machine load hits every reader alike
        for cores in (1, 2):
            for name, read in readers.items():
                count, seconds = read(cores)
                events.setdefault(name, count)
                assert events[name] == count == events[next(iter(readers))], (name, count)  # same events
                results[name][cores].append(count / seconds)
    print(f"\n{'reader':32s} {'cores':>5} {'events':>10} {'median ev/s':>12} {'min..max ev/s':>22}")
    for name, by_cores in results.items():
        for cores, rates in by_cores.items():
            print(f"{name:32s} {cores:>5} {events[name]:>10,} {statistics.median(rates):>12,.0f} "
                  f"{min(rates):>10,.0f}..{max(rates):<10,.0f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"trace_dir": trace_dir, "bytes": size, "events": events, "runs": args.runs,
                       "rates": {n: {str(c): r for c, r in by.items()} for n, by in results.items()}}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
