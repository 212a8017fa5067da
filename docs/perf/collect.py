"""Measure the benchmarks shown on the Performance page and draw its figures.

Runs the C++ benchmark program (benchmarks/executor_bench.cpp, built with the
project) and the pytest-benchmark suite (tests/python/test_benchmarks.py)
against an installed dftracer-utils, then writes into docs/_static/perf/:

* ``machine.json`` / ``machine.csv`` -- where and when it ran;
* ``cpp-bench.txt`` and ``cpp-bench.json`` -- the C++ program's table, raw and parsed;
* ``python-benchmarks.json`` -- pytest-benchmark's statistics per test;
* ``cpp-executor.csv``, ``cpp-overheads.csv``, ``python-benchmarks.csv`` -- the tables on the page;
* ``cpp-executor.png``, ``cpp-overheads.png``, ``python-benchmarks.png`` -- the figures.

The documentation build never runs this (benchmarks take minutes and need
a quiet machine); run it by hand and commit the outputs::

    python docs/perf/collect.py --bench build/release/benchmarks/executor_bench \\
        --python .venv/bin/python

Needs matplotlib in the interpreter running this script, and pytest plus
pytest-benchmark in the one given with ``--python``.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "_static" / "perf"

ROW = re.compile(r"^(\([a-d]\).*?|\s+per empty task \(ours\))\s{2,}([\d.]+)\s+([\d.]+|-)\s+([\d.]+x|-)\s*(.*)$")


# ----------------------------------------------------------------- machine

def machine() -> dict[str, Any]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    os_name = platform.platform()
    if os.path.exists("/etc/os-release"):
        with open("/etc/os-release", encoding="utf-8") as f:
            fields = dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)
        os_name = fields.get("PRETTY_NAME", os_name).strip('"')
    debian = Path("/etc/debian_version")
    if debian.exists():
        os_name += f" ({debian.read_text().strip()})"
    compiler = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout.splitlines()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)),
        "os": os_name,
        "kernel": platform.release(),
        "compiler": compiler[0] if compiler else "unknown",
        "commit": commit.stdout.strip() or "unknown",
    }


# --------------------------------------------------------------------- C++

def parse_cpp(text: str) -> list[dict[str, Any]]:
    rows = []
    for line in text.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        name, ours, tbb, _ratio, note = m.groups()
        rows.append({"name": name.strip(), "dftracer_ms": float(ours),
                     "onetbb_ms": None if tbb == "-" else float(tbb), "note": note.strip()})
    if not rows:
        raise SystemExit(f"could not parse the benchmark output:\n{text}")
    return rows


def _overheads(run: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The run's on/off pairs: (feature, off ms, on ms), measured back to back."""
    base = next(r for r in run if re.match(r"\(a\) \d+ empty tasks", r["name"]))
    pairs = []
    for r in run:
        interval = re.search(r"watchdog on \((\d+) ms interval\)", r["name"])
        off = re.search(r"off ([\d.]+) ms", r["note"])
        if interval and off:
            pairs.append({"feature": f"watchdog, {interval.group(1)} ms interval",
                          "off_ms": float(off.group(1)), "on_ms": r["dftracer_ms"]})
        if "task recording off" in r["name"]:
            pairs.append({"feature": "task recording (history 1024)", "off_ms": r["dftracer_ms"],
                          "on_ms": base["dftracer_ms"]})
    return pairs


