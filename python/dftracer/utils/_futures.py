"""A concurrent.futures.Executor on top of a Runtime."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._handle import TaskHandle

if TYPE_CHECKING:
    from ._runtime import Runtime


class RuntimeExecutor(concurrent.futures.Executor):
    """Runs submitted callables on a :class:`Runtime`'s ``pool``.

    Futures are standard :class:`concurrent.futures.Future` objects, so
    ``asyncio``'s ``loop.run_in_executor`` and Dask accept this executor.
    ``shutdown()`` waits for this executor's futures but leaves the runtime
    running (it may be shared).
    """

    def __init__(self, runtime: Runtime, pool: str = "compute") -> None:
        self._options = runtime.options(pool=pool)
        self._runtime = runtime
        self._shutdown = False
        self._futures: set[concurrent.futures.Future[Any]] = set()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future[Any]:
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        handle = self._options.submit(fn, *args, **kwargs)

        def settle(done: TaskHandle) -> None:
            if not future.set_running_or_notify_cancel():
                return
            error = done.exception
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(done.get())

        def propagate_cancel(f: concurrent.futures.Future[Any]) -> None:
            self._futures.discard(f)
            if f.cancelled():
                handle.cancel()

        self._futures.add(future)
        future.add_done_callback(propagate_cancel)
        handle.add_done_callback(settle)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._shutdown = True
        pending = list(self._futures)
        if cancel_futures:
            for f in pending:
                f.cancel()
        if wait:
            concurrent.futures.wait(pending)
