"""Waits never deadlock, release the GIL, time out, and obey Ctrl-C."""

from __future__ import annotations

import hashlib
import threading

import pytest

from conftest import GENEROUS, run_python


def test_nested_submit_and_wait_many_levels_on_one_thread(rt1):
    def nest(depth):
        if depth == 0:
            return 0
        return rt1.submit(nest, depth - 1).get() + 1

    assert rt1.submit(nest, 60).get(timeout=GENEROUS) == 60


def test_nested_waits_alternating_between_pools_on_one_thread_each(rt1):
    # Past the depth at which a waiting worker runs only its own children,
    # the task it must run next was submitted by the other pool's worker.
    def step(depth):
        if depth == 0:
            return 0
        submit = rt1.submit_io if depth % 2 else rt1.submit
        return submit(step, depth - 1).get() + 1

    assert rt1.submit(step, 40).get(timeout=GENEROUS) == 40


def test_nested_waits_through_coroutine_tasks(rt):
    # A plain task waits for a coroutine task, which awaits a plain task,
    # and so on: the coroutines' submits come from the event loop's thread.
    def plain(depth):
        return 0 if depth == 0 else rt.submit(awaiting, depth - 1).get() + 1

    async def awaiting(depth):
        return 0 if depth == 0 else (await rt.submit(plain, depth - 1)) + 1

    assert rt.submit(plain, 60).get(timeout=GENEROUS) == 60


def test_fan_out_inside_tasks_on_one_thread(rt1):
    def leaf(i):
        return i

    def middle(i):
        return sum(rt1.submit(leaf, i * 10 + k).get() for k in range(10))

    def top():
        handles = [rt1.submit(middle, i) for i in range(10)]
        return sum(h.get() for h in handles)

    assert rt1.submit(top).get(timeout=GENEROUS) == sum(range(100))


def test_wait_all_inside_a_task_does_not_wait_for_itself(rt1):
    out = []

    def parent():
        for i in range(10):
            rt1.submit(out.append, i)
        rt1.wait_all()
        return len(out)

    assert rt1.submit(parent).get(timeout=GENEROUS) == 10


def test_wait_all_timeout(rt):
    release = threading.Event()
    rt.submit(release.wait, GENEROUS)
    with pytest.raises(TimeoutError):
        rt.wait_all(timeout=0.05)
    release.set()
    rt.wait_all(timeout=GENEROUS)


def test_waits_release_the_gil(rt):
    # A task spins in Python until the main thread, blocked in get(), would
    # have to give up the GIL for it to finish.
    flag = threading.Event()

    def spinner():
        while not flag.is_set():
            pass
        return "ok"

    h = rt.submit(spinner)
    t = threading.Thread(target=flag.set)
    t.start()
    assert h.get(timeout=GENEROUS) == "ok"
    t.join()


def test_gil_releasing_work_runs_in_parallel_threads(rt):
    data = bytes(1 << 20)
    digests = list(rt.map(lambda b: hashlib.sha256(b).hexdigest(), [data] * 8))
    assert len(set(digests)) == 1


def test_ctrl_c_interrupts_get_quickly():
    result = run_python(
        """
        import os, signal, threading, time
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        release = threading.Event()
        h = rt.submit(release.wait, 60)
        def interrupt():
            time.sleep(0.2)
            global sent
            sent = time.monotonic()
            os.kill(os.getpid(), signal.SIGINT)
        threading.Thread(target=interrupt).start()
        try:
            h.get()
        except KeyboardInterrupt:
            print(f"interrupted after {time.monotonic() - sent:.3f}s")
        release.set()
        rt.shutdown()
        """
    )
    assert result.returncode == 0, result.stderr
    assert "interrupted after" in result.stdout
    latency = float(result.stdout.split("after ")[1].rstrip("s\n"))
    print("Ctrl-C latency:", latency)  # by design at most one 100 ms wait slice


def test_ctrl_c_interrupts_wait_all():
    result = run_python(
        """
        import os, signal, threading, time
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        release = threading.Event()
        rt.submit(release.wait, 60)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            rt.wait_all()
        except KeyboardInterrupt:
            print("interrupted")
        release.set()
        """
    )
    assert result.returncode == 0, result.stderr
    assert "interrupted" in result.stdout


def test_ctrl_c_interrupts_shutdown_and_a_second_shutdown_finishes_it():
    result = run_python(
        """
        import os, signal, threading, time
        import dftracer.utils as dft
        rt = dft.Runtime(threads=1)
        release = threading.Event()
        rt.submit(release.wait, 60)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        start = time.monotonic()
        try:
            rt.shutdown()
        except KeyboardInterrupt:
            print(f"interrupted after {time.monotonic() - start:.1f} s")
        release.set()
        rt.shutdown()
        print("shut down:", rt.is_shutdown)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "interrupted after" in result.stdout
    assert "shut down: True" in result.stdout
