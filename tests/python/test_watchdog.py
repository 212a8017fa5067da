"""The watchdog from Python: slow tasks, timeouts, stalls, deadlocks."""

from __future__ import annotations

import logging
import threading

import pytest

import dftracer.utils as dft

from conftest import GENEROUS, wait_until


class Collector:
    """Collects reports; wait_for(kind) blocks until one of that kind came."""

    def __init__(self) -> None:
        self.reports: list = []
        self._cond = threading.Condition()

    def __call__(self, report) -> None:
        with self._cond:
            self.reports.append(report)
            self._cond.notify_all()

    def wait_for(self, kind: str, timeout: float = GENEROUS):
        with self._cond:
            assert self._cond.wait_for(lambda: any(r.kind == kind for r in self.reports), timeout), \
                f"no {kind} report; got {[r.kind for r in self.reports]}"
            return next(r for r in self.reports if r.kind == kind)


def fast_watchdog(rt, **thresholds):
    settings = {"interval": 0.01, "slow": 0, "stall": 0, "deadlock": 0}
    settings.update(thresholds)
    return rt.configure_watchdog(**settings)


def test_defaults_and_configuration(rt):
    settings = rt.configure_watchdog()
    assert settings == {"interval": 0.25, "slow": 10.0, "stall": 30.0, "deadlock": 5.0, "enabled": True}
    assert rt.configure_watchdog(slow=2)["slow"] == 2
    with pytest.raises(ValueError):
        rt.configure_watchdog(slow=-1)
    with pytest.raises(TypeError):
        rt.configure_watchdog(stall="soon")
    assert rt.configure_watchdog(enabled=False)["enabled"] is False
    with pytest.raises(RuntimeError, match="watchdog is off"):
        rt.check_watchdog()
    with pytest.raises(ValueError, match="watchdog"):
        rt.options(timeout=1).submit(print)
    assert rt.configure_watchdog(enabled=True)["enabled"] is True


def test_a_refused_watchdog_setting_changes_nothing(rt):
    before = rt.configure_watchdog()
    for key in ("interval", "slow", "stall", "deadlock"):
        with pytest.raises(ValueError, match=f"{key} must be at most"):
            rt.configure_watchdog(**{key: 1e300})
    with pytest.raises(TypeError, match="enabled must be a bool"):
        rt.configure_watchdog(slow=1, enabled="yes")
    assert rt.configure_watchdog() == before  # still on, nothing stored


def test_reading_the_watchdog_settings_does_not_restart_it(rt):
    # A restart forgets how long a task has been slow, or a deadlock being
    # confirmed: polling the settings must not cause one.
    watchdog = rt._watchdog
    rt.configure_watchdog()
    rt.configure_watchdog(slow=10.0)  # the value it has
    assert rt._watchdog is watchdog
    rt.configure_watchdog(slow=9.0)
    assert rt._watchdog is not watchdog


def test_shutdown_in_a_watchdog_callback_lets_the_watchdog_time_the_task_out():
    rt = dft.Runtime(threads=1)
    rt.configure_watchdog(interval=0.02, slow=0.1, stall=0, deadlock=0)
    rt.add_watchdog_callback(lambda report: rt.shutdown())

    def polite():
        while not dft.stop_requested():
            threading.Event().wait(0.01)

    handle = rt.options(timeout=0.5).submit(polite)
    with pytest.raises(dft.TaskTimeoutError):
        handle.get(timeout=GENEROUS)
    rt.shutdown()
    assert rt.is_shutdown


def test_slow_task_reported_with_python_stack_and_logged(rt, caplog):
    fast_watchdog(rt, slow=0.05)
    seen = Collector()
    rt.add_watchdog_callback(seen)
    release = threading.Event()

    def read_from_dead_filesystem():
        release.wait(GENEROUS)

    with caplog.at_level(logging.WARNING, logger="dftracer.utils"):
        h = rt.submit(read_from_dead_filesystem)
        report = seen.wait_for("slow")
        release.set()
        h.get()
    assert report.task_name == "read_from_dead_filesystem"
    assert report.task_id == h.id
    assert report.elapsed >= 0.05
    assert report.pool == "compute"
    assert "read_from_dead_filesystem" in (report.python_stack or "")
    assert any("read_from_dead_filesystem" in r.getMessage() for r in caplog.records)


def test_slow_reports_escalate_by_doubling(rt):
    fast_watchdog(rt, slow=0.02)
    seen = Collector()
    rt.add_watchdog_callback(seen)
    release = threading.Event()
    h = rt.submit(release.wait, GENEROUS, name="stuck")

    def enough():
        return sum(r.kind == "slow" and r.task_id == h.id for r in seen.reports) >= 3

    with seen._cond:
        assert seen._cond.wait_for(enough, GENEROUS)
    release.set()
    elapsed = [r.elapsed for r in seen.reports if r.kind == "slow" and r.task_id == h.id][:3]
    assert elapsed[1] >= 2 * 0.02 and elapsed[2] >= 4 * 0.02
    assert elapsed[0] < elapsed[1] < elapsed[2]


def test_timeout_fails_handle_and_requests_stop(rt):
    fast_watchdog(rt)
    seen = Collector()
    rt.add_watchdog_callback(seen)
    stopped = threading.Event()

    def polls_for_stop():
        while not dft.stop_requested():
            stopped.wait(0.001)
        stopped.set()
        return "ignored"

    h = rt.options(timeout=0.05).submit(polls_for_stop)
    with pytest.raises(dft.TaskTimeoutError) as info:
        h.get(timeout=GENEROUS)
    assert isinstance(info.value, TimeoutError)
    assert h.state == "failed"
    assert stopped.wait(GENEROUS), "the task never saw stop_requested()"
    assert seen.wait_for("timeout").task_id == h.id
    rt.wait_all()
    assert rt.get_failed()[0].id == h.id


