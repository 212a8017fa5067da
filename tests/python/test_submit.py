"""Submitting: arguments, names, pools, options, bad input."""

from __future__ import annotations

import functools
import threading

import pytest

import dftracer.utils as dft

from conftest import GENEROUS


def test_args_and_kwargs_reach_the_function(rt):
    def f(a, b, *, c, name_of_user="kept"):
        return (a, b, c, name_of_user)

    assert rt.submit(f, 1, 2, c=3).get() == (1, 2, 3, "kept")
    # `name` is the only keyword the runtime takes; everything else is the user's.
    assert rt.submit(f, 1, 2, c=3, name_of_user="x", name="t").get() == (1, 2, 3, "x")


@pytest.mark.parametrize("bad", [None, 3, "not callable", object()])
def test_non_callable_is_type_error_at_the_call(rt, bad):
    with pytest.raises(TypeError, match="callable"):
        rt.submit(bad)


@pytest.mark.parametrize("bad", [1, b"x", object()])
def test_non_string_name_is_type_error(rt, bad):
    with pytest.raises(TypeError, match="name"):
        rt.submit(print, name=bad)


@pytest.mark.parametrize(
    "kwargs, error",
    [({"threads": -1}, ValueError), ({"io_threads": -3}, ValueError), ({"threads": 1.5}, TypeError),
     ({"threads": "2"}, TypeError), ({"io_threads": None}, TypeError), ({"threads": True}, TypeError)],
)
def test_bad_sizes(kwargs, error):
    with pytest.raises(error):
        dft.Runtime(**kwargs)


def test_sizes_auto():
    rt = dft.Runtime()
    assert rt.threads >= 1
    assert 2 <= rt.io_threads <= 8
    rt.shutdown()


class Summariser:
    def __call__(self, x):
        return x * 2


def helper(a, b):
    return a + b


@pytest.mark.parametrize(
    "fn, expected",
    [(helper, "helper"), (functools.partial(helper, 1), "helper"), (Summariser(), "Summariser"),
     (len, "len"), (dict.fromkeys, "dict.fromkeys")],
)
def test_derived_names(rt, fn, expected):
    from dftracer.utils._naming import derive_name

    assert derive_name(fn) == expected


def test_names_strip_locals_wherever_defined(rt):
    def outer():
        class Pipeline:
            def run(self):
                return 1

        return Pipeline()

    h = rt.submit(outer().run)
    assert h.name == "Pipeline.run"
    assert h.get() == 1


def test_io_pool_and_options(rt):
    h = rt.submit_io(dft.current_task_id)
    assert h.pool == "io"
    assert h.get() == h.id
    h2 = rt.options(pool="io").submit(lambda: 5)
    assert h2.pool == "io" and h2.get() == 5
    with pytest.raises(ValueError, match="pool"):
        rt.options(pool="gpu")
    with pytest.raises(ValueError):
        rt.options(timeout=-1)
    with pytest.raises(TypeError):
        rt.options(timeout="soon")


def test_map_returns_results_in_order(rt):
    assert list(rt.map(lambda a, b: a * b, range(5), range(5))) == [0, 1, 4, 9, 16]
    with pytest.raises(TypeError):
        rt.map(42, [1])


def test_context_manager_waits_then_shuts_down():
    done = []
    with dft.Runtime(threads=2) as rt:
        for i in range(100):
            rt.submit(done.append, i)
    assert len(done) == 100
    assert rt.is_shutdown
    with pytest.raises(RuntimeError, match="Runtime is shut down"):
        rt.submit(print)


def test_submit_from_many_threads(rt):
    counter = []
    lock = threading.Lock()

    def record(i):
        with lock:
            counter.append(i)

    def producer(base):
        for i in range(2000):
            rt.submit(record, base + i)

    threads = [threading.Thread(target=producer, args=(k * 10000,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rt.wait_all(timeout=GENEROUS)
    assert len(counter) == 16000
    assert len(set(counter)) == 16000
    assert rt.get_progress()["completed"] == 16000


def test_handle_basics(rt):
    release = threading.Event()
    h = rt.submit(release.wait, GENEROUS, name="blocked")
    assert not h.done()
    assert h.exception is None
    assert h.state in ("queued", "running")
    with pytest.raises(TimeoutError):
        h.get(timeout=0.01)
    with pytest.raises(TimeoutError):
        h.wait(timeout=0)
    release.set()
    assert h.get(timeout=GENEROUS) is True
    assert h.state == "completed"
    assert "blocked" in repr(h)
    assert h == h and hash(h) == hash(h)
    with pytest.raises(ValueError):
        h.get(timeout=-1)


def test_cancel_only_while_queued(rt1):
    started, release = threading.Event(), threading.Event()

    def blocker():
        started.set()
        release.wait(GENEROUS)

    running = rt1.submit(blocker)
    assert started.wait(GENEROUS)
    queued = rt1.submit(print, "never")
    assert not running.cancel()
    assert queued.cancel()
    assert queued.state == "cancelled"
    import concurrent.futures

    with pytest.raises(concurrent.futures.CancelledError):
        queued.get()
    assert isinstance(queued.exception, concurrent.futures.CancelledError)
    release.set()
    rt1.wait_all()
    assert rt1.get_progress()["cancelled"] == 1


def test_done_callbacks(rt):
    seen = []
    event = threading.Event()

    def cb(handle):
        seen.append((handle.name, handle.get()))
        event.set()

    h = rt.submit(lambda: 3, name="three")
    h.add_done_callback(cb)
    assert event.wait(GENEROUS)
    h.add_done_callback(lambda handle: seen.append("late"))  # already done: runs now
    assert seen == [("three", 3), "late"]
    with pytest.raises(TypeError):
        h.add_done_callback(None)


def test_done_callback_exception_is_reported_not_lost(rt):
    import sys

    reported = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda info: reported.append(info.exc_value)
    try:
        h = rt.submit(lambda: 1)
        h.get()
        h.add_done_callback(lambda _: 1 / 0)
    finally:
        sys.unraisablehook = old
    assert len(reported) == 1 and isinstance(reported[0], ZeroDivisionError)
