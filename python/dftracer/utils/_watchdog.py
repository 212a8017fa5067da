"""Watchdog reports as Python values, delivered to logging and callbacks."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from ._types import PoolName, ReportKind

if TYPE_CHECKING:
    from ._runtime import Runtime

logger = logging.getLogger("dftracer.utils")

#: Defaults, in seconds; see Runtime.configure_watchdog.
DEFAULTS = {"interval": 0.25, "slow": 10.0, "stall": 30.0, "deadlock": 5.0}

#: Longest threshold or interval the native watchdog takes (nanoseconds in
#: a 64-bit integer: about 292 years; a round 100 years here).
MAX_SECONDS = 100 * 365.25 * 24 * 3600.0


@dataclass(frozen=True)
class WatchdogReport:
    """One finding of a runtime's watchdog.

    ``kind`` is ``"slow"`` (a task runs longer than the slow threshold;
    reported again each time its running time doubles), ``"timeout"`` (a
    task's own timeout passed: its handle failed with TaskTimeoutError and it
    was asked to stop), ``"stall"`` (work is queued but no task started or
    finished for the stall threshold while every worker was busy) or
    ``"deadlock"`` (every worker of a pool is blocked waiting and none of the
    waits can end; ``cycle`` names the wait-for cycle when it is known).
    ``elapsed`` is in seconds. ``python_stack`` is the Python stack of the
    worker the report is about, when it runs Python code.
    """

    kind: ReportKind
    task_id: int
    task_name: str
    worker: int
    pool: PoolName
    elapsed: float
    message: str
    cycle: list[int] = field(default_factory=list)
    workers: list[int] = field(default_factory=list)
    python_stack: Optional[str] = None

    def __str__(self) -> str:
        return self.message


def _python_stack(native_thread: int) -> Optional[str]:
    frame = sys._current_frames().get(native_thread)
    if frame is None:
        return None
    return "".join(traceback.format_stack(frame))


def make_report(raw: dict[str, Any]) -> WatchdogReport:
    return WatchdogReport(
        kind=raw["kind"], task_id=raw["task_id"], task_name=raw["task_name"], worker=raw["worker"],
        pool=raw["pool"], elapsed=raw["elapsed"], message=raw["message"], cycle=list(raw["cycle"]),
        workers=list(raw["workers"]), python_stack=_python_stack(raw["native_thread"]),
    )


class CallbackList:
    """Thread-safe registry of report callbacks with integer tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 1
        self._callbacks: dict[int, Callable[[WatchdogReport], Any]] = {}

    def add(self, callback: Callable[[WatchdogReport], Any]) -> int:
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        with self._lock:
            token = self._next
            self._next += 1
            self._callbacks[token] = callback
            return token

    def remove(self, token: int) -> bool:
        with self._lock:
            return self._callbacks.pop(token, None) is not None

    def snapshot(self) -> list[Callable[[WatchdogReport], Any]]:
        with self._lock:
            return list(self._callbacks.values())


_dispatching = threading.local()


def on_watchdog_thread() -> bool:
    """True inside a watchdog callback (on the watchdog's sampling thread,
    which must not wait for tasks: only it enforces their timeouts)."""
    return getattr(_dispatching, "active", False)


def make_dispatcher(runtime: Runtime) -> Callable[[str, str, Optional[dict[str, Any]]], None]:
    """The callable the native watchdog calls for every log line. Holds the
    runtime weakly, so a forgotten runtime can still be collected."""
    ref = weakref.ref(runtime)

    def dispatch(level: str, line: str, raw: Optional[dict[str, Any]]) -> None:
        severity = logging.ERROR if level == "error" else logging.WARNING
        if raw is None:  # an internal error of the watchdog itself
            logger.log(severity, "%s", line)
            return
        report = make_report(raw)
        if report.python_stack:
            logger.log(severity, "%s\nPython stack of worker %d:\n%s", line, report.worker,
                       report.python_stack.rstrip())
        else:
            logger.log(severity, "%s", line)
        rt = ref()
        if rt is None:
            return
        _dispatching.active = True
        try:
            for callback in rt._watchdog_callbacks.snapshot():
                try:
                    callback(report)
                except BaseException:  # never lost, never fatal
                    logger.exception("watchdog callback %r raised", callback)
        finally:
            _dispatching.active = False

    return dispatch