def run_cpp(bench: Path, threads: int, repeat: int, runs: int) -> dict[str, Any]:
    """Runs the program `runs` times. Times: the lowest of the program's
    medians over the runs (on a shared machine other work only ever adds
    time). Ratios against oneTBB and on/off costs: the median over runs of
    each run's own ratio (the two sides of a ratio alternate in one run)."""
    outputs = []
    for _ in range(runs):
        result = subprocess.run([str(bench), "--threads", str(threads), "--repeat", str(repeat)],
                                capture_output=True, text=True, check=True)
        outputs.append(result.stdout)
    (OUT / "cpp-bench.txt").write_text("\n".join(outputs))
    per_run = [parse_cpp(text) for text in outputs]
    rows = []
    for i, first in enumerate(per_run[0]):
        row = dict(first)
        for key in ("dftracer_ms", "onetbb_ms"):
            if first.get(key) is not None:
                row[key] = min(run[i][key] for run in per_run)
        if row["name"].startswith("(d)"):
            row["note"] = f"{row['dftracer_ms'] / 10:.3f}% of one core"  # CPU ms over a 1 s sleep
        if first.get("onetbb_ms") is not None:
            # The program alternates the two sides run by run, so each run's
            # own ratio is the fairer comparison on a machine with slow phases.
            row["ratio_runs"] = [round(run[i]["onetbb_ms"] / run[i]["dftracer_ms"], 3) for run in per_run]
            row["ratio_median"] = statistics.median(row["ratio_runs"])
        rows.append(row)
    overheads = []
    for j, first in enumerate(_overheads(per_run[0])):
        pairs = [_overheads(run)[j] for run in per_run]
        overheads.append({
            "feature": first["feature"],
            "off_ms": min(p["off_ms"] for p in pairs),
            "on_ms": min(p["on_ms"] for p in pairs),
            "throughput_on_over_off": statistics.median(p["off_ms"] / p["on_ms"] for p in pairs),
            "per_run": [round(p["off_ms"] / p["on_ms"], 3) for p in pairs],
        })
    return {"threads": threads, "repeat": repeat, "runs": runs, "rows": rows, "overheads": overheads,
            "per_run": per_run}


def cpp_tables(data: dict[str, Any]) -> None:
    with open(OUT / "cpp-executor.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["benchmark", "dftracer-utils (ms)", "oneTBB (ms)", "oneTBB / dftracer-utils", "each run"])
        for r in data["rows"]:
            if r["onetbb_ms"] is not None:
                w.writerow([r["name"][4:], f"{r['dftracer_ms']:.2f}", f"{r['onetbb_ms']:.2f}",
                            f"{r['ratio_median']:.2f}", " ".join(f"{x:.2f}" for x in r["ratio_runs"])])
        for r in data["rows"]:
            if r["name"].startswith("(d)"):
                w.writerow(["idle executor, CPU used over 1 s", f"{r['dftracer_ms']:.3f}", "", r["note"], ""])
        for r in data["rows"]:
            count = re.match(r"\(a\) (\d+) empty tasks", r["name"])
            if count and r["onetbb_ms"] is not None:
                tasks = int(count.group(1))
                w.writerow(["per empty task, from the first row", f"{r['dftracer_ms'] * 1e6 / tasks:.0f} ns",
                            f"{r['onetbb_ms'] * 1e6 / tasks:.0f} ns", "", ""])
    with open(OUT / "cpp-overheads.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feature", "off (ms)", "on (ms)", "throughput on / off", "each run"])
        for o in data["overheads"]:
            w.writerow([o["feature"], f"{o['off_ms']:.2f}", f"{o['on_ms']:.2f}",
                        f"{o['throughput_on_over_off']:.3f}", " ".join(f"{x:.3f}" for x in o["per_run"])])


