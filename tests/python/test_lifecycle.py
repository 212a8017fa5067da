"""Default runtime, shutdown, interpreter exit and fork()."""

from __future__ import annotations

import os
import threading
from concurrent.futures import CancelledError

import pytest

import dftracer.utils as dft

from conftest import GENEROUS, run_python, wait_until


def test_default_runtime_is_lazy_and_thread_safe():
    previous = dft.set_default_runtime(None)
    try:
        assert dft.peek_default_runtime() is None
        seen = []
        barrier = threading.Barrier(8)

        def grab():
            barrier.wait()
            seen.append(dft.get_default_runtime())

        threads = [threading.Thread(target=grab) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({id(r) for r in seen}) == 1
        assert dft.peek_default_runtime() is seen[0]
        mine = dft.Runtime(threads=1)
        assert dft.set_default_runtime(mine) is seen[0]
        assert dft.get_default_runtime() is mine
        with pytest.raises(TypeError):
            dft.set_default_runtime("runtime")
        seen[0].shutdown()
        mine.shutdown()
    finally:
        dft.set_default_runtime(previous)


def test_shutdown_cancel_pending(rt1):
    started, release = threading.Event(), threading.Event()

    def blocker():
        started.set()
        release.wait(GENEROUS)
        return "finished"

    running = rt1.submit(blocker)
    assert started.wait(GENEROUS)
    queued = [rt1.submit(print, i) for i in range(10)]
    t = threading.Thread(target=rt1.shutdown, kwargs={"cancel_pending": True})
    t.start()
    # Queued tasks are cancelled at once, while the running one still runs.
    assert wait_until(lambda: all(h.done() for h in queued))
    assert not running.done()
    release.set()
    t.join(GENEROUS)
    assert running.get() == "finished"
    assert all(h.state == "cancelled" for h in queued)
    with pytest.raises(RuntimeError, match="Runtime is shut down"):
        rt1.submit(print)
    rt1.shutdown()  # twice is fine


def test_shutdown_cancel_pending_cancels_a_coroutine_that_would_never_end():
    rt = dft.Runtime(threads=1, io_threads=1)
    started = threading.Event()

    async def waits_forever():
        import asyncio
        started.set()
        await asyncio.Event().wait()

    handle = rt.submit(waits_forever)
    assert started.wait(GENEROUS)
    t = threading.Thread(target=rt.shutdown, kwargs={"cancel_pending": True}, daemon=True)
    t.start()
    t.join(GENEROUS)
    assert not t.is_alive(), "shutdown(cancel_pending=True) waited for a suspended coroutine"
    with pytest.raises(CancelledError):
        handle.get(timeout=GENEROUS)


def test_runtime_collected_without_shutdown_ends_its_event_loop_thread():
    import gc

    async def one():
        return 1

    before = {t for t in threading.enumerate() if t.name == "dftracer-asyncio"}
    for _ in range(3):
        rt = dft.Runtime(threads=1, io_threads=1, watchdog=False)
        assert rt.submit(one).get(timeout=GENEROUS) == 1
        del rt
    gc.collect()
    assert wait_until(lambda: {t for t in threading.enumerate() if t.name == "dftracer-asyncio"} <= before)


def test_failures_during_the_exit_drain_are_reported():
    # The fan-out of composing.rst, left running as the script ends: its
    # inner submits are refused (intake stops at exit) and it fails after
    # nobody can look at its handle any more.
    result = run_python(
        """
        import threading
        import dftracer.utils as dft
        rt = dft.Runtime(threads=2, io_threads=1)
        go = threading.Event()
        def parse_file(n):
            go.wait()
            return sum(rt.submit(abs, -i).get() for i in range(n))
        rt.submit(parse_file, 10, name="parse_file")
        threading.Timer(0.2, go.set).start()
        """
    )
    assert result.returncode == 0, result.stderr
    assert "1 task(s) failed during interpreter exit" in result.stderr
    assert "parse_file" in result.stderr and "Runtime is shut down" in result.stderr


def test_shutdown_from_inside_a_task(rt):
    assert rt.submit(rt.shutdown).get(timeout=GENEROUS) is None
    assert rt.is_shutdown


def test_interpreter_exit_runs_queued_work_to_the_end(tmp_path):
    out = tmp_path / "out.txt"
    result = run_python(
        f"""
        import time
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        def write(i):
            time.sleep(0.001)
            with open({str(out)!r}, "a") as f:
                f.write(f"{{i}}\\n")
        for i in range(200):
            rt.submit(write, i)
        dft.get_default_runtime().submit(write, 999)
        print("exiting with work queued")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "Fatal" not in result.stderr and "Traceback" not in result.stderr
    lines = out.read_text().split()
    assert len(lines) == 201


def test_exit_while_tasks_raise_and_callbacks_fail():
    result = run_python(
        """
        import dftracer.utils as dft
        rt = dft.Runtime(threads=2)
        rt.set_error_callback(lambda h, e: 1 / 0)
        for i in range(100):
            rt.submit(lambda: [][1])
        """
    )
    assert result.returncode == 0, result.stderr
    assert "Fatal" not in result.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
@pytest.mark.skipif("libtsan" in os.environ.get("LD_PRELOAD", ""),
                    reason="ThreadSanitizer does not support fork() in a process with threads")
def test_fork_child_gets_fresh_default_and_parent_runtime_errors():
    result = run_python(
        """
        import os, sys
        import dftracer.utils as dft
        parent_rt = dft.get_default_runtime()
        assert parent_rt.submit(lambda: 1).get() == 1
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                parent_rt.submit(print)
                code = 10
            except RuntimeError as e:
                if "fork" not in str(e):
                    code = 11
            child_rt = dft.get_default_runtime()
            if child_rt is parent_rt:
                code = 12
            elif child_rt.submit(lambda: 41 + 1).get(timeout=30) != 42:
                code = 13
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print("child exit", os.waitstatus_to_exitcode(status))
        print("parent still works", parent_rt.submit(lambda: 2).get())
        """
    )
    assert result.returncode == 0, result.stderr
    assert "child exit 0" in result.stdout
    assert "parent still works 2" in result.stdout


def test_memory_flat_over_many_batches(rt):
    import resource

    def rss_kb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    for _ in range(2):  # warm up pools and caches
        for _ in range(20_000):
            rt.submit(int)
        rt.wait_all()
    before = rss_kb()
    for _ in range(10):
        for _ in range(20_000):
            rt.submit(int)
        rt.wait_all()
    growth_mb = (rss_kb() - before) / 1024
    assert rt.get_progress(max_queued=0)["completed"] == 240_000
    assert growth_mb < 64, f"peak RSS grew {growth_mb:.1f} MB over 200,000 tasks"


def test_python_objects_are_released(rt):
    import gc
    import weakref

    class Payload:
        pass

    payload = Payload()
    ref = weakref.ref(payload)
    h = rt.submit(lambda p: None, payload)
    h.get()
    del payload
    gc.collect()
    assert ref() is None, "the task kept its argument alive after finishing"
    result = rt.submit(Payload).get()
    ref = weakref.ref(result)
    del result, h
    gc.collect()
    assert ref() is None, "a finished task's result outlived its handle"


def test_runtime_dropped_inside_its_own_task_does_not_crash():
    result = run_python(
        """
        import threading
        import dftracer.utils as dft
        done = threading.Event()
        def start():
            rt = dft.Runtime(threads=1, watchdog=False)
            def step():
                done.set()
                return "last reference goes with this closure"
            rt.submit(step)
        start()
        assert done.wait(30)
        import gc; gc.collect()
        print("survived")
        """
    )
    assert result.returncode == 0, result.stderr
    assert "survived" in result.stdout


def test_shutdown_inside_a_task_with_coroutines_in_flight_exits_cleanly():
    result = run_python(
        """
        import asyncio
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        async def later():
            await asyncio.sleep(0.05)
            return 1
        handles = [rt.submit(later) for _ in range(5)]
        rt.submit(rt.shutdown).get(timeout=30)
        assert rt.is_shutdown
        print([h.get(timeout=30) for h in handles])
        """
    )
    assert result.returncode == 0, result.stderr
    assert "[1, 1, 1, 1, 1]" in result.stdout


def test_infinite_timeouts_mean_no_timeout(rt):
    assert rt.submit(lambda: 5).get(timeout=float("inf")) == 5
    rt.wait_all(timeout=float("inf"))
    with pytest.raises(ValueError):
        rt.submit(int).get(timeout=float("nan"))
