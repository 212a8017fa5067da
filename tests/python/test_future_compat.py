"""TaskHandle speaks the concurrent.futures vocabulary; dftracer.utils.wait
and as_completed behave like concurrent.futures', over handles and futures."""

from __future__ import annotations

import concurrent.futures
import threading

import pytest

import dftracer.utils as dft

from conftest import GENEROUS


def blocked(rt, name="blocked"):
    started, release = threading.Event(), threading.Event()

    def body():
        started.set()
        assert release.wait(GENEROUS)
        return name

    handle = rt.submit(body, name=name)
    assert started.wait(GENEROUS)
    return handle, release


# ------------------------------------------------------------------- handles

def test_result_running_cancelled(rt):
    handle, release = blocked(rt)
    assert handle.running() and not handle.done() and not handle.cancelled()
    with pytest.raises(TimeoutError):
        handle.result(timeout=0.01)
    release.set()
    assert handle.result(timeout=GENEROUS) == "blocked"
    assert not handle.running()


def test_cancelled_handle(rt1):
    handle, release = blocked(rt1)
    queued = rt1.submit(abs, -1)
    assert queued.cancel()
    assert queued.cancelled() and queued.done() and not queued.running()
    with pytest.raises(concurrent.futures.CancelledError):
        queued.result()
    release.set()


def test_as_future_settles_with_the_task(rt):
    handle, release = blocked(rt)
    future = handle.as_future()
    assert isinstance(future, concurrent.futures.Future)
    assert future.running()
    assert future.cancel() is False  # started: cannot be cancelled
    release.set()
    assert future.result(GENEROUS) == "blocked"
    failing = rt.submit(lambda: 1 / 0).as_future()
    assert isinstance(failing.exception(GENEROUS), ZeroDivisionError)


def test_as_future_cancel_cancels_the_queued_task(rt1):
    handle, release = blocked(rt1)
    queued = rt1.submit(abs, -1)
    future = queued.as_future()
    assert future.cancel() is True
    assert queued.cancelled() and future.cancelled()
    done, _ = concurrent.futures.wait([future], timeout=GENEROUS)
    assert done == {future}
    release.set()


def test_as_future_works_with_concurrent_futures_functions(rt):
    futures = [rt.submit(pow, i, 2).as_future() for i in range(20)]
    finished = list(concurrent.futures.as_completed(futures, timeout=GENEROUS))
    assert sorted(f.result() for f in finished) == [i * i for i in range(20)]


# ---------------------------------------------------------------------- wait

def test_wait_all_completed(rt):
    handles = [rt.submit(pow, i, 2) for i in range(50)]
    done, not_done = dft.wait(handles, timeout=GENEROUS)
    assert done == set(handles) and not not_done


def test_wait_first_completed_returns_before_the_slow_one(rt):
    slow, release = blocked(rt)
    fast = rt.submit(abs, -1)
    done, not_done = dft.wait([slow, fast], timeout=GENEROUS, return_when=dft.FIRST_COMPLETED)
    assert fast in done and not_done == {slow}
    release.set()


def test_wait_first_exception(rt):
    slow, release = blocked(rt)
    bad = rt.submit(lambda: 1 / 0)
    done, not_done = dft.wait([slow, bad], timeout=GENEROUS, return_when=dft.FIRST_EXCEPTION)
    assert bad in done and slow in not_done
    release.set()


def test_wait_timeout_returns_what_finished(rt):
    slow, release = blocked(rt)
    done, not_done = dft.wait([slow], timeout=0.01)
    assert not done and not_done == {slow}
    release.set()


def test_wait_mixes_handles_and_futures(rt):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(abs, -2)
        handle = rt.submit(abs, -3)
        done, _ = dft.wait([future, handle], timeout=GENEROUS)
        assert done == {future, handle}


@pytest.mark.parametrize("bad, error", [
    ([1], TypeError),
    (None, TypeError),
])
def test_wait_refuses_what_is_not_waitable(bad, error):
    with pytest.raises(error):
        dft.wait(bad)


def test_wait_refuses_a_single_handle_and_bad_return_when(rt):
    handle = rt.submit(abs, 1)
    with pytest.raises(TypeError, match="iterable"):
        dft.wait(handle)
    with pytest.raises(ValueError, match="return_when"):
        dft.wait([handle], return_when="SOMETIMES")
    with pytest.raises(ValueError):
        dft.wait([handle], timeout=-1)


# -------------------------------------------------------------- as_completed

def test_as_completed_yields_each_once_in_finishing_order(rt):
    slow, release = blocked(rt)
    fast = [rt.submit(abs, -i) for i in range(10)]
    stream = dft.as_completed([slow, *fast, fast[0]])
    first_ten = [next(stream) for _ in range(10)]
    assert set(first_ten) == set(fast)
    release.set()
    assert list(stream) == [slow]


def test_as_completed_timeout(rt):
    slow, release = blocked(rt)
    stream = dft.as_completed([slow], timeout=0.01)
    with pytest.raises(TimeoutError, match="1 \\(of 1\\)"):
        next(stream)
    release.set()


def test_as_completed_checks_arguments_at_the_call():
    with pytest.raises(TypeError):
        dft.as_completed([object()])
    with pytest.raises(ValueError):
        dft.as_completed([], timeout=-1)


def test_as_completed_mixed_with_futures(rt):
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        items = [pool.submit(abs, -1), rt.submit(abs, -2), pool.submit(abs, -3)]
        assert sorted(i.result() for i in dft.as_completed(items, timeout=GENEROUS)) == [1, 2, 3]


def test_waits_inside_a_task_help_on_one_thread(rt1):
    # One worker: the waiting task must run its children itself.
    def parent():
        children = [rt1.submit(pow, i, 2) for i in range(5)]
        streamed = sorted(h.get() for h in dft.as_completed(children, timeout=GENEROUS))
        more = [rt1.submit(abs, -i) for i in range(5)]
        done, _ = dft.wait(more, timeout=GENEROUS, return_when=dft.FIRST_COMPLETED)
        return streamed, len(done) >= 1

    assert rt1.submit(parent).get(GENEROUS) == ([0, 1, 4, 9, 16], True)
