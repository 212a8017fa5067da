"""Measure the benchmarks shown on the Performance page and draw its figures.

Runs the C++ benchmark program (benchmarks/executor_bench.cpp, built with the
project) and the pytest-benchmark suite (tests/python/test_benchmarks.py)
against an installed dftracer-utils, then writes into docs/_static/perf/:

* ``machine.json`` / ``machine.csv`` -- where and when it ran;
* ``cpp-bench.txt`` -- the C++ program's tables, every run;
* ``cpp-bench.json`` -- its runs pooled (every side's median, the median of
  per-round ratios against each anchor with their spread) and every run's
  own JSON report (``executor_bench --json``);
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

CPP_SCHEMA = "executor_bench/2"  # what the program writes with --json
CPP_SUMMARY_SCHEMA = "collect-cpp/2"  # what this script writes to cpp-bench.json
OURS_COLOUR, ANCHOR_COLOURS = "#3572A5", ["#999999", "#cccccc", "#666666"]


def _spread(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarise_cpp(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Pools the program's runs (each its --json report).

    Per side: the median time over every round of every run. Per pair (ours
    against an anchor): the median of the per-round ratios (anchor time / our
    time, > 1: ours faster) pooled over all runs, the min-max of the runs' own
    medians (``spread``: how much a whole run moves) and of single rounds.
    Overheads likewise, with per-round throughput ratios off / on. Idle CPU:
    the median over runs."""
    first = reports[0]
    for report in reports:
        if report.get("schema") != CPP_SCHEMA:
            raise SystemExit(f"collect: executor_bench wrote schema {report.get('schema')!r}, "
                             f"this script reads {CPP_SCHEMA!r}")
    workloads = []
    for w in first["workloads"]:
        runs = [next(x for x in r["workloads"] if x["id"] == w["id"]) for r in reports]
        sides = []
        for side in w["sides"]:
            per_run = [next(s for s in run["sides"] if s["name"] == side["name"]) for run in runs]
            pooled = [ms for s in per_run for ms in s["rounds_ms"]]
            sides.append({"name": side["name"], "ours": side["ours"], "median_ms": statistics.median(pooled),
                          "run_medians_ms": [s["median_ms"] for s in per_run]})
        ratios = []
        for q in w["ratios"]:
            per_run = [next(x for x in run["ratios"] if (x["ours"], x["anchor"]) == (q["ours"], q["anchor"]))
                       for run in runs]
            pooled = [x for run_q in per_run for x in run_q["rounds"]]
            run_medians = [run_q["median"] for run_q in per_run]
            ratios.append({"ours": q["ours"], "anchor": q["anchor"], "median": statistics.median(pooled),
                           "spread": [min(run_medians), max(run_medians)],
                           "rounds_range": [min(pooled), max(pooled)], "run_medians": run_medians})
        workloads.append({"id": w["id"], "label": w["label"], "title": w["title"], "sides": sides,
                          "ratios": ratios})
    overheads = []
    for o in first["overheads"]:
        per_run = [next(x for x in r["overheads"] if x["feature"] == o["feature"]) for r in reports]
        pooled = [off / on for x in per_run for off, on in zip(x["off_rounds_ms"], x["on_rounds_ms"], strict=True)]
        overheads.append({
            "feature": o["feature"],
            "off_ms": statistics.median([ms for x in per_run for ms in x["off_rounds_ms"]]),
            "on_ms": statistics.median([ms for x in per_run for ms in x["on_rounds_ms"]]),
            "throughput_on_over_off": statistics.median(pooled),
            "per_run": [round(x["throughput_on_over_off"], 3) for x in per_run],
        })
    idle = None
    if all("idle" in r for r in reports):
        cpu_ms = statistics.median(r["idle"]["cpu_ms"] for r in reports)
        idle = {"cpu_ms": cpu_ms, "percent_of_one_core": statistics.median(
            r["idle"]["percent_of_one_core"] for r in reports)}
    return {"schema": CPP_SUMMARY_SCHEMA, "threads": first["threads"], "repeat": first["rounds"],
            "runs": len(reports), "contenders": first["contenders"], "missing": first["missing"],
            "workloads": workloads, "overheads": overheads, "idle": idle, "per_run": reports}


def run_cpp(bench: Path, threads: int, repeat: int, runs: int) -> dict[str, Any]:
    """Runs the program `runs` times (each interleaves every side round by
    round) and pools the runs with summarise_cpp()."""
    outputs, reports = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            path = Path(tmp) / f"run-{i}.json"
            result = subprocess.run([str(bench), "--threads", str(threads), "--repeat", str(repeat),
                                     "--json", str(path)], capture_output=True, text=True, check=True)
            outputs.append(result.stdout)
            reports.append(json.loads(path.read_text()))
    (OUT / "cpp-bench.txt").write_text("\n".join(outputs))
    return summarise_cpp(reports)


def _empty_task_count(title: str) -> int | None:
    count = re.match(r"(\d+) empty tasks", title)
    return int(count.group(1)) if count else None


