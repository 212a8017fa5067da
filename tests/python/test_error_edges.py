"""Errors at the edges (issue 19): keywords through the executor adapter,
failure summaries that survive a bad __str__, unencodable names, the size of
error text kept in history, and the error order after shutdown."""

from __future__ import annotations

import os

import pytest

import dftracer.utils as dft

from conftest import GENEROUS, run_python

# --------------------------------------------------------------- point 7


def test_executor_submit_passes_name_to_fn(rt):
    def greet(*, name: str) -> str:
        return f"hello {name}"

    with rt.as_executor() as executor:
        assert executor.submit(greet, name="bob").result(timeout=GENEROUS) == "hello bob"


# -------------------------------------------------------------- point 11


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise ValueError("__str__ itself is broken")


def test_wait_all_summary_survives_an_exception_whose_str_raises(rt):
    def fail() -> None:
        raise _Unprintable()

    rt.submit(fail, name="bad-str")
    with pytest.raises(RuntimeError, match=r"1 task\(s\) failed: bad-str: _Unprintable: <str\(\) raised ValueError>"):
        rt.wait_all(raise_on_error=True, timeout=GENEROUS)
    assert isinstance(rt.get_failed()[0].exception, _Unprintable)


# -------------------------------------------------------------- point 12


@pytest.mark.parametrize("name", ["bad\ud800", "\udfff", "ok-then-\ud83d"])
def test_name_with_a_lone_surrogate_is_a_clear_value_error(rt, name):
    with pytest.raises(ValueError, match="name must be encodable as UTF-8.*surrogate"):
        rt.submit(len, "x", name=name)
    with pytest.raises(ValueError, match="name must be encodable as UTF-8"):
        rt.options(pool="io").submit(len, "x", name=name)
    rt.wait_all(timeout=GENEROUS)
    assert rt.get_progress()["total"] == 0  # refused before anything was queued


def test_non_ascii_names_are_fine(rt):
    assert rt.submit(len, "x", name="tâche-\U0001f600").get(timeout=GENEROUS) == 1


# -------------------------------------------------------------- point 13


def test_history_keeps_at_most_4_kib_of_an_error_but_the_handle_keeps_it_all(rt):
    message = "é" * 5000 + "tail"

    def fail() -> None:
        raise ValueError(message)

    handle = rt.submit(fail, name="long")
    with pytest.raises(ValueError):
        handle.get(timeout=GENEROUS)
    assert str(handle.exception) == message  # whole, on the handle
    kept = rt.get_progress()["errors"][0]["error"]
    assert len(kept.encode("utf-8")) <= 4096
    assert kept.startswith("ValueError: éé")
    total = len(f"ValueError: {message}".encode())
    assert kept.endswith(f" [... cut: {total} bytes in all]")


@pytest.mark.skipif(
    "libasan" in os.environ.get("LD_PRELOAD", ""),
    reason="AddressSanitizer keeps freed memory in quarantine: RSS no longer shows what the runtime keeps",
)
def test_large_error_messages_do_not_stay_in_memory_after_clear_failed():
    result = run_python(
        """
        import gc
        import dftracer.utils as dft
        def rss_mb():
            with open("/proc/self/status") as f:
                return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024
        rt = dft.Runtime(threads=2)
        def fail(i):
            raise ValueError(str(i) * (10 * 1024 * 1024))
        base = rss_mb()
        for i in range(20):
            rt.submit(fail, i)
        rt.wait_all()
        rt.clear_failed()
        gc.collect()
        print("kept MB", round(rss_mb() - base))
        """,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    kept = int(result.stdout.split()[-1])
    assert kept < 60, result.stdout  # was ~210 MB: twenty 10 MB texts in history


# -------------------------------------------------------------- point 14


@pytest.mark.parametrize("wait", [True, False])
def test_submit_with_timeout_after_shutdown_says_shut_down(wait):
    runtime = dft.Runtime(threads=1, io_threads=1)
    runtime.shutdown(wait=wait)
    with pytest.raises(RuntimeError, match="Runtime is shut down"):
        runtime.options(timeout=30).submit(len, "x")

    async def coro() -> int:
        return 1

    with pytest.raises(RuntimeError, match="Runtime is shut down"):
        runtime.options(timeout=30).submit(coro)
    runtime.shutdown()


def test_each_get_of_a_timed_out_task_raises_a_fresh_error(rt):
    import threading

    gate = threading.Event()
    handle = rt.options(timeout=0.05).submit(gate.wait, GENEROUS)
    errors = []
    for _ in range(2):
        with pytest.raises(dft.TaskTimeoutError) as info:
            handle.get(timeout=GENEROUS)
        errors.append(info.value)
    gate.set()
    assert errors[0] is not errors[1]
    assert str(errors[0]) == str(errors[1])


def test_sizes_beyond_the_engines_limit_are_clear_value_errors():
    with pytest.raises(ValueError, match="history must be <= 2147483647"):
        dft.Runtime(history=2**63)
    with pytest.raises(ValueError, match=r"history must be >= 0 \(0 = no recording\)"):
        dft.Runtime(history=-1)


def test_bad_arguments_name_themselves(rt):
    with pytest.raises(ValueError, match="interval must be >= 0"):
        rt.configure_watchdog(interval=-1)
    with pytest.raises(ValueError, match="buffersize must be <= sys.maxsize"):
        rt.map(abs, [1], buffersize=2**100)
    with pytest.raises(TypeError, match="wait and cancel_pending must be bools"):
        rt.shutdown(wait="no")
    assert not rt.is_shutdown


def test_a_timeout_beyond_any_float_means_no_timeout(rt):
    rt.wait_all(timeout=2**2000)  # an OverflowError before
    assert rt.submit(abs, -3).get(timeout=2**2000) == 3


def test_an_object_whose_call_is_async_runs_as_a_coroutine_task(rt):
    class Doubler:
        async def __call__(self, x):
            return 2 * x

    assert rt.submit(Doubler(), 4).get(timeout=GENEROUS) == 8
    assert isinstance(rt.submit(Doubler).get(timeout=GENEROUS), Doubler)  # a class still just runs


def test_wait_all_flags_must_be_bools(rt):
    with pytest.raises(TypeError, match="raise_on_error and progress must be bools"):
        rt.wait_all(progress="no")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo()")
def test_a_fifo_named_like_a_trace_is_not_opened(rt, tmp_path):
    from dftracer.utils import traces

    os.mkfifo(tmp_path / "pipe.pfw")
    (tmp_path / "real.pfw").write_text('{"name":"read","ph":1,"ts":1,"dur":1,"pid":1,"tid":1}\n')
    assert [os.path.basename(f) for f in traces.trace_files([tmp_path])] == ["real.pfw"]
    assert len(traces.read_traces(tmp_path, runtime=rt).events) == 1


def test_an_error_message_with_a_lone_surrogate_keeps_its_text_escaped(rt):
    def bad():
        raise ValueError("bad \ud800 x")

    rt.submit(bad)
    rt.wait_all()
    errors = rt.get_progress()["errors"]
    assert [e["error"] for e in errors] == ["ValueError: bad \\ud800 x"]
