"""A concurrent.futures.Executor on top of a Runtime."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional

from ._bound_future import BoundFuture
from ._mapping import bounded_map
from ._naming import derive_name
from ._types import P, PoolName, R

if TYPE_CHECKING:
    from ._runtime import Runtime


class RuntimeExecutor(concurrent.futures.Executor):
    """Runs submitted callables on a :class:`Runtime`'s ``pool``.

    Keeps the :class:`concurrent.futures.Executor` contract, as
    :class:`~concurrent.futures.ThreadPoolExecutor` does: a future is
    ``running()`` while its call runs, ``cancel()`` succeeds only before
    that (and then the call never runs), ``submit()`` after ``shutdown()``
    raises ``RuntimeError``, ``shutdown(cancel_futures=True)`` cancels what
    has not started. Keyword arguments all reach the callable. Each future
    is bound to its task (see :meth:`TaskHandle.as_future`) and is a
    :class:`concurrent.futures.Future`, so
    ``asyncio``'s ``loop.run_in_executor`` and Dask accept this executor.
    ``shutdown()`` waits for this executor's futures but leaves the runtime
    running (it may be shared). A call that raises is also a failed task of
    the runtime (:meth:`Runtime.get_failed`, error callbacks).
    """

    def __init__(self, runtime: Runtime, pool: PoolName = "compute") -> None:
        self._options = runtime.options(pool=pool)
        self._shutdown_lock = threading.Lock()
        self._shutdown = False
        self._futures: set[concurrent.futures.Future[Any]] = set()

    @property
    def pool(self) -> PoolName:
        """The runtime pool the calls run on."""
        return self._options.pool

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> concurrent.futures.Future[R]:
        """Schedule ``fn(*args, **kwargs)``; returns its future at once.
        Every keyword reaches ``fn`` (the task is named after ``fn``);
        ``async def`` functions run on the runtime's event loop."""
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        options = self._options
        with self._shutdown_lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            handle = options._runtime._submit(fn, args, kwargs, derive_name(fn), options.pool, options.timeout)
            future: BoundFuture[R] = BoundFuture(handle)
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._shutdown_lock:
            self._futures.discard(future)

    def map(self, fn: Callable[..., R], *iterables: Iterable[Any], timeout: Optional[float] = None,
            chunksize: int = 1, buffersize: Optional[int] = None, ordered: bool = True) -> Iterator[R]:
        """``fn(*items)`` for each tuple of items, as :meth:`Runtime.map`:
        at most ``buffersize`` calls in flight (all at once for None), results
        in order or (``ordered=False``) as they finish. ``chunksize`` is
        accepted for compatibility and ignored."""
        if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize < 1:
            raise ValueError(f"chunksize must be an int >= 1, got {chunksize!r}")
        return bounded_map(lambda items: self.submit(fn, *items), fn, iterables, buffersize, timeout, ordered)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Refuse new calls; with ``cancel_futures`` cancel those not
        started; with ``wait`` block until the rest have finished."""
        with self._shutdown_lock:
            self._shutdown = True
            pending = list(self._futures)
        if cancel_futures:
            for future in pending:
                future.cancel()
        if wait:
            concurrent.futures.wait(pending)

    def __repr__(self) -> str:
        with self._shutdown_lock:
            state = "shut down" if self._shutdown else "running"
            pending = len(self._futures)
        return f"<RuntimeExecutor pool={self.pool!r} pending={pending} {state}>"
