"""wait() and as_completed() over task handles and futures, with the
semantics of :mod:`concurrent.futures`."""

from __future__ import annotations

import concurrent.futures
import queue
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Optional, TypeVar, Union

from . import _core
from ._handle import TaskHandle, _check_timeout

FIRST_COMPLETED = concurrent.futures.FIRST_COMPLETED
FIRST_EXCEPTION = concurrent.futures.FIRST_EXCEPTION
ALL_COMPLETED = concurrent.futures.ALL_COMPLETED
_RETURN_WHEN = (FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED)

#: What wait() and as_completed() take: task handles and futures, mixed.
Waitable = Union[TaskHandle[Any], concurrent.futures.Future[Any]]
W = TypeVar("W", bound=Waitable)

#: On a worker thread, how long one helping wait lasts before looking again
#: at what else finished: the latency a worker adds to noticing a finish.
_HELP_SLICE = 0.01


if TYPE_CHECKING or sys.version_info >= (3, 11):

    class DoneAndNotDone(NamedTuple, Generic[W]):
        """What :func:`wait` returns: the finished and the unfinished ones."""

        done: set[W]
        not_done: set[W]

else:  # Python 3.10 cannot make a NamedTuple generic

    class DoneAndNotDone(NamedTuple):
        """What :func:`wait` returns: the finished and the unfinished ones."""

        done: set[Any]
        not_done: set[Any]


def _checked(fs: Iterable[W]) -> set[W]:
    if isinstance(fs, (TaskHandle, concurrent.futures.Future)):
        raise TypeError("pass an iterable of handles or futures, not a single one")
    items = set(fs)
    for item in items:
        if not isinstance(item, (TaskHandle, concurrent.futures.Future)):
            raise TypeError(f"expected TaskHandle or concurrent.futures.Future, got {type(item).__name__}")
    return items


def _deadline(timeout: Optional[float]) -> Optional[float]:
    timeout = _check_timeout(timeout)
    return None if timeout is None else time.monotonic() + timeout


def _remaining(deadline: Optional[float]) -> Optional[float]:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _failed(item: Waitable) -> bool:
    if isinstance(item, TaskHandle):
        return item.state == "failed"
    return not item.cancelled() and item.exception() is not None


class Arrivals(Generic[W]):
    """Handles and futures, handed out in the order they finish.

    ``add()`` registers a done callback; ``take()`` blocks for the next
    finished one. On one of a runtime's worker threads ``take()`` helps: it
    runs queued tasks while it waits, so waiting inside a task never starves
    the pool."""

    def __init__(self) -> None:
        self._finished: queue.SimpleQueue[W] = queue.SimpleQueue()
        self._pending: set[W] = set()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, item: W) -> None:
        self._pending.add(item)
        item.add_done_callback(self._finished.put)  # type: ignore[arg-type]  # put(item): block, timeout default

    def discard_all(self) -> set[W]:
        """Forget what has not been taken yet, and return it."""
        left, self._pending = self._pending, set()
        return left

    def take(self, deadline: Optional[float]) -> Optional[W]:
        """The next finished item, or None once ``deadline`` passed."""
        while True:
            try:
                item = self._next(deadline)
            except queue.Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            if item in self._pending:  # an item added twice is reported once
                self._pending.discard(item)
                return item

    def _next(self, deadline: Optional[float]) -> W:
        """The next finished item; raises ``queue.Empty`` when a wait ends
        without one (the deadline passed, or one helping slice ended)."""
        if _core.current_worker_id() >= 0:
            try:
                return self._finished.get_nowait()
            except queue.Empty:
                handle = next((i for i in self._pending if isinstance(i, TaskHandle) and not i.done()), None)
                if handle is not None:
                    remaining = _remaining(deadline)
                    handle._task.wait(_HELP_SLICE if remaining is None else min(_HELP_SLICE, remaining))
                    raise
        return self._finished.get(timeout=_remaining(deadline))


def wait(fs: Iterable[W], timeout: Optional[float] = None,
         return_when: str = ALL_COMPLETED) -> DoneAndNotDone[W]:
    """Wait for task handles and :class:`concurrent.futures.Future` objects
    (mixed freely), like :func:`concurrent.futures.wait`.

    Returns ``(done, not_done)``, two sets. ``return_when`` is
    ``FIRST_COMPLETED``, ``FIRST_EXCEPTION`` (a failed task or a future that
    raised; cancellations do not count) or ``ALL_COMPLETED``. After
    ``timeout`` seconds it returns with what finished so far (it never
    raises ``TimeoutError``). Inside a task it runs other queued tasks while
    it waits.
    """
    if return_when not in _RETURN_WHEN:
        raise ValueError(f"return_when must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED, got {return_when!r}")
    items = _checked(fs)
    deadline = _deadline(timeout)
    done = {item for item in items if item.done()}
    if _satisfied(done, items, return_when):
        return DoneAndNotDone(done, items - done)
    if return_when == ALL_COMPLETED:
        for item in items - done:
            if not _wait_one(item, _remaining(deadline)):
                break
            done.add(item)
        return DoneAndNotDone(done, items - done)
    arrivals: Arrivals[W] = Arrivals()
    for item in items - done:
        arrivals.add(item)
    while len(arrivals):
        item_or_none = arrivals.take(deadline)
        if item_or_none is None:
            break
        done.add(item_or_none)
        if _satisfied(done, items, return_when):
            break
    return DoneAndNotDone(done, items - done)


def _satisfied(done: set[W], items: set[W], return_when: str) -> bool:
    if len(done) == len(items):
        return True
    if return_when == FIRST_COMPLETED:
        return bool(done)
    if return_when == FIRST_EXCEPTION:
        return any(_failed(item) for item in done)
    return False


def _wait_one(item: Waitable, timeout: Optional[float]) -> bool:
    if isinstance(item, TaskHandle):
        return bool(item._task.wait(timeout))  # helps inside a task
    finished, _ = concurrent.futures.wait([item], timeout)
    return bool(finished)


def as_completed(fs: Iterable[W], timeout: Optional[float] = None) -> Iterator[W]:
    """Yield task handles and :class:`concurrent.futures.Future` objects
    (mixed freely) as they finish, like :func:`concurrent.futures.as_completed`:
    those already finished first, each one once.

    Raises ``TimeoutError`` from ``next()`` if ``timeout`` seconds (counted
    from the first ``next()``) pass before all have finished. The arguments
    are checked at the call. Inside a task it runs other queued tasks while
    it waits.
    """
    items = _checked(fs)
    _check_timeout(timeout)
    return _as_completed(items, timeout)


def _as_completed(items: set[W], timeout: Optional[float]) -> Iterator[W]:
    deadline = _deadline(timeout)
    total = len(items)
    arrivals: Arrivals[W] = Arrivals()
    for item in items:
        if item.done():
            yield item
        else:
            arrivals.add(item)
    while len(arrivals):
        item_or_none = arrivals.take(deadline)
        if item_or_none is None:
            raise TimeoutError(f"{len(arrivals)} (of {total}) tasks or futures unfinished")
        yield item_or_none