def cpp_tables(data: dict[str, Any]) -> None:
    names = data["contenders"]
    pairs = [(q["ours"], q["anchor"]) for q in data["workloads"][0]["ratios"]] if data["workloads"] else []
    with open(OUT / "cpp-executor.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        header = ["benchmark"] + [f"{n} (ms)" for n in names]
        for ours, anchor in pairs:
            header += [f"{anchor} / {ours}", "spread over runs"]
        w.writerow(header)
        for wl in data["workloads"]:
            by_name = {s["name"]: s for s in wl["sides"]}
            row = [f"({wl['label']}) {wl['title']}"]
            row += [f"{by_name[n]['median_ms']:.2f}" if n in by_name else "" for n in names]
            for ours, anchor in pairs:
                q = next((q for q in wl["ratios"] if (q["ours"], q["anchor"]) == (ours, anchor)), None)
                row += [f"{q['median']:.2f}", f"{q['spread'][0]:.2f}-{q['spread'][1]:.2f}"] if q else ["", ""]
            w.writerow(row)
        tail = [""] * (len(header) - 2)
        if data.get("idle"):
            w.writerow(["(d) idle executor, CPU ms over 1 s", f"{data['idle']['cpu_ms']:.3f}",
                        *tail[:-1], f"{data['idle']['percent_of_one_core']:.3f}% of one core"])
        for wl in data["workloads"]:
            tasks = _empty_task_count(wl["title"])
            if wl["id"] == "empty" and tasks:
                by_name = {s["name"]: s for s in wl["sides"]}
                w.writerow(["per empty task, from (a)"]
                           + [f"{by_name[n]['median_ms'] * 1e6 / tasks:.0f} ns" if n in by_name else ""
                              for n in names] + [""] * (2 * len(pairs)))
    with open(OUT / "cpp-overheads.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feature", "off (ms)", "on (ms)", "throughput on / off", "each run"])
        for o in data["overheads"]:
            w.writerow([o["feature"], f"{o['off_ms']:.2f}", f"{o['on_ms']:.2f}",
                        f"{o['throughput_on_over_off']:.3f}", " ".join(f"{x:.3f}" for x in o["per_run"])])


def cpp_figures(data: dict[str, Any]) -> None:
    import matplotlib.pyplot as plt

    workloads = data["workloads"]
    if workloads:
        cols = min(4, len(workloads))
        rows = (len(workloads) + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.6 * rows), squeeze=False)
        for ax, wl in zip(list(axes.flat)[: len(workloads)], workloads, strict=True):
            names = [s["name"] for s in wl["sides"]]
            anchors = iter(ANCHOR_COLOURS * len(wl["sides"]))
            colours = [OURS_COLOUR if s["ours"] else next(anchors) for s in wl["sides"]]
            bars = ax.bar(names, [s["median_ms"] for s in wl["sides"]], color=colours)
            ax.bar_label(bars, fmt="%.1f", fontsize=8)
            ratios = "\n".join(f"{q['anchor']}/{q['ours']}: {q['median']:.2f}x "
                               f"[{q['spread'][0]:.2f}-{q['spread'][1]:.2f}]" for q in wl["ratios"])
            ax.set_title(f"({wl['label']}) {wl['title']}\n{ratios}", fontsize=8)
            ax.set_ylabel("median time (ms), lower is better", fontsize=8)
            ax.tick_params(labelsize=8)
        for ax in list(axes.flat)[len(workloads):]:
            ax.axis("off")
        fig.suptitle(f"C++ executor vs its anchors ({data['threads']} threads; {data['runs']} runs of "
                     f"{data['repeat']} interleaved rounds; ratio: median of per-round ratios, "
                     f"[min-max of the runs' medians], > 1: dftracer-utils faster)", fontsize=9)
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
        ax.set_title(f"Empty tasks (a): median of per-round ratios over {data['runs']} runs (bars), "
                     "each run's median (dots)", fontsize=9)
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
    global OUT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", type=Path, help="the executor_bench program (skip C++ when omitted)")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter with dftracer-utils, pytest and pytest-benchmark installed")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=7, help="rounds per run (the program's --repeat)")
    parser.add_argument("--runs", type=int, default=9, help="runs of the C++ program")
    parser.add_argument("--skip-python", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder for the results (default: the one the Performance page shows)")
    parser.add_argument("--replot", action="store_true",
                        help="redraw the tables and figures from the stored JSON; measure nothing")
    parser.add_argument("--max-load", type=float, default=1.0,
                        help="wait until the 1-minute load average is below this before measuring")
    parser.add_argument("--patience", type=float, default=600, help="seconds to wait for that, at most")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    OUT = args.out
    OUT.mkdir(parents=True, exist_ok=True)

    if args.replot:
        cpp = json.loads((OUT / "cpp-bench.json").read_text())
        if cpp.get("schema") == CPP_SUMMARY_SCHEMA:
            cpp_tables(cpp)
            cpp_figures(cpp)
        else:  # written by an older collect.py, from an executor_bench without --json
            print("collect: cpp-bench.json predates the interleaved anchors; run with --bench to redo it")
        if (OUT / "python-benchmarks.json").exists():
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
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
