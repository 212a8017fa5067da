"""Trace export, the progress bar and the timeline picture."""

from __future__ import annotations

import gzip
import io
import json
import os
import sys
import zlib

import pytest

import dftracer.utils as dft
from dftracer.utils import _progress


def run_some(rt, n=60):
    def work(i):
        if i % 10 == 0:
            raise ValueError(f"bad {i}")
        return sum(range(i * 100))

    handles = [rt.submit(work, i, name=f"work-{i}") for i in range(n)]
    handles.append(rt.submit_io(len, "x", name="io-task"))
    rt.wait_all()
    return handles


def check_events(events, rt, handles):
    workers = {w["id"]: w for w in rt.get_progress()["workers"]}
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert set(names) <= {w["os_thread"] for w in workers.values()}  # workers started later are not named
    assert all("pool)" in n for n in names.values())
    by_id = {}
    for e in (e for e in events if e["ph"] != "M"):
        assert e["ph"] == "X"
        assert e["pid"] == os.getpid()
        assert e["ts"] > 1_600_000_000_000_000  # microseconds since the epoch, as DFTracer
        assert e["id"] not in by_id, "a task appears twice"
        by_id[e["id"]] = e
    assert set(by_id) == {h.id for h in handles}
    progress = {t["id"]: t for t in rt.get_progress()["tasks"]}
    for h in handles:
        e = by_id[h.id]
        t = progress[h.id]
        assert e["args"]["worker"] == t["worker"]
        assert e["tid"] == workers[t["worker"]]["os_thread"]  # the OS thread, as DFTracer records it
        assert e["tid"] in names  # every worker that ran a task is named
        assert e["name"] == h.name
        assert e["cat"] == "python"
        assert e["args"]["state"] == h.state
        assert abs(e["dur"] / 1000 - t["execution_duration_ms"]) < 0.01
        if h.state == "failed":
            assert "ValueError: bad" in e["args"]["error"]


def test_chrome_json(rt, tmp_path):
    handles = run_some(rt)
    rt.export_trace(tmp_path / "run.json")
    doc = json.loads((tmp_path / "run.json").read_text())
    check_events(doc["traceEvents"], rt, handles)


@pytest.mark.parametrize("suffix", [".pfw", ".pfw.gz"])
def test_pfw_json_lines(rt, tmp_path, suffix):
    handles = run_some(rt)
    path = tmp_path / f"run{suffix}"
    rt.export_trace(str(path))
    opener = gzip.open if suffix.endswith(".gz") else open
    with opener(path, "rt") as f:
        lines = f.read().splitlines()
    events = [json.loads(line) for line in lines]  # DFTracer 2.x: one object per line, no brackets
    check_events(events, rt, handles)
    if suffix.endswith(".gz"):
        assert path.read_bytes()[:2] == b"\x1f\x8b"


def test_pfw_gz_is_gzip_members_on_line_boundaries(tmp_path):
    with dft.Runtime(threads=2, history=20000) as rt:
        for i in range(12000):
            rt.submit(int, name=f"task-{i:06d}-" + "x" * 400)  # > 1 MiB however many the history keeps
        rt.wait_all()
        rt.export_trace(tmp_path / "run.pfw.gz")
        recorded = rt._core.render_trace("pfw").count('"ph":"X"')
    data = (tmp_path / "run.pfw.gz").read_bytes()
    members = []
    while data:
        inflater = zlib.decompressobj(31)
        members.append(inflater.decompress(data))
        data = inflater.unused_data
    assert len(members) >= 2, "a large trace is written as several gzip members"
    assert all(m.endswith(b"\n") for m in members)
    assert recorded > 4000
    assert sum(m.count(b'"ph":"X"') for m in members) == recorded


def test_export_rejects_unknown_suffix(rt, tmp_path):
    with pytest.raises(ValueError, match=".json, .pfw or .pfw.gz"):
        rt.export_trace(tmp_path / "run.txt")


def test_recording_off_keeps_counts():
    rt = dft.Runtime(threads=1, history=0)
    for _ in range(10):
        rt.submit(int)
    rt.wait_all()
    assert rt.get_progress()["completed"] == 10
    events = json.loads(rt._core.render_trace("chrome"))["traceEvents"]
    assert [e for e in events if e["ph"] != "M"] == []
    rt.shutdown()


def test_plain_progress_bar(rt, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    monkeypatch.setattr(_progress, "make_bar", lambda: _progress._PlainBar(stream))
    for i in range(200):
        rt.submit(pow, i, 2)
    rt.submit(lambda: 1 / 0)
    rt.wait_all(progress=True)
    text = stream.getvalue()
    assert "201/201 tasks" in text
    assert "| 1 failed |" in text
    assert text.endswith("\n")


def test_tqdm_progress_bar(rt):
    tqdm = pytest.importorskip("tqdm")
    stream = io.StringIO()
    bar = _progress._TqdmBar(tqdm.tqdm, stream)
    for i in range(50):
        rt.submit(pow, i, 2)
    assert _progress.wait_with_bar(rt._core.wait_all, rt._core.counts, None, bar)
    assert "50/50" in stream.getvalue()


def test_make_bar_falls_back_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert isinstance(_progress.make_bar(io.StringIO()), _progress._PlainBar)


def test_timeline_picture(rt, tmp_path):
    pytest.importorskip("matplotlib")
    run_some(rt)
    png = tmp_path / "timeline.png"
    ax = rt.plot_timeline(png)
    assert png.stat().st_size > 1000
    assert len(ax.get_yticks()) >= 1
    rt.export_trace(tmp_path / "run.pfw.gz")
    dft.plot_timeline(tmp_path / "run.pfw.gz", tmp_path / "again.png")
    assert (tmp_path / "again.png").exists()


def test_workers_report_their_os_thread_id(rt):
    import threading

    handles = [rt.submit(threading.get_native_id) for _ in range(20)]
    rt.wait_all()
    workers = {w["id"]: w["os_thread"] for w in rt.get_progress()["workers"]}
    tasks = {t["id"]: t["worker"] for t in rt.get_progress()["tasks"]}
    for h in handles:
        assert h.get() == workers[tasks[h.id]]  # what DFTracer records as tid on that thread
