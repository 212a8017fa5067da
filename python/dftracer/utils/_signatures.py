"""The typed call signatures of ``submit`` and ``map``, written once.

``Runtime.submit``, ``Runtime.submit_io``, ``TaskOptions.submit`` and
``TaskGroup.submit`` / ``submit_io`` all take the same arguments; the classes
declare them with these protocols for type checkers and keep a plain
implementation at run time (no overload dispatch on the submit path).

``submit(fn, *args, **kwargs)`` checks ``args`` and ``kwargs`` against
``fn`` (``ParamSpec``) and gives ``TaskHandle[R]``, where ``R`` is what
``fn`` returns, or what it awaits for an ``async def``. ``name=`` is taken by
the runtime, not passed to ``fn``; a call that gives it falls back to an
overload that checks only ``fn``'s return type.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional, Protocol, TypeVar, overload

from ._types import P, R

if TYPE_CHECKING:
    from ._handle import TaskHandle

T1 = TypeVar("T1")
T2 = TypeVar("T2")


class SubmitFunction(Protocol):
    """``submit(fn, /, *args, name=None, **kwargs) -> TaskHandle[R]``."""

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]], /, *args: P.args,
                 **kwargs: P.kwargs) -> TaskHandle[R]: ...

    @overload
    def __call__(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> TaskHandle[R]: ...

    @overload
    def __call__(self, fn: Coroutine[Any, Any, R], /, *, name: Optional[str] = None) -> TaskHandle[R]: ...

    # With ``name=``: mypy reports these as unreachable because a ParamSpec
    # could absorb ``name``, but a call whose ``fn`` takes no ``name`` does
    # fall through to them (tests/python/typing_check.py shows it).
    @overload
    def __call__(  # type: ignore[overload-cannot-match]
            self, fn: Callable[..., Coroutine[Any, Any, R]], /, *args: Any, name: Optional[str],
            **kwargs: Any) -> TaskHandle[R]: ...

    @overload
    def __call__(  # type: ignore[overload-cannot-match]
            self, fn: Callable[..., R], /, *args: Any, name: Optional[str], **kwargs: Any) -> TaskHandle[R]: ...


class MapFunction(Protocol):
    """``map(fn, *iterables, buffersize=None, timeout=None, ordered=True,
    name=None) -> Iterator[R]``."""

    @overload
    def __call__(self, fn: Callable[[T1], Coroutine[Any, Any, R]], iterable: Iterable[T1], /, *,
                 buffersize: Optional[int] = None, timeout: Optional[float] = None, ordered: bool = True,
                 name: Optional[str] = None) -> Iterator[R]: ...

    @overload
    def __call__(self, fn: Callable[[T1], R], iterable: Iterable[T1], /, *, buffersize: Optional[int] = None,
                 timeout: Optional[float] = None, ordered: bool = True,
                 name: Optional[str] = None) -> Iterator[R]: ...

    @overload
    def __call__(self, fn: Callable[[T1, T2], R], iterable1: Iterable[T1], iterable2: Iterable[T2], /, *,
                 buffersize: Optional[int] = None, timeout: Optional[float] = None, ordered: bool = True,
                 name: Optional[str] = None) -> Iterator[R]: ...

    @overload
    def __call__(self, fn: Callable[..., R], iterable1: Iterable[Any], iterable2: Iterable[Any],
                 iterable3: Iterable[Any], /, *iterables: Iterable[Any], buffersize: Optional[int] = None,
                 timeout: Optional[float] = None, ordered: bool = True,
                 name: Optional[str] = None) -> Iterator[R]: ...
