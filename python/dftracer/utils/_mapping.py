"""map(): results of one callable over iterables, with a bounded number of
tasks in flight."""

from __future__ import annotations

import collections
import itertools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Optional, Protocol, TypeVar

from ._handle import _check_timeout
from ._waiting import Arrivals, _deadline, _remaining


class _Pending(Protocol):
    """What map() needs of a submitted task: a TaskHandle or a Future."""

    def result(self, timeout: Optional[float] = None) -> Any: ...

    def cancel(self) -> bool: ...

    def done(self) -> bool: ...

    def add_done_callback(self, fn: Callable[[Any], object], /) -> None: ...


S = TypeVar("S", bound=_Pending)


def check_buffersize(buffersize: Optional[int]) -> Optional[int]:
    if buffersize is None:
        return None
    if isinstance(buffersize, bool) or not isinstance(buffersize, int):
        raise TypeError(f"buffersize must be an int or None, got {type(buffersize).__name__}")
    if buffersize < 1:
        raise ValueError(f"buffersize must be >= 1, got {buffersize}")
    if buffersize > sys.maxsize:
        raise ValueError(f"buffersize must be <= sys.maxsize, got {buffersize}")
    return buffersize


def bounded_map(submit: Callable[[tuple[Any, ...]], S], fn: object, iterables: tuple[Iterable[Any], ...],
                buffersize: Optional[int], timeout: Optional[float], ordered: object) -> Iterator[Any]:
    """Submit ``fn(*items)`` for each tuple of items through ``submit`` and
    return an iterator over the results.

    Checks every argument now. Submits at once everything (``buffersize``
    None) or the first ``buffersize`` calls, then one more each time a result
    is taken, pulling the iterables lazily. Results come in input order
    (``ordered``) or as they finish. ``timeout`` counts from this call; when
    it passes, ``next()`` raises ``TimeoutError``. A failure is raised from
    ``next()``; then, and whenever the iterator is closed or dropped early,
    nothing more is pulled and what is still queued is cancelled.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    if not isinstance(ordered, bool):
        raise TypeError(f"ordered must be a bool, got {type(ordered).__name__}")
    buffersize = check_buffersize(buffersize)
    deadline = _deadline(_check_timeout(timeout))
    calls = zip(*iterables, strict=False)
    first = calls if buffersize is None else itertools.islice(calls, buffersize)
    submitted = [submit(items) for items in first]
    more = None if buffersize is None else calls
    if ordered:
        results = _in_order(submit, collections.deque(submitted), more, deadline)
    else:
        arrivals: Arrivals[Any] = Arrivals()
        for pending in submitted:
            arrivals.add(pending)
        results = _as_finished(submit, arrivals, more, deadline)
    next(results)  # enter its try block, so closing or dropping it cancels
    return results


def _in_order(submit: Callable[[tuple[Any, ...]], S], window: collections.deque[S],
              more: Optional[Iterator[tuple[Any, ...]]], deadline: Optional[float]) -> Iterator[Any]:
    try:
        yield None  # primed by bounded_map
        while window:
            value = _result_or_cancel(window.popleft(), deadline)
            if more is not None and not _refill(submit, more, window.append):
                more = None
            yield value
    finally:
        for pending in window:
            pending.cancel()


def _as_finished(submit: Callable[[tuple[Any, ...]], S], arrivals: Arrivals[Any],
                 more: Optional[Iterator[tuple[Any, ...]]], deadline: Optional[float]) -> Iterator[Any]:
    try:
        yield None  # primed by bounded_map
        while len(arrivals):
            finished = arrivals.take(deadline)
            if finished is None:
                raise TimeoutError(f"{len(arrivals)} map results still pending after the timeout")
            value = finished.result(0)
            if more is not None and not _refill(submit, more, arrivals.add):
                more = None
            yield value
    finally:
        for pending in arrivals.discard_all():
            pending.cancel()


def _refill(submit: Callable[[tuple[Any, ...]], S], more: Iterator[tuple[Any, ...]],
            keep: Callable[[S], None]) -> bool:
    """Submit the next call, if any; False once the iterables are exhausted."""
    items = next(more, None)
    if items is None:
        return False
    keep(submit(items))
    return True


def _result_or_cancel(pending: S, deadline: Optional[float]) -> Any:
    try:
        return pending.result(_remaining(deadline))
    finally:
        if not pending.done():  # the timeout passed: it will not be collected
            pending.cancel()
