"""Coroutines on the runtime, and the runtime from asyncio code."""

from __future__ import annotations

import asyncio
import concurrent.futures

import pytest


async def double_later(x):
    await asyncio.sleep(0.001)
    return 2 * x


async def broken():
    await asyncio.sleep(0)
    raise LookupError("no such rank")


def test_async_function_runs_to_completion(rt):
    h = rt.submit(double_later, 21)
    assert h.name == "double_later"
    assert h.get(timeout=30) == 42
    assert h.state == "completed"


def test_coroutine_object(rt):
    h = rt.submit(double_later(5), name="coro")
    assert h.get(timeout=30) == 10
    with pytest.raises(TypeError):
        rt.submit(double_later(1), 2)


def test_coroutine_failure_and_wait_all(rt):
    h = rt.submit(broken)
    rt.wait_all(timeout=30)
    assert h.state == "failed"
    with pytest.raises(LookupError):
        h.get()
    assert rt.get_failed()[0].name == "broken"


def test_many_coroutines_do_not_hold_workers(rt1):
    # 200 sleeping coroutines on a 1-thread runtime finish together.
    handles = [rt1.submit(double_later, i) for i in range(200)]
    assert [h.get(timeout=30) for h in handles] == [2 * i for i in range(200)]


def test_handles_are_awaitable(rt):
    async def main():
        values = await asyncio.gather(*(rt.submit(pow, i, 2) for i in range(10)))
        with pytest.raises(ZeroDivisionError):
            await rt.submit(lambda: 1 / 0)
        return values

    assert asyncio.run(main()) == [i * i for i in range(10)]


def test_executor_adapter_with_run_in_executor(rt):
    executor = rt.as_executor()
    assert isinstance(executor, concurrent.futures.Executor)

    async def main():
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, sum, [1, 2, 3])

    assert asyncio.run(main()) == 6
    f = executor.submit(divmod, 7, 2)
    assert f.result(timeout=30) == (3, 1)
    assert list(executor.map(abs, [-1, -2])) == [1, 2]
    executor.shutdown()
    with pytest.raises(RuntimeError):
        executor.submit(abs, 1)
    assert not rt.is_shutdown
