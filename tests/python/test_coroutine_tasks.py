"""Coroutine tasks (issue 19): the event loop survives any outcome, the
cooperative API reaches coroutines, shutdown cancels what is left, and no
coroutine leaks. Anything that hung before its fix runs in a subprocess."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import warnings

import pytest

import dftracer.utils as dft

from conftest import GENEROUS, run_python

# --------------------------------------------------------------- point 1


@pytest.mark.parametrize("raise_it", ["sys.exit(3)", "raise KeyboardInterrupt"],
                         ids=["SystemExit", "KeyboardInterrupt"])
def test_base_exception_in_coroutine_fails_the_task_and_keeps_the_loop(raise_it):
    result = run_python(
        f"""
        import sys
        import dftracer.utils as dft
        rt = dft.Runtime(threads=2)
        async def quit_():
            {raise_it}
        handle = rt.submit(quit_)
        try:
            handle.get(timeout=20)
        except (SystemExit, KeyboardInterrupt) as e:
            print("raised", type(e).__name__, handle.state)
        async def fine():
            return 42
        print("later", rt.submit(fine).get(timeout=20))
        rt.shutdown()
        print("shut down")
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    kind = "SystemExit" if "exit" in raise_it else "KeyboardInterrupt"
    assert f"raised {kind} failed" in result.stdout
    assert "later 42" in result.stdout
    assert "shut down" in result.stdout


# --------------------------------------------------------------- point 4


def test_current_task_id_inside_a_coroutine(rt):
    async def whoami() -> int:
        return dft.current_task_id()

    handle = rt.submit(whoami)
    assert handle.get(timeout=GENEROUS) == handle.id != 0


def test_stop_requested_reaches_a_coroutine(rt):
    running = threading.Event()

    async def poll() -> str:
        running.set()
        while not dft.stop_requested():
            await asyncio.sleep(0.001)
        return "stopped"

    handle = rt.submit(poll)
    assert running.wait(GENEROUS)
    assert not dft.stop_requested()  # outside any task
    handle.request_stop()
    assert handle.get(timeout=GENEROUS) == "stopped"


def test_timeout_sets_stop_requested_in_a_coroutine(rt):
    stopped = threading.Event()

    async def poll() -> None:
        while not dft.stop_requested():
            await asyncio.sleep(0.001)
        stopped.set()

    handle = rt.options(timeout=0.05).submit(poll)
    with pytest.raises(dft.TaskTimeoutError):
        handle.get(timeout=GENEROUS)
    assert stopped.wait(GENEROUS)


def test_wait_all_inside_a_coroutine_does_not_wait_for_itself():
    result = run_python(
        """
        import threading
        import dftracer.utils as dft
        rt = dft.Runtime(threads=2)
        gate = threading.Event()
        def work():
            gate.wait(20)
            return "work"
        async def waiter():
            sync = rt.submit(work)
            gate.set()
            rt.wait_all(timeout=20)
            return sync.done()
        print("waited", rt.submit(waiter).get(timeout=30))
        rt.shutdown()
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "waited True" in result.stdout


# --------------------------------------------------------------- point 5


def test_shutdown_cancels_a_timed_out_coroutine_and_runs_its_finally():
    result = run_python(
        """
        import asyncio, threading
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        started = threading.Event()
        async def slow():
            started.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                print("cancelled inside")
                raise
            finally:
                print("finally ran")
        handle = rt.options(timeout=0.05).submit(slow)
        try:
            handle.get(timeout=20)
        except dft.TaskTimeoutError:
            print("timed out")
        rt.shutdown()
        print("shut down")
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["timed", "out", "cancelled", "inside", "finally", "ran", "shut", "down"]
    assert "destroyed but it is pending" not in result.stderr


# --------------------------------------------------------------- point 9


@pytest.mark.parametrize("how", ["cancel", "shutdown"])
def test_cancelled_queued_coroutine_is_closed(how):
    runtime = dft.Runtime(threads=1, io_threads=1)
    gate = threading.Event()
    blocker = runtime.submit(gate.wait, GENEROUS)

    async def never() -> int:
        return 1

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handle = runtime.submit(never)
        if how == "cancel":
            assert handle.cancel()
            gate.set()
            blocker.get(timeout=GENEROUS)
            runtime.shutdown()
        else:
            runtime.shutdown(wait=False, cancel_pending=True)
            gate.set()
            runtime.shutdown()
        assert handle.state == "cancelled"
        del handle
        gc.collect()
    assert not [w for w in caught if "never awaited" in str(w.message)]


# -------------------------------------------------------------- point 10


def test_await_from_a_loop_closed_since_is_silent():
    runtime = dft.Runtime(threads=1, io_threads=1)
    gate = threading.Event()
    handle = runtime.submit(gate.wait, GENEROUS)
    reported: list[object] = []

    async def give_up() -> None:
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(handle, 0.01)

    previous = sys.unraisablehook
    sys.unraisablehook = reported.append
    try:
        asyncio.run(give_up())  # returns: its loop is closed
        gate.set()
        runtime.shutdown()  # joins the workers: every done callback has run
    finally:
        sys.unraisablehook = previous
    assert reported == []


def test_wait_all_in_a_coroutine_skips_other_coroutines_in_flight():
    result = run_python(
        """
        import asyncio, threading
        import dftracer.utils as dft
        rt = dft.Runtime(threads=2)
        parked = threading.Event()
        box = {}
        async def parked_until_released():
            box["loop"], box["release"] = asyncio.get_running_loop(), asyncio.Event()
            parked.set()
            await box["release"].wait()  # in flight: frozen while wait_all blocks the loop
            return "released"
        async def waiter():
            rt.wait_all(timeout=20)
            return "waited"
        other = rt.submit(parked_until_released)
        parked.wait(20)
        print(rt.submit(waiter).get(timeout=30), other.state)
        box["loop"].call_soon_threadsafe(box["release"].set)
        print(other.get(timeout=20))
        rt.shutdown()
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["waited", "running", "released"]


def test_shutdown_from_inside_a_coroutine_task_returns_and_finishes():
    result = run_python(
        """
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        async def stop_it():
            rt.shutdown()  # cannot wait for itself: returns at once
            return rt.is_shutdown
        print("inside", rt.submit(stop_it).get(timeout=20))
        rt.shutdown()
        print("outside done")
        """,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "inside True" in result.stdout
    assert "outside done" in result.stdout
