"""What a type checker sees of the public API; checked by ``mypy --strict``
in scripts/test-python.sh, never run.

``assert_type`` pins each inferred type. A line ending in
``# type: ignore[code]`` must be an error of that code: with
``warn_unused_ignores`` the check fails if mypy stops reporting it, so the
mistakes a user can make stay caught.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator

from typing_extensions import assert_type

import dftracer.utils as dft


def parse(path: str) -> int:
    return len(path)


def join(a: str, b: int, *, sep: str = "") -> str:
    return f"{a}{sep}{b}"


async def fetch(path: str) -> bytes:
    return path.encode()


def check_submit(rt: dft.Runtime) -> None:
    assert_type(rt.submit(parse, "a"), dft.TaskHandle[int])
    assert_type(rt.submit(parse, "a").get(), int)
    assert_type(rt.submit(parse, "a").result(timeout=1), int)
    assert_type(rt.submit_io(join, "a", 1, sep="-"), dft.TaskHandle[str])
    assert_type(rt.submit(parse, "a", name="parse-a"), dft.TaskHandle[int])
    assert_type(rt.options(pool="io", timeout=5).submit(parse, "a"), dft.TaskHandle[int])
    rt.submit(parse, 42)  # type: ignore[call-overload]
    rt.submit(parse, "a", "b")  # type: ignore[call-overload]
    rt.submit(join, "a", 1, sep=2)  # type: ignore[arg-type]
    wrong: str = rt.submit(parse, "a").get()  # type: ignore[assignment]  # noqa: F841
    rt.options(pool="gpu")  # type: ignore[arg-type]


def check_async(rt: dft.Runtime) -> None:
    assert_type(rt.submit(fetch, "a"), dft.TaskHandle[bytes])
    assert_type(rt.submit(fetch("a")), dft.TaskHandle[bytes])
    assert_type(rt.submit(fetch, "a", name="fetch").get(), bytes)


async def check_await(rt: dft.Runtime) -> None:
    assert_type(await rt.submit(parse, "a"), int)
    assert_type(await rt.submit(fetch, "a"), bytes)


def check_handle(handle: dft.TaskHandle[int]) -> None:
    assert_type(handle.state, dft.TaskState)
    assert_type(handle.pool, dft.PoolName)
    assert_type(handle.running(), bool)
    assert_type(handle.cancelled(), bool)
    assert_type(handle.exception, BaseException | None)
    assert_type(handle.as_future(), concurrent.futures.Future[int])
    handle.add_done_callback(lambda h: assert_type(h, dft.TaskHandle[int]))


def check_map(rt: dft.Runtime) -> None:
    assert_type(rt.map(parse, ["a", "b"]), Iterator[int])
    assert_type(rt.map(join, ["a"], [1], buffersize=64, ordered=False), Iterator[str])
    assert_type(rt.map(fetch, ["a"]), Iterator[bytes])
    assert_type(rt.options(pool="io").map(parse, ["a"], timeout=5.0), Iterator[int])
    rt.map(parse, [1, 2])  # type: ignore[arg-type]


def check_waiting(rt: dft.Runtime, future: concurrent.futures.Future[str]) -> None:
    handles = [rt.submit(parse, "a"), rt.submit(parse, "b")]
    done, not_done = dft.wait(handles, timeout=1, return_when=dft.FIRST_COMPLETED)
    assert_type(done, set[dft.TaskHandle[int]])
    for handle in dft.as_completed(handles):
        assert_type(handle, dft.TaskHandle[int])
    mixed: list[dft.TaskHandle[int] | concurrent.futures.Future[str]] = [handles[0], future]
    for item in dft.as_completed(mixed, timeout=2):
        assert_type(item, dft.TaskHandle[int] | concurrent.futures.Future[str])


def check_executor(rt: dft.Runtime) -> None:
    executor = rt.as_executor("io")
    assert_type(executor.submit(parse, "a"), concurrent.futures.Future[int])
    assert_type(executor.map(parse, ["a"], buffersize=4), Iterator[int])
    executor.submit(parse, 42)  # type: ignore[arg-type]
    rt.as_executor("gpu")  # type: ignore[arg-type]


def check_groups(rt: dft.Runtime) -> None:
    with rt.group("parse") as group:
        assert_type(group, dft.TaskGroup)
        assert_type(group.submit(parse, "a"), dft.TaskHandle[int])
        assert_type(group.submit_io(fetch, "a"), dft.TaskHandle[bytes])
        group.submit(parse, 1)  # type: ignore[call-overload]


def check_progress(rt: dft.Runtime) -> None:
    progress = rt.get_progress()
    assert_type(progress, dft.Progress)
    assert_type(progress["completed"], int)
    assert_type(progress["workers"][0]["pool"], dft.PoolName)
    assert_type(progress["tasks"][0]["state"], dft.TaskState)
    assert_type(progress["tasks"][0]["group"], str | None)
    assert_type(progress["groups"][0]["failed"], int)
    progress["no_such_key"]  # type: ignore[typeddict-item]


def check_errors() -> None:
    error: dft.DFTracerError = dft.TaskTimeoutError("late")
    timeout: TimeoutError = dft.TaskTimeoutError("late")
    assert_type(error, dft.DFTracerError)
    assert_type(timeout, TimeoutError)