def test_stall_reported(rt1):
    fast_watchdog(rt1, stall=0.05)
    seen = Collector()
    rt1.add_watchdog_callback(seen)
    started, release = threading.Event(), threading.Event()

    def hog():
        started.set()
        release.wait(GENEROUS)

    rt1.submit(hog)
    assert started.wait(GENEROUS)
    rt1.submit(print, "waiting in line")
    report = seen.wait_for("stall")
    release.set()
    assert report.pool == "compute"
    assert report.task_name == "hog"


def test_deadlock_reported_with_cycle():
    rt = dft.Runtime(threads=2, io_threads=1)
    fast_watchdog(rt, deadlock=0.05)
    seen = Collector()
    rt.add_watchdog_callback(seen)
    handles: dict = {}
    both_ready = threading.Barrier(3)

    def first():
        both_ready.wait()
        return handles["second"].get(timeout=3)

    def second():
        both_ready.wait()
        return handles["first"].get(timeout=3)

    handles["first"] = rt.submit(first)
    handles["second"] = rt.submit(second)
    both_ready.wait()
    report = seen.wait_for("deadlock")
    assert sorted(report.cycle) == sorted([handles["first"].id, handles["second"].id])
    # The waits time out, which ends the deadlock: nothing is left hanging.
    for h in handles.values():
        with pytest.raises(TimeoutError):
            h.get(timeout=GENEROUS)
    rt.shutdown()


def test_callback_errors_are_logged_and_removal_works(rt, caplog):
    fast_watchdog(rt, slow=0.02)
    seen = Collector()

    def broken(report):
        raise RuntimeError("callback bug")

    token = rt.add_watchdog_callback(broken)
    rt.add_watchdog_callback(seen)
    release = threading.Event()
    with caplog.at_level(logging.ERROR, logger="dftracer.utils"):
        rt.submit(release.wait, GENEROUS)
        seen.wait_for("slow")
        release.set()
        rt.wait_all()
    assert any("callback" in r.getMessage() and r.exc_info for r in caplog.records)
    assert rt.remove_watchdog_callback(token)
    assert not rt.remove_watchdog_callback(token)
    with pytest.raises(TypeError):
        rt.add_watchdog_callback(42)


def test_check_watchdog_runs_one_pass(rt1):
    rt1.configure_watchdog(interval=0, slow=0.001, stall=0, deadlock=0)
    started, release = threading.Event(), threading.Event()

    def busy():
        started.set()
        release.wait(GENEROUS)

    rt1.submit(busy)
    assert started.wait(GENEROUS)
    # Each call is one pass; the first ones may come before the task has run
    # for 1 ms. The first pass that reports anything reports it as slow.
    reports = []
    try:
        assert wait_until(lambda: bool(reports.extend(rt1.check_watchdog()) or reports))
    finally:
        release.set()
    assert [r.kind for r in reports] == ["slow"]
    assert reports[0].task_name == "busy"


def test_callback_may_shut_the_runtime_down():
    from conftest import run_python

    result = run_python(
        """
        import threading
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        rt.configure_watchdog(interval=0.01, slow=0.02)
        release = threading.Event()
        def on_report(report):
            rt.configure_watchdog(slow=5)   # recreates the watchdog from its own thread
            release.set()
        rt.add_watchdog_callback(on_report)
        rt.submit(release.wait, 30)
        assert release.wait(30)
        rt.shutdown()
        print("clean")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "clean" in result.stdout


def test_deadlock_across_two_runtimes_is_reported_by_each():
    # A task of one runtime waits for a task of another, which waits back:
    # each runtime's only worker is blocked, and each watchdog follows the
    # wait into the other runtime.
    first, second = dft.Runtime(threads=1, io_threads=1), dft.Runtime(threads=1, io_threads=1)
    seen = {}
    for name, rt in (("first", first), ("second", second)):
        fast_watchdog(rt, deadlock=0.05)
        seen[name] = Collector()
        rt.add_watchdog_callback(seen[name])
    handles: dict = {}
    both_ready = threading.Barrier(3)

    def a():
        both_ready.wait()
        return handles["b"].get(timeout=5)

    def b():
        both_ready.wait()
        return handles["a"].get(timeout=5)

    handles["a"] = first.submit(a, name="a")
    handles["b"] = second.submit(b, name="b")
    both_ready.wait()
    for name, own, other in (("first", "a", "b"), ("second", "b", "a")):
        report = seen[name].wait_for("deadlock")
        assert report.cycle == [handles[own].id, handles[other].id]
        assert f"'{other}' of executor" in report.message
    for h in handles.values():
        with pytest.raises(TimeoutError):
            h.get(timeout=GENEROUS)
    first.shutdown()
    second.shutdown()


def test_nested_waits_across_two_runtimes_help_and_finish():
    # a (first) waits for b (second), which waits for c queued on first:
    # first's only worker runs c while it waits, so nothing deadlocks.
    first, second = dft.Runtime(threads=1), dft.Runtime(threads=1)
    h = first.submit(lambda: second.submit(lambda: first.submit(lambda: 7).get()).get())
    assert h.get(timeout=GENEROUS) == 7
    first.shutdown()
    second.shutdown()
