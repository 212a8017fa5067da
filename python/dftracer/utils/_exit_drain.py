"""Interpreter exit: drain every live runtime, and let a second Ctrl-C cut
the drain short.

Contract (runs on the main thread from ``threading._shutdown``, before the
interpreter finalizes, as :mod:`concurrent.futures` does):

- Intake stops at once; queued work runs to the end and every worker exits
  while Python is intact.
- Tasks that fail during the drain fail after the script could look at
  them: unless an error callback is set, they are reported (a warning on
  the ``dftracer.utils`` logger, which Python prints to stderr when logging
  is not configured), so no error goes unseen.
- A ``KeyboardInterrupt`` while waiting (Ctrl-C pressed during the drain:
  the first one usually ended the script already) cancels every task still
  queued and every coroutine in flight (``CancelledError`` is thrown in, so
  ``finally`` blocks run), prints to stderr what was abandoned, and then
  waits only for the tasks already running: a worker cannot be killed
  safely, so exit takes as long as the longest running task has left.
"""

from __future__ import annotations

import collections
import functools
import logging
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from ._runtime import Runtime

logger = logging.getLogger("dftracer.utils")

#: How often a step interrupted by yet another Ctrl-C is started again.
_RETRIES = 100

#: How many queued task names the abandon message lists (most common first).
_NAMES_SHOWN = 5


#: How many failures the exit report describes.
_FAILURES_SHOWN = 3


def drain_at_exit(runtimes: Iterable[Runtime]) -> None:
    live = [rt for rt in runtimes if not rt._core.forked]
    interrupted = False
    for index, rt in enumerate(live):
        failed_before = len(rt.get_failed())
        if not interrupted:
            try:
                rt._core.shutdown(True, False)  # stop intake; the queue still runs
                unfinished = _unfinished(rt)
                if unfinished:
                    logger.debug("exit: waiting for %d unfinished task(s); press Ctrl-C to cancel the queued ones",
                                 unfinished)
                rt._core.wait_all(None)  # interruptible: Ctrl-C lands here
            except KeyboardInterrupt:
                interrupted = True
                rest = live[index:]  # this runtime and those not drained yet
                _despite_interrupts(functools.partial(_abandon, rest))
        _despite_interrupts(functools.partial(rt.shutdown, wait=True, cancel_pending=interrupted))
        _despite_interrupts(functools.partial(_report_failures, rt, failed_before))


def _report_failures(rt: Runtime, failed_before: int) -> None:
    """Warn about the tasks that failed during the drain, unless an error
    callback saw them."""
    if rt._error_callback is not None:
        return
    failed = rt.get_failed()[failed_before:]
    if not failed:
        return
    shown = "; ".join(f"{h.name or '<unnamed>'} (task {h.id}): {h.exception!r}" for h in failed[:_FAILURES_SHOWN])
    more = "" if len(failed) <= _FAILURES_SHOWN else f"; and {len(failed) - _FAILURES_SHOWN} more"
    logger.warning("%d task(s) failed during interpreter exit: %s%s", len(failed), shown, more)


def _despite_interrupts(step: Callable[[], None]) -> None:
    """Run ``step`` to the end: a further Ctrl-C must not leave workers
    running Python while the interpreter finalizes. Each step is idempotent."""
    for _ in range(_RETRIES):
        try:
            step()
            return
        except KeyboardInterrupt:
            continue
        except Exception:  # pragma: no cover - exit must go on
            logger.debug("exit: a shutdown step failed", exc_info=True)
            return


def _unfinished(rt: Runtime) -> int:
    counts = rt._core.counts()
    return int(counts["queued"] + counts["running"])


def _abandon(runtimes: list[Runtime]) -> None:
    cancelled = 0
    running = 0
    names: collections.Counter[str] = collections.Counter()
    for rt in runtimes:
        try:
            tasks = cast("list[dict[str, Any]]", rt._core.progress(True, 1 << 20)["tasks"])
            queued = [t["name"] or "<unnamed>" for t in tasks if t["state"] == "queued"]
            before = rt._core.counts()["cancelled"]
            rt._core.shutdown(False, False)  # cancels what is queued; never blocks
            # Counted before the coroutines in flight are told to stop: they
            # are running until their cleanup ends, and the message says
            # what exit waits for (their cancellation can finish at once).
            after = rt._core.counts()
            rt._coroutines.cancel_in_flight()
        except Exception:  # pragma: no cover - exit must go on
            continue
        cancelled += int(after["cancelled"] - before)
        running += int(after["running"])
        names.update(queued)
    shown = ", ".join(f"{name} x{count}" for name, count in names.most_common(_NAMES_SHOWN))
    more = "" if len(names) <= _NAMES_SHOWN else ", ..."
    sys.stderr.write(f"dftracer.utils: interrupted during exit: cancelled {cancelled} queued task(s)"
                     f"{f' ({shown}{more})' if shown else ''}; waiting for {running} running task(s) to finish\n")
    sys.stderr.flush()
