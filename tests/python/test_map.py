"""Runtime.map and TaskOptions.map: bounded, ordered or not, fail-stop."""

from __future__ import annotations

import threading

import pytest

import dftracer.utils as dft

from conftest import GENEROUS


class Source:
    """An iterable that records how far it was pulled."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.pulled = 0

    def __iter__(self):
        for i in range(self.n):
            self.pulled += 1
            yield i


def test_unbounded_map_submits_everything_at_the_call(rt):
    source = Source(50)
    results = rt.map(abs, source)
    assert source.pulled == 50
    assert list(results) == list(range(50))


def test_buffersize_pulls_lazily_and_bounds_tasks_in_flight(rt):
    source = Source(1000)
    in_flight, peak = 0, 0
    lock = threading.Lock()

    def work(i):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        with lock:
            in_flight -= 1
        return i

    results = rt.map(work, source, buffersize=8)
    assert source.pulled == 8
    total = 0
    for taken, value in enumerate(results, start=1):
        assert value == taken - 1
        # Submitted = taken + what is in flight, never more than buffersize ahead.
        assert source.pulled <= taken + 8
        total += 1
    assert total == 1000 and peak <= 8


def test_unordered_yields_as_tasks_finish(rt):
    release = threading.Event()

    def work(i):
        if i == 0:
            assert release.wait(GENEROUS)
        return i

    results = rt.map(work, range(4), ordered=False, buffersize=4)
    firsts = {next(results) for _ in range(3)}
    assert firsts == {1, 2, 3}
    release.set()
    assert next(results) == 0


def test_failure_stops_pulling_and_cancels_queued(rt1):
    source = Source(100)
    gate = threading.Event()
    seen = []

    def work(i):
        seen.append(i)
        if i == 0:
            raise KeyError("first")
        assert gate.wait(GENEROUS) if i == 1 else True
        return i

    results = rt1.map(work, source, buffersize=5)
    with pytest.raises(KeyError):
        next(results)
    gate.set()
    rt1.wait_all(timeout=GENEROUS)
    assert source.pulled == 5  # nothing pulled after the failure
    assert len(seen) < 5  # queued calls were cancelled, not run


def _close(results):
    results.close()


def _drop(results):
    import gc

    del results  # the caller keeps no reference either
    gc.collect()


@pytest.mark.parametrize("stop", [_close, _drop], ids=["closed", "garbage-collected"])
def test_stopping_early_cancels_what_is_queued(rt1, stop):
    started, gate = threading.Event(), threading.Event()
    ran = []

    def work(i):
        ran.append(i)
        if i == 0:
            started.set()
            assert gate.wait(GENEROUS)
        return i

    results = rt1.map(work, range(10), buffersize=5)
    assert started.wait(GENEROUS)
    holder = [results]
    del results
    stop(holder.pop())
    gate.set()
    rt1.wait_all(timeout=GENEROUS)
    assert ran == [0]


def test_timeout_counts_from_the_call(rt):
    gate = threading.Event()
    results = rt.map(lambda _: gate.wait(GENEROUS), [1], timeout=0.01)
    with pytest.raises(TimeoutError):
        next(results)
    gate.set()


def test_several_iterables_stop_at_the_shortest(rt):
    assert list(rt.map(pow, [1, 2, 3], [2, 2], buffersize=1)) == [1, 4]


@pytest.mark.parametrize("kwargs, error", [
    ({"buffersize": 0}, ValueError),
    ({"buffersize": -3}, ValueError),
    ({"buffersize": True}, TypeError),
    ({"buffersize": "8"}, TypeError),
    ({"timeout": -1}, ValueError),
    ({"ordered": "yes"}, TypeError),
    ({"name": 3}, TypeError),
])
def test_bad_arguments_fail_at_the_call(rt, kwargs, error):
    source = Source(3)
    with pytest.raises(error):
        rt.map(abs, source, **kwargs)
    assert source.pulled == 0


def test_not_iterable_or_not_callable_fail_at_the_call(rt):
    with pytest.raises(TypeError):
        rt.map(abs, 42)
    with pytest.raises(TypeError):
        rt.map(42, [1])


def test_options_map_uses_the_pool(rt):
    pools = list(rt.options(pool="io").map(lambda _: dft.current_task_id() and "ran", range(3), buffersize=2))
    assert pools == ["ran"] * 3
    names = {t["pool"] for t in rt.get_progress()["tasks"] if t["name"] == ""}
    assert names == {"io"}

