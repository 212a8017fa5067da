"""RuntimeExecutor keeps the concurrent.futures.Executor contract.

The cases follow the ideas of CPython's test_concurrent_futures for
ThreadPoolExecutor (submit, keywords, map, timeouts, cancel, shutdown,
context manager, callbacks, stale references), run against the adapter.
Blocking is done with events; nothing sleeps and hopes.
"""

from __future__ import annotations

import concurrent.futures
import gc
import threading
import weakref

import pytest

import dftracer.utils as dft

from conftest import GENEROUS


@pytest.fixture
def executor(rt):
    ex = rt.as_executor()
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


@pytest.fixture
def one_thread_executor(rt1):
    ex = rt1.as_executor()
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


def mul(x, y):
    return x * y


def capture(*args, **kwargs):
    return args, kwargs


class Gate:
    """A call that reports when it started and runs until opened."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, value=None):
        self.started.set()
        assert self.release.wait(GENEROUS)
        return value


# ---------------------------------------------------------------- submitting

def test_submit_returns_a_standard_future(executor):
    future = executor.submit(pow, 2, 8)
    assert isinstance(future, concurrent.futures.Future)
    assert future.result(GENEROUS) == 256


def test_every_keyword_reaches_the_callable(executor):
    # fn= and name= are the callable's keywords, not the executor's.
    future = executor.submit(capture, 1, 2, name="n", fn="f", timeout=3)
    assert future.result(GENEROUS) == ((1, 2), {"name": "n", "fn": "f", "timeout": 3})


def test_fn_is_positional_only(executor):
    with pytest.raises(TypeError):
        executor.submit(fn=capture)


def test_not_callable_is_refused_at_the_call(executor):
    with pytest.raises(TypeError, match="callable"):
        executor.submit(42)


def test_exception_reaches_the_future(executor):
    future = executor.submit(mul, "a", object())
    with pytest.raises(TypeError):
        future.result(GENEROUS)
    assert isinstance(future.exception(GENEROUS), TypeError)


def test_done_callback_runs_with_the_future(executor):
    seen = []
    done = threading.Event()

    def record(f):
        seen.append(f.result())
        done.set()

    executor.submit(mul, 6, 7).add_done_callback(record)
    assert done.wait(GENEROUS)
    assert seen == [42]


# ------------------------------------------------------- running and cancel

def test_running_while_the_call_runs_and_cancel_fails(executor):
    gate = Gate()
    future = executor.submit(gate, "v")
    assert gate.started.wait(GENEROUS)
    assert future.running()
    assert not future.done()
    assert future.cancel() is False
    assert not future.cancelled()
    gate.release.set()
    assert future.result(GENEROUS) == "v"
    assert not future.running()


def test_cancel_before_start_succeeds_and_the_call_never_runs(one_thread_executor):
    gate = Gate()
    blocker = one_thread_executor.submit(gate)
    assert gate.started.wait(GENEROUS)
    ran = threading.Event()
    queued = one_thread_executor.submit(ran.set)
    assert not queued.running()
    assert queued.cancel() is True
    assert queued.cancelled()
    with pytest.raises(concurrent.futures.CancelledError):
        queued.result(GENEROUS)
    gate.release.set()
    blocker.result(GENEROUS)
    one_thread_executor.shutdown(wait=True)
    assert not ran.is_set()


def test_cancelled_future_is_reported_by_wait_and_as_completed(one_thread_executor):
    gate = Gate()
    blocker = one_thread_executor.submit(gate)
    assert gate.started.wait(GENEROUS)
    queued = one_thread_executor.submit(abs, -1)
    assert queued.cancel()
    done, not_done = concurrent.futures.wait([queued], timeout=GENEROUS)
    assert done == {queued}
    assert list(concurrent.futures.as_completed([queued], timeout=GENEROUS)) == [queued]
    gate.release.set()
    assert blocker.result(GENEROUS) is None


# ------------------------------------------------------------------ shutdown

def test_submit_after_shutdown_raises(executor):
    executor.shutdown()
    with pytest.raises(RuntimeError, match="after shutdown"):
        executor.submit(abs, 1)


def test_shutdown_waits_for_running_and_queued_calls(one_thread_executor):
    gate = Gate()
    first = one_thread_executor.submit(gate, 1)
    second = one_thread_executor.submit(abs, -2)
    assert gate.started.wait(GENEROUS)
    threading.Timer(0.0, gate.release.set).start()
    one_thread_executor.shutdown(wait=True)
    assert first.done() and second.done()
    assert (first.result(), second.result()) == (1, 2)


def test_shutdown_cancel_futures_cancels_what_has_not_started(one_thread_executor):
    gate = Gate()
    running = one_thread_executor.submit(gate, "kept")
    assert gate.started.wait(GENEROUS)
    queued = [one_thread_executor.submit(abs, -i) for i in range(5)]
    one_thread_executor.shutdown(wait=False, cancel_futures=True)
    assert all(f.cancelled() for f in queued)
    assert not running.cancelled()
    gate.release.set()
    assert running.result(GENEROUS) == "kept"


def test_shutdown_is_safe_against_concurrent_submits(rt):
    ex = rt.as_executor()
    accepted, refused = [], []
    barrier = threading.Barrier(5)

    def submitter():
        barrier.wait(GENEROUS)
        for i in range(200):
            try:
                accepted.append(ex.submit(abs, -i))
            except RuntimeError:
                refused.append(i)

    threads = [threading.Thread(target=submitter) for _ in range(4)]
    for t in threads:
        t.start()
    barrier.wait(GENEROUS)
    ex.shutdown(wait=True)
    for t in threads:
        t.join(GENEROUS)
    # Whatever was accepted before shutdown ran; nothing slipped past it unrun.
    done, not_done = concurrent.futures.wait(accepted, timeout=GENEROUS)
    assert not not_done
    assert len(accepted) + len(refused) == 800


def test_context_manager_shuts_down_but_leaves_the_runtime(rt):
    with rt.as_executor() as ex:
        future = ex.submit(pow, 3, 2)
    assert future.done() and future.result() == 9
    with pytest.raises(RuntimeError):
        ex.submit(abs, 1)
    assert not rt.is_shutdown


def test_runtime_shutdown_cancels_queued_futures(rt1):
    ex = rt1.as_executor()
    gate = Gate()
    running = ex.submit(gate)
    assert gate.started.wait(GENEROUS)
    queued = ex.submit(abs, -1)

    def release_once_queued_is_settled():
        # The only worker is held, so `queued` can settle only by being
        # cancelled; then the running call may finish.
        concurrent.futures.wait([queued], timeout=GENEROUS)
        gate.release.set()

    threading.Thread(target=release_once_queued_is_settled).start()
    rt1.shutdown(wait=True, cancel_pending=True)
    assert running.result(GENEROUS) is None
    done, _ = concurrent.futures.wait([queued], timeout=GENEROUS)
    assert queued in done and queued.cancelled()


# ----------------------------------------------------------------------- map

def test_map_in_order(executor):
    assert list(executor.map(pow, range(10), [2] * 10)) == [i * i for i in range(10)]


def test_map_exception_is_raised_at_its_position(executor):
    results = executor.map(lambda x: 1 // x, [1, 0, 1])
    assert next(results) == 1
    with pytest.raises(ZeroDivisionError):
        next(results)


def test_map_timeout_raises_timeout_error(one_thread_executor):
    gate = Gate()
    results = one_thread_executor.map(gate, [1], timeout=0.05)
    with pytest.raises(TimeoutError):
        next(results)
    gate.release.set()


def test_map_buffersize_bounds_what_is_submitted(one_thread_executor):
    pulled = []

    def items():
        for i in range(100):
            pulled.append(i)
            yield i

    results = one_thread_executor.map(abs, items(), buffersize=3)
    assert len(pulled) == 3  # the first buffersize calls, no more
    assert next(results) == 0
    assert len(pulled) == 4
    assert list(results) == list(range(1, 100))


def test_map_rejects_bad_buffersize(executor):
    with pytest.raises(ValueError):
        executor.map(abs, [1], buffersize=0)
    with pytest.raises(TypeError):
        executor.map(abs, [1], buffersize=1.5)


def test_map_unordered_yields_as_calls_finish(executor):
    gate = Gate()
    results = executor.map(lambda f: f() if callable(f) else f, [gate, "fast"], ordered=False)
    assert next(results) == "fast"
    gate.release.set()
    assert next(results) is None


# ----------------------------------------------------------------- references

def test_no_stale_references(executor):
    # A finished call's arguments are not kept alive by the executor.
    class Token:
        pass

    token = Token()
    ref = weakref.ref(token)
    executor.submit(id, token).result(GENEROUS)
    del token
    for _ in range(3):
        gc.collect()
    assert ref() is None


def test_repr_names_the_pool_and_state(rt):
    ex = rt.as_executor("io")
    assert repr(ex).startswith("<RuntimeExecutor pool='io'")
    ex.shutdown()
    assert "shut down" in repr(ex)


def test_futures_mix_with_handles_in_dftracer_wait(executor, rt):
    future = executor.submit(abs, -3)
    handle = rt.submit(abs, -4)
    done, not_done = dft.wait([future, handle], timeout=GENEROUS)
    assert done == {future, handle} and not not_done


def test_async_function_runs_on_the_runtime_loop(executor):
    async def double(x):
        return 2 * x

    assert executor.submit(double, 21).result(GENEROUS) == 42
