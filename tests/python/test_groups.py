"""Task groups: structured waiting, fail-fast, nesting, progress."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest

import dftracer.utils as dft

from conftest import GENEROUS

if sys.version_info < (3, 11):
    from exceptiongroup import ExceptionGroup


def run_until_stopped(started: threading.Event, stopped: list) -> None:
    """A task body that polls stop_requested(), as long tasks should."""
    started.set()
    while not dft.stop_requested():
        threading.Event().wait(0.001)
    stopped.append(True)


def test_leaving_the_block_waits_for_the_group_only(rt):
    outside_release = threading.Event()
    outside = rt.submit(outside_release.wait, GENEROUS)
    with rt.group() as group:
        handles = [group.submit(pow, i, 2) for i in range(20)]
    assert all(h.done() for h in handles)
    assert [h.get() for h in handles] == [i * i for i in range(20)]
    assert not outside.done()  # the group did not wait for the whole runtime
    outside_release.set()


def test_tasks_added_by_group_tasks_are_waited_for(rt):
    with rt.group() as group:
        inner = []

        def spawn(n):
            inner.extend(group.submit(abs, -i) for i in range(n))

        group.submit(spawn, 5)
    assert len(inner) == 5 and all(h.done() for h in inner)


def test_first_failure_cancels_queued_and_stops_running_siblings(rt1):
    started = threading.Event()
    saw_stop = []

    def fail():
        assert started.wait(GENEROUS)
        raise ValueError("boom")

    with pytest.raises(ExceptionGroup) as info:
        with rt1.group("fail-fast") as group:
            runner = group.submit_io(run_until_stopped, started, saw_stop)
            failing = group.submit(fail)
            queued = [group.submit(abs, -i) for i in range(5)]
    assert [type(e) for e in info.value.exceptions] == [ValueError]
    assert "fail-fast" in str(info.value)
    assert saw_stop == [True] and runner.state == "completed"
    assert failing.state == "failed"
    assert all(h.state in ("cancelled", "completed") for h in queued)
    assert any(h.cancelled() for h in queued)


def test_every_failure_is_collected(rt):
    with pytest.raises(ExceptionGroup) as info:
        with rt.group() as group:
            barrier = threading.Barrier(2)

            def fail(kind):
                barrier.wait(GENEROUS)
                raise kind("x")

            group.submit(fail, KeyError)
            group.submit(fail, OSError)
    assert sorted(type(e).__name__ for e in info.value.exceptions) == ["KeyError", "OSError"]


def test_exception_in_the_block_stops_the_group_and_is_included(rt1):
    gate = threading.Event()
    with pytest.raises(ExceptionGroup) as info:
        with rt1.group() as group:
            blocker = group.submit(gate.wait, GENEROUS)
            queued = group.submit(abs, -1)
            gate.set()
            raise RuntimeError("in the block")
    assert isinstance(info.value.exceptions[0], RuntimeError)
    assert blocker.done() and queued.done()


def test_keyboard_interrupt_in_the_block_is_not_wrapped(rt):
    with pytest.raises(KeyboardInterrupt):
        with rt.group() as group:
            group.submit(abs, 1)
            raise KeyboardInterrupt


def test_groups_nest_inside_tasks_on_one_thread(rt1):
    def parent(depth):
        if depth == 0:
            return 1
        with rt1.group() as inner:
            handles = [inner.submit(parent, depth - 1) for _ in range(2)]
        return sum(h.get() for h in handles)

    with rt1.group() as outer:
        top = outer.submit(parent, 4)
    assert top.get() == 16


def test_outer_failure_stops_inner_groups(rt):
    inner_started = threading.Event()
    stopped = []

    def with_inner_group():
        with rt.group("inner") as inner:
            inner.submit_io(run_until_stopped, inner_started, stopped)

    def fail():
        assert inner_started.wait(GENEROUS)
        raise ValueError("outer failure")

    with pytest.raises(ExceptionGroup):
        with rt.group("outer") as outer:
            outer.submit_io(with_inner_group)
            outer.submit(fail)
    assert stopped == [True]


def test_group_shows_in_progress(rt):
    release = threading.Event()
    with rt.group("indexing") as group:
        handle = group.submit(release.wait, GENEROUS, name="index-1")
        progress = rt.get_progress()
        [listed] = [g for g in progress["groups"] if g["name"] == "indexing"]
        assert listed["total"] == 1 and listed["done"] == 0
        [task] = [t for t in progress["tasks"] if t["id"] == handle.id]
        assert task["group"] == "indexing"
        release.set()
    assert not [g for g in rt.get_progress()["groups"] if g["name"] == "indexing"]
    loose = rt.submit(abs, 1)
    loose.wait()
    [task] = [t for t in rt.get_progress()["tasks"] if t["id"] == loose.id]
    assert task["group"] is None


def test_submit_outside_the_block_is_refused(rt):
    group = rt.group()
    with pytest.raises(RuntimeError, match="not open"):
        group.submit(abs, 1)
    with group:
        pass
    with pytest.raises(RuntimeError, match="not open"):
        group.submit(abs, 1)
    with pytest.raises(RuntimeError, match="already entered"):
        with group:
            pass


def test_bad_name_is_refused(rt):
    with pytest.raises(TypeError):
        rt.group(3)


def test_async_with_waits_without_blocking_the_loop(rt):
    async def main():
        ticks = 0
        release = threading.Event()

        async def ticker():
            # Releases the task only if the loop keeps running while the
            # block's exit waits for it.
            nonlocal ticks
            while ticks < 10:
                ticks += 1
                await asyncio.sleep(0)
            release.set()

        tick_task = asyncio.ensure_future(ticker())
        async with rt.group() as group:
            handle = group.submit(lambda: release.wait(GENEROUS) and "done")
        await tick_task
        return handle.get(), ticks

    value, ticks = asyncio.run(main())
    assert value == "done" and ticks == 10


def test_async_with_raises_the_exception_group(rt):
    async def main():
        async with rt.group() as group:
            group.submit(lambda: 1 / 0)

    with pytest.raises(ExceptionGroup) as info:
        asyncio.run(main())
    assert isinstance(info.value.exceptions[0], ZeroDivisionError)


def test_repr(rt):
    with rt.group("r") as group:
        group.submit(abs, 1)
        assert repr(group).startswith("<TaskGroup 'r' open tasks=1")
    assert "closed" in repr(group)
