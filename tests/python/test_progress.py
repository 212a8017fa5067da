"""get_progress(): exact counts, live workers and tasks, bounded history."""

from __future__ import annotations

import threading

import dftracer.utils as dft

from conftest import GENEROUS


def test_live_view_while_busy(rt1):
    started, release = threading.Event(), threading.Event()

    def iter_lines():
        started.set()
        release.wait(GENEROUS)

    rt1.submit(iter_lines)
    assert started.wait(GENEROUS)
    queued = [rt1.submit(print, i, name=f"queued-{i}") for i in range(3)]
    p = rt1.get_progress()
    assert (p["total"], p["running"], p["queued"], p["completed"], p["failed"]) == (4, 1, 3, 0, 0)
    compute = [w for w in p["workers"] if w["pool"] == "compute"]
    assert len(compute) == 1
    assert compute[0]["idle"] is False
    assert compute[0]["task"] == "iter_lines"
    assert compute[0]["running_ms"] >= 0
    names = {t["name"]: t["state"] for t in p["tasks"]}
    assert names["iter_lines"] == "running"
    assert names["queued-0"] == "queued"
    release.set()
    rt1.wait_all()
    for h in queued:
        assert h.done()
    p = rt1.get_progress()
    assert p["completed"] == 4 and p["running"] == 0 and p["queued"] == 0
    assert all(w["idle"] for w in p["workers"])


def test_counts_add_up_and_errors_listed(rt):
    def bad():
        raise KeyError("missing column")

    for i in range(30):
        rt.submit(bad if i % 3 == 0 else int, name=f"t{i}")
    rt.wait_all()
    p = rt.get_progress()
    assert p["total"] == p["completed"] + p["failed"] + p["cancelled"] + p["running"] + p["queued"]
    assert p["failed"] == 10
    assert len(p["errors"]) == 10
    assert all("missing column" in e["error"] for e in p["errors"])


def test_history_is_bounded():
    rt = dft.Runtime(threads=2, history=32)
    for _ in range(5000):
        rt.submit(int)
    rt.wait_all()
    p = rt.get_progress()
    assert p["completed"] == 5000
    assert len(p["tasks"]) <= 32
    rt.shutdown()


def test_tasks_have_timings(rt):
    h = rt.submit(sum, range(100000), name="summing")
    h.get()
    rt.wait_all()
    task = next(t for t in rt.get_progress()["tasks"] if t["id"] == h.id)
    assert task["execution_duration_ms"] > 0
    assert task["queued_duration_ms"] >= 0
    assert task["worker"] in range(rt.threads)
    assert task["pool"] == "compute"