def cpp_figures(data: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    compared = [r for r in data["rows"] if r["onetbb_ms"] is not None]
    fig, axes = plt.subplots(1, len(compared), figsize=(3.2 * len(compared), 3.4))
    for ax, r in zip(axes, compared, strict=True):
        bars = ax.bar(["dftracer-utils", "oneTBB"], [r["dftracer_ms"], r["onetbb_ms"]], color=["#3572A5", "#999999"])
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        ax.set_title(r["name"][4:], fontsize=9, wrap=True)
        ax.set_ylabel("median time (ms), lower is better", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"C++ executor vs oneTBB ({data['threads']} threads; median of {data['repeat']} rounds, "
                 f"best of {data['runs']} runs)", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "cpp-executor.png", dpi=110)
    plt.close(fig)

    overheads = data["overheads"]
    if overheads:
        low, high = 0.6, 1.4
        fig, ax = plt.subplots(figsize=(7.5, 3.2))
        ratios = [o["throughput_on_over_off"] for o in overheads]
        bars = ax.barh([o["feature"] for o in overheads], ratios, color="#3572A5")
        ax.bar_label(bars, fmt="%.3f", fontsize=8, label_type="center", color="white")
        for y, o in enumerate(overheads):
            inside = [x for x in o["per_run"] if low <= x <= high]
            ax.plot(inside, [y] * len(inside), "k.", markersize=5)
            for x in o["per_run"]:
                if not low <= x <= high:  # an outlier run: marked at the edge with its value
                    edge = high if x > high else low
                    ax.annotate(f"{x:.2f}", (edge, y), xytext=(-4 if x > high else 4, 6),
                                textcoords="offset points", ha="right" if x > high else "left", fontsize=7)
                    ax.plot([edge], [y], "k>" if x > high else "k<", markersize=4)
        ax.axvline(1.0, color="#444444", linewidth=0.8)
        ax.set_xlim(low, high)
        ax.set_xlabel("throughput with the feature on / off (1 = no cost)")
        ax.set_title(f"1M empty tasks: median of {data['runs']} runs (bars), each run (dots)", fontsize=9)
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(OUT / "cpp-overheads.png", dpi=110)
        plt.close(fig)


# ------------------------------------------------------------------ Python

def run_python(python: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "bench.json"
        subprocess.run([python, "-m", "pytest", "tests/python/test_benchmarks.py", "--benchmark-only",
                        f"--benchmark-json={raw}", "-q", "-p", "no:cacheprovider"],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        data = json.loads(raw.read_text())
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=True).stdout.strip()
    keep = ("min", "max", "mean", "median", "stddev", "q1", "q3", "rounds")
    return {
        "python": version,
        "benchmarks": [{"group": b["group"], "name": b["name"],
                        "variant": b["name"].rsplit("_", 1)[-1],
                        "stats": {k: b["stats"][k] for k in keep}} for b in data["benchmarks"]],
    }


GROUP_TITLES = {
    "tiny-submit-all-wait-all": "50,000 empty tasks:\nsubmit all, then wait for all",
    "tiny-submit-then-get": "5,000 empty tasks:\nsubmit, then get, one by one",
    "sha256-4MiB-x16": "SHA-256 of 16 x 4 MiB\n(releases the GIL)",
}
ORDER = ["runtime", "threadpool", "serial"]
LABELS = {"runtime": "dftracer-utils", "threadpool": "ThreadPoolExecutor", "serial": "serial"}
COLOURS = {"runtime": "#3572A5", "threadpool": "#999999", "serial": "#cccccc"}


def python_tables(data: dict[str, Any]) -> None:
    groups: dict[str, dict[str, dict[str, float]]] = {}
    for b in data["benchmarks"]:
        groups.setdefault(b["group"], {})[b["variant"]] = b["stats"]
    with open(OUT / "python-benchmarks.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["benchmark", "variant", "median (ms)", "min (ms)", "max (ms)", "anchor / dftracer-utils"])
        for group in GROUP_TITLES:
            variants = groups.get(group, {})
            anchor = variants.get("threadpool") or variants.get("serial")
            for variant in ORDER:
                if variant not in variants:
                    continue
                s = variants[variant]
                ratio = f"{anchor['median'] / s['median']:.2f}" if anchor and variant == "runtime" else ""
                w.writerow([GROUP_TITLES[group].replace("\n", " "), LABELS[variant], f"{s['median'] * 1e3:.1f}",
                            f"{s['min'] * 1e3:.1f}", f"{s['max'] * 1e3:.1f}", ratio])


def python_figures(data: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    groups: dict[str, dict[str, dict[str, float]]] = {}
    for b in data["benchmarks"]:
        groups.setdefault(b["group"], {})[b["variant"]] = b["stats"]
    present = [g for g in GROUP_TITLES if g in groups]
    fig, axes = plt.subplots(1, len(present), figsize=(3.6 * len(present), 3.6))
    for ax, group in zip(axes, present, strict=True):
        variants = [v for v in ORDER if v in groups[group]]
        medians = [groups[group][v]["median"] * 1e3 for v in variants]
        low = [m - groups[group][v]["min"] * 1e3 for m, v in zip(medians, variants, strict=True)]
        high = [groups[group][v]["max"] * 1e3 - m for m, v in zip(medians, variants, strict=True)]
        bars = ax.bar([LABELS[v] for v in variants], medians, yerr=[low, high], capsize=3,
                      color=[COLOURS[v] for v in variants])
        ax.bar_label(bars, fmt="%.0f", fontsize=8, label_type="center", color="white")
        ax.set_title(GROUP_TITLES[group], fontsize=9)
        ax.set_ylabel("median time (ms), lower is better", fontsize=8)
        ax.tick_params(axis="x", labelsize=7, rotation=15)
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(f"Python (CPython {data['python']}), 2 compute threads; bars: median, whiskers: min-max",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT / "python-benchmarks.png", dpi=110)
    plt.close(fig)


# -------------------------------------------------------------------- main

def wait_for_quiet(max_load: float, patience: float) -> float:
    """Waits (up to `patience` seconds) until the 1-minute load average is
    below `max_load` and returns it; gives up, writing nothing, if the
    machine stays busy (numbers from a loaded machine mislead)."""
    import time

    deadline = time.monotonic() + patience
    load = os.getloadavg()[0]
    while load > max_load:
        if time.monotonic() >= deadline:
            raise SystemExit(f"collect: load average still {load:.2f} after {patience:.0f} s; "
                             "nothing measured (use --max-load to accept a busier machine)")
        print(f"collect: load average {load:.2f} > {max_load}; waiting for a quieter machine", flush=True)
        time.sleep(15)
        load = os.getloadavg()[0]
    return load


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, help="the executor_bench program (skip C++ when omitted)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with dftracer-utils, pytest and pytest-benchmark installed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7, help="rounds per run (the program's --repeat)")
    parser.add_argument("--runs", type=int, default=9, help="runs of the C++ program")
    parser.add_argument("--skip-python", action="store_true")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the tables and figures from the stored JSON; measure nothing")
    parser.add_argument("--max-load", type=float, default=1.0,
                        help="wait until the 1-minute load average is below this before measuring")
    parser.add_argument("--patience", type=float, default=600, help="seconds to wait for that, at most")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    OUT.mkdir(parents=True, exist_ok=True)

    if args.replot:
        cpp = json.loads((OUT / "cpp-bench.json").read_text())
        cpp_tables(cpp)
        cpp_figures(cpp)
        py = json.loads((OUT / "python-benchmarks.json").read_text())
        python_tables(py)
        python_figures(py)
        return 0

    info = machine()
    info["load_before"] = round(wait_for_quiet(args.max_load, args.patience), 2)
    if args.bench is not None:
        cpp = run_cpp(args.bench, args.threads, args.repeat, args.runs)
        (OUT / "cpp-bench.json").write_text(json.dumps(cpp, indent=2) + "\n")
        cpp_tables(cpp)
        cpp_figures(cpp)
    if not args.skip_python:
        py = run_python(args.python)
        info["python"] = py["python"]
        (OUT / "python-benchmarks.json").write_text(json.dumps(py, indent=2) + "\n")
        python_tables(py)
        python_figures(py)
    info["load_after"] = round(os.getloadavg()[0], 2)
    (OUT / "machine.json").write_text(json.dumps(info, indent=2) + "\n")
    with open(OUT / "machine.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        labels = {"date": "Date", "cpu": "CPU", "cores": "Cores", "os": "OS", "kernel": "Kernel",
                  "compiler": "C++ compiler", "python": "Python", "commit": "Commit"}
        for key, label in labels.items():
            if key in info:
                w.writerow([label, info[key]])
        w.writerow(["Load average (1 min)", f"{info['load_before']:.2f} before, {info['load_after']:.2f} after"])
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
