"""concurrent.futures.Future objects that follow a task."""

from __future__ import annotations

import concurrent.futures
import contextlib
from typing import Any

from ._handle import TaskHandle
from ._types import T


def settle_from(future: concurrent.futures.Future[Any], handle: TaskHandle[Any]) -> None:
    """Give ``future`` the outcome of the finished task ``handle``, unless
    the future already has one. Safe to call from any thread, any number of
    times: a cancelled task cancels the future and wakes its waiters; a
    completed or failed one sets its result or exception."""
    if handle.cancelled():
        concurrent.futures.Future.cancel(future)
        with contextlib.suppress(RuntimeError):  # already running, finished or notified
            future.set_running_or_notify_cancel()
        return
    error = handle.exception
    with contextlib.suppress(concurrent.futures.InvalidStateError):  # settled first elsewhere
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(handle.get())


class BoundFuture(concurrent.futures.Future[T]):
    """The :class:`concurrent.futures.Future` of :meth:`TaskHandle.as_future`:
    ``running()`` and ``cancel()`` ask the task, so ``cancel()`` returns
    False once it has started, as the ``Future`` contract says."""

    def __init__(self, handle: TaskHandle[T]) -> None:
        super().__init__()
        self._handle = handle
        handle.add_done_callback(self._settle)

    def _settle(self, handle: TaskHandle[T]) -> None:
        settle_from(self, handle)

    def running(self) -> bool:
        return not self.done() and self._handle.running()

    def cancel(self) -> bool:
        if self._handle.cancel() or self._handle.cancelled():
            settle_from(self, self._handle)
        return self.cancelled()

    def __repr__(self) -> str:
        return f"<BoundFuture of {self._handle!r} {'done' if self.done() else 'pending'}>"
