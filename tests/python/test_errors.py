"""Errors are never lost: original exceptions, tracebacks, callbacks."""

from __future__ import annotations

import logging
import sys
import threading
import traceback

import pytest

from conftest import GENEROUS


class TraceError(Exception):
    pass


def deep_failure():
    raise TraceError("line 7 is not JSON")


def test_original_exception_and_traceback(rt):
    h = rt.submit(deep_failure)
    with pytest.raises(TraceError) as info:
        h.get()
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "deep_failure" in frames
    assert h.exception is info.value
    assert h.state == "failed"


def test_wait_also_raises(rt):
    h = rt.submit(deep_failure)
    with pytest.raises(TraceError):
        h.wait()


@pytest.mark.parametrize("exc", [SystemExit(3), KeyboardInterrupt(), GeneratorExit()])
def test_base_exceptions_do_not_kill_workers(rt1, exc):
    def raiser():
        raise exc

    h = rt1.submit(raiser)
    with pytest.raises(type(exc)):
        h.get()
    # The single worker survived.
    assert rt1.submit(lambda: "alive").get(timeout=GENEROUS) == "alive"


def test_sys_exit_in_task(rt1):
    h = rt1.submit(sys.exit, 4)
    with pytest.raises(SystemExit) as info:
        h.get()
    assert info.value.code == 4
    assert rt1.submit(lambda: 1).get() == 1


def test_failed_handles_stay_until_cleared(rt):
    for i in range(5):
        rt.submit(deep_failure, name=f"bad-{i}")
    rt.submit(lambda: None)
    rt.wait_all()
    assert sorted(h.name for h in rt.get_failed()) == [f"bad-{i}" for i in range(5)]
    assert rt.get_failed() == rt.get_failed()
    rt.clear_failed()
    assert rt.get_failed() == []
    rt.wait_all(raise_on_error=True)  # nothing left to report


def test_strict_message_lists_names_and_messages(rt):
    rt.submit(deep_failure, name="parse-a")
    rt.submit(lambda: 1 / 0, name="div")
    with pytest.raises(RuntimeError) as info:
        rt.wait_all(raise_on_error=True)
    text = str(info.value)
    assert text.startswith("2 task(s) failed: ")
    assert "parse-a: TraceError: line 7 is not JSON" in text
    assert "div: ZeroDivisionError: division by zero" in text


def test_error_callback_runs_before_wait_all_returns(rt):
    calls = []
    gate = threading.Event()

    def slow_callback(h, e):
        gate.wait(0.05)  # even a slow callback has run when wait_all returns
        calls.append((h.name, type(e).__name__))

    rt.set_error_callback(slow_callback)
    for i in range(20):
        rt.submit(deep_failure, name=f"t{i}")
    rt.wait_all()
    assert len(calls) == 20
    assert all(kind == "TraceError" for _, kind in calls)


def test_error_callback_exception_is_logged_not_fatal(rt, caplog):
    def broken(h, e):
        raise RuntimeError("callback bug")

    rt.set_error_callback(broken)
    with caplog.at_level(logging.ERROR, logger="dftracer.utils"):
        rt.submit(deep_failure, name="victim")
        rt.wait_all()
    assert any("victim" in r.getMessage() and r.exc_info for r in caplog.records)
    assert rt.submit(lambda: 2).get() == 2
    assert len(rt.get_failed()) == 1


def test_error_callback_cleared_and_validated(rt):
    calls = []
    rt.set_error_callback(lambda h, e: calls.append(h))
    rt.set_error_callback(None)
    rt.submit(deep_failure)
    rt.wait_all()
    assert calls == []
    with pytest.raises(TypeError):
        rt.set_error_callback("not callable")


def test_fifty_thousand_tasks_ten_percent_failing(rt):
    def work(i):
        if i % 10 == 0:
            raise ValueError(i)
        return i

    handles = [rt.submit(work, i) for i in range(50_000)]
    rt.wait_all(timeout=120)
    p = rt.get_progress(max_queued=0)
    assert p["total"] == 50_000
    assert p["failed"] == 5_000
    assert p["completed"] == 45_000
    assert p["running"] == p["queued"] == 0
    failed = rt.get_failed()
    assert len(failed) == 5_000
    assert sorted(h.exception.args[0] for h in failed) == list(range(0, 50_000, 10))
    assert sum(h.state == "completed" for h in handles) == 45_000
