"""TaskHandle: the Python view of one submitted task."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable, Generator
from typing import Any, Generic, Optional, cast

from . import _core
from ._types import PoolName, T, TaskState


class TaskHandle(Generic[T]):
    """A submitted task whose result is a ``T``. Returned at once by
    :meth:`Runtime.submit`.

    Thread-safe: every method may be called from any thread, including from
    other tasks. ``get()`` and ``wait()`` called inside a task run other queued
    tasks while they wait, so nested waits never starve the pool. Handles are
    awaitable from asyncio code (``await handle``), and speak the
    :class:`concurrent.futures.Future` vocabulary (``result()``,
    ``running()``, ``cancelled()``, ``done()``, ``cancel()``) so
    :func:`dftracer.utils.wait` and :func:`dftracer.utils.as_completed` take
    them, and :meth:`as_future` gives a real ``Future``. Unlike a ``Future``,
    ``exception`` is a property that never blocks.
    """

    __slots__ = ("_task", "__weakref__")

    def __init__(self, task: _core.Task) -> None:
        if not isinstance(task, _core.Task):
            raise TypeError("TaskHandle wraps a task returned by Runtime.submit()")
        self._task = task

    @property
    def name(self) -> str:
        """The task's name (explicit, or derived from the callable)."""
        return self._task.name

    @property
    def id(self) -> int:
        """Unique id of the task within its runtime (not ordered across
        submitting threads)."""
        return self._task.id

    @property
    def state(self) -> TaskState:
        """``"queued"``, ``"running"``, ``"completed"``, ``"failed"`` or ``"cancelled"``."""
        return cast(TaskState, self._task.state)

    @property
    def pool(self) -> PoolName:
        """``"compute"`` or ``"io"``."""
        return cast(PoolName, self._task.pool)

    def done(self) -> bool:
        """True once the task completed, failed or was cancelled. Never blocks."""
        return self._task.done()

    def running(self) -> bool:
        """True while the task runs (a coroutine task: until it resolves)."""
        return self._task.state == "running"

    def cancelled(self) -> bool:
        """True if the task was cancelled before it ran."""
        return self._task.state == "cancelled"

    def get(self, timeout: Optional[float] = None) -> T:
        """Block until the task finishes and return its result.

        Re-raises the task's own exception (with its traceback), including
        ``BaseException`` subclasses such as ``SystemExit``. Raises
        :class:`concurrent.futures.CancelledError` if the task was cancelled,
        :class:`TaskTimeoutError` if its timeout passed, and ``TimeoutError``
        if ``timeout`` seconds pass first. The GIL is released while waiting
        and Ctrl-C interrupts the wait. Inside a task of the same runtime the
        wait helps: it may run the awaited task (or another queued one) to
        completion, so ``timeout`` bounds the waiting, not that work.
        """
        return cast(T, self._task.result(_check_timeout(timeout)))

    def result(self, timeout: Optional[float] = None) -> T:
        """The same as :meth:`get`, under the name :class:`concurrent.futures.Future` uses."""
        return cast(T, self._task.result(_check_timeout(timeout)))

    def wait(self, timeout: Optional[float] = None) -> None:
        """Block until the task finishes, like :meth:`get` without the value.

        Raises the task's exception like :meth:`get`, and ``TimeoutError`` if
        ``timeout`` seconds pass first.
        """
        self._task.result(_check_timeout(timeout))

    def cancel(self) -> bool:
        """Cancel the task if it has not started. True if this call cancelled it."""
        return self._task.cancel()

    def request_stop(self) -> None:
        """Ask a running task to stop: :func:`dftracer.utils.stop_requested`
        returns True inside it from now on. Never interrupts it."""
        self._task.request_stop()

    @property
    def exception(self) -> Optional[BaseException]:
        """The task's exception once it failed or was cancelled, else ``None``.
        Never blocks."""
        error = self._task.exception()
        return error if isinstance(error, BaseException) else None

    def add_done_callback(self, fn: Callable[[TaskHandle[T]], object]) -> None:
        """Call ``fn(handle)`` once the task finishes.

        Runs on the thread that finished the task (a worker), or at once on
        the calling thread if the task is already done. Exceptions raised by
        ``fn`` are reported through :func:`sys.unraisablehook`, never lost.
        """
        if not callable(fn):
            raise TypeError(f"add_done_callback() needs a callable, got {type(fn).__name__}")
        self._task.add_done_callback(fn, self)

    def as_future(self) -> concurrent.futures.Future[T]:
        """A :class:`concurrent.futures.Future` bound to this task: it
        settles when the task finishes, reports ``running()`` while the task
        runs, and its ``cancel()`` cancels the task (and fails, returning
        False, once the task has started). Each call makes a new one."""
        from ._bound_future import BoundFuture

        return BoundFuture(self)

    def __await__(self) -> Generator[Any, None, T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def transfer(_: TaskHandle[T]) -> None:
            # As asyncio.wrap_future: a loop that closed meanwhile (its
            # awaiter gave up, asyncio.run returned) has nobody to tell.
            if loop.is_closed():
                return
            try:
                loop.call_soon_threadsafe(_settle, future, self)
            except RuntimeError:
                if not loop.is_closed():
                    raise

        self.add_done_callback(transfer)
        # While it is queued, deeply nested waiters of its pool may run it: a
        # chain of waits that passes through this coroutine still ends.
        self._task.note_awaited()
        return (yield from future)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TaskHandle) and self._task == other._task

    def __hash__(self) -> int:
        return hash(self._task)

    def __repr__(self) -> str:
        return f"<TaskHandle id={self.id} name={self.name!r} state={self.state}>"


def _settle(future: asyncio.Future[T], handle: TaskHandle[T]) -> None:
    if future.cancelled():
        return
    error = handle.exception
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(handle.get())


def _check_timeout(timeout: Optional[float], label: str = "timeout") -> Optional[float]:
    """Seconds as a float; None (no limit) for None, infinity, and numbers
    too large for a float."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{label} must be a number of seconds or None, got {type(timeout).__name__}")
    if timeout != timeout or timeout < 0:  # NaN or negative
        raise ValueError(f"{label} must be >= 0, got {timeout}")
    try:
        seconds = float(timeout)
    except OverflowError:  # an int beyond any float: longer than any clock runs
        return None
    return None if seconds == float("inf") else seconds
