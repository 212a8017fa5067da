"""Traces written by the real tracer (PyPI ``dftracer``, installed with
``pip install --no-deps dftracer``; scripts/test-python.sh does), run under
its preload library in subprocesses: what the reader, the demo's indexer and
plot_timeline find in them."""

from __future__ import annotations

import collections
import gzip
import json
import os
import subprocess
import sys

import pytest

import dftracer.utils as dft
from dftracer.utils import traces

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
sys.path.insert(0, EXAMPLES)
import traced_run  # noqa: E402

RANKS, FILES, KIB = 2, 3, 64

pytestmark = pytest.mark.skipif(traced_run.find_preload() is None,
                                reason="DFTracer is not installed: pip install --no-deps dftracer")


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """(trace dir, data dir) after RANKS processes ran the workload under
    DFTracer, each exporting the runtime's trace beside it."""
    root = tmp_path_factory.mktemp("real")
    trace_dir, data_dir = str(root / "traces"), str(root / "data")
    procs = [traced_run.python_traced(os.path.join(EXAMPLES, "traced_workload.py"), data_dir, trace_dir, str(r),
                                      str(FILES), str(KIB), trace_dir=trace_dir) for r in range(RANKS)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    return trace_dir, data_dir


def independent_counts(trace_dir):
    """Complete events per category, counted with gzip + json directly."""
    counts: collections.Counter = collections.Counter()
    for name in os.listdir(trace_dir):
        path = os.path.join(trace_dir, name)
        if os.path.getsize(path) == 0:
            continue
        with gzip.open(path, "rt") as f:
            for line in f:
                event = json.loads(line)
                if event["ph"] in (1, "X"):
                    counts[event["cat"]] += 1
    return counts


def test_reader_counts_categories_paths_and_bytes(traced):
    trace_dir, data_dir = traced
    with dft.Runtime(threads=2, io_threads=2) as rt:
        found = traces.read_traces(trace_dir, runtime=rt)
    assert found.errors == []
    calls, files, categories = traces.summarize(found.events)
    assert categories == independent_counts(trace_dir)
    assert categories["POSIX"] > 0 and categories["python"] == RANKS * FILES * 3  # write, read, checksum tasks
    for rank in range(RANKS):
        for i in range(FILES):
            path = os.path.join(data_dir, f"rank{rank}-file{i}.dat")
            assert path in files, f"{path} not resolved from the FH metadata"
            ours = [e for e in found.events if e.get("path") == path]
            written = sum(traces.event_bytes(e) for e in ours if e["name"] == "write")
            read = sum(traces.event_bytes(e) for e in ours if e["name"] == "read")
            assert written == KIB * 1024 and read == KIB * 1024
    assert all(e.get("host") for e in found.events if e["cat"] == "POSIX")  # from the HH metadata


def test_the_runtimes_tasks_line_up_with_the_traced_calls(traced):
    trace_dir, data_dir = traced
    found = traces.read_traces(trace_dir)
    tasks = [e for e in found.events if e["cat"] == "python"]
    calls = [e for e in found.events if e["name"] == "write" and data_dir in e.get("path", "")]
    assert len(calls) == RANKS * FILES * KIB // 4
    for call in calls:  # each write ran inside a write task, on the same OS thread
        inside = [t for t in tasks if (t["pid"], t["tid"]) == (call["pid"], call["tid"])
                  and t["ts"] <= call["ts"] <= t["ts"] + t["dur"] and t["name"].startswith("write ")]
        assert inside, call
        assert "io pool" in found.threads[(call["pid"], call["tid"])]


def test_demo_indexes_a_folder_of_real_traces(traced, tmp_path):
    trace_dir, data_dir = traced
    demo = os.path.join(EXAMPLES, "trace_summary_demo.py")
    out = subprocess.run([sys.executable, demo, str(tmp_path), "--traces", trace_dir], capture_output=True,
                         text=True, timeout=180, check=True).stdout
    assert f"indexed {len(os.listdir(trace_dir))} trace files" in out
    assert ", 0 errors" in out
    assert "per call" in out and "per file" in out
    section = out.split("per file")[1].split("\n\n")[0].splitlines()[1:]
    assert section and all(line.strip().startswith(("/", "...")) for line in section)  # resolved paths, not hashes
    assert "python " in out.split("events by category:")[1].splitlines()[0]  # the runtime's own tasks
    assert "runtime-timeline.png" in out


def test_plot_timeline_draws_the_merged_trace(traced, tmp_path):
    pytest.importorskip("matplotlib")
    trace_dir, _ = traced
    ax = dft.plot_timeline(trace_dir, tmp_path / "merged.png")
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert sum("(io pool)" in r for r in rows) >= RANKS
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"POSIX", "python (io)", "python (compute)"} <= legend
    assert (tmp_path / "merged.png").stat().st_size > 5000
