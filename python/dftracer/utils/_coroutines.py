"""The coroutine bridge: runs one runtime's coroutine tasks on its event loop.

A coroutine task is a deferred native task: a worker hands the coroutine to
the runtime's event loop (one daemon thread per runtime, started on first
use) and the task stays ``running``, holding no worker, until the coroutine
ends. Contract:

- Every outcome of the coroutine, ``BaseException`` included (``SystemExit``,
  ``KeyboardInterrupt``), becomes the task's outcome; nothing escapes into
  the event loop, which keeps serving the other coroutines.
- Inside the coroutine, :func:`current_coroutine_task` names its task, so
  ``stop_requested()``, ``current_task_id()`` and ``wait_all()`` work there.
- A coroutine whose task is cancelled before it starts is closed (no
  "never awaited" warning).
- :meth:`CoroutineBridge.stop` cancels the coroutines still on the loop
  (a timed-out one, or tasks they spawned) by throwing ``CancelledError``
  into them, waits for them to finish (their ``finally`` blocks run), and
  only then stops the loop.
- After :meth:`CoroutineBridge.cancel_all` every coroutine task ends
  cancelled: those on the loop get ``CancelledError`` thrown in, those
  starting later are closed unrun. A coroutine cancelled before its first
  step still resolves its task.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import threading
import time
from collections.abc import Coroutine
from typing import Any, Optional

from . import _core

_current: contextvars.ContextVar[Optional[_core.Task]] = contextvars.ContextVar(
    "dftracer_utils_coroutine_task", default=None)


def current_coroutine_task() -> Optional[_core.Task]:
    """The coroutine task whose code runs in this context, else None."""
    return _current.get()


class CoroutineBridge:
    """One runtime's event loop and the coroutine tasks in flight on it.
    Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._in_flight: set[_core.Task] = set()
        self._stopped = False  # stop() began: never start a loop again
        self._cancelling = False  # cancel_all() began: cancel every coroutine

    @property
    def thread(self) -> Optional[threading.Thread]:
        """The event loop's thread, or None before the first coroutine."""
        return self._thread

    def on_loop_thread(self) -> bool:
        """True on this bridge's event loop thread (inside its coroutines)."""
        thread = self._thread
        return thread is not None and thread is threading.current_thread()

    def submit(self, executor: _core.Executor, coro: Coroutine[Any, Any, Any], name: str, pool: str,
               timeout: float) -> _core.Task:
        """Queue ``coro`` as a deferred task of ``executor``. Closes ``coro``
        if the submit raises, or once its task is cancelled before it ran."""
        try:
            loop = self._event_loop()
            task = executor.submit_deferred(self._start, (coro, loop), name, pool, timeout)
        except BaseException:
            coro.close()
            raise

        def close_if_cancelled(finished: _core.Task) -> None:
            if finished.state == "cancelled":  # never started: nothing awaits it
                coro.close()

        task.add_done_callback(close_if_cancelled, task)
        return task

    def _start(self, coro: Coroutine[Any, Any, Any], loop: asyncio.AbstractEventLoop, task: _core.Task) -> None:
        # Runs briefly on a worker: hands the coroutine to the event loop.
        with self._lock:
            cancelling = self._cancelling
            if not cancelling:
                self._in_flight.add(task)
        if cancelling:
            coro.close()
            raise concurrent.futures.CancelledError("the runtime was shut down with cancel_pending=True")
        runner = self._run(coro, task)
        try:
            future = asyncio.run_coroutine_threadsafe(runner, loop)
        except BaseException:  # the loop closed meanwhile: the task fails with this error
            with self._lock:
                self._in_flight.discard(task)
            runner.close()
            coro.close()
            raise
        future.add_done_callback(functools.partial(self._resolve_if_cancelled_unstarted, coro, task))

    def _resolve_if_cancelled_unstarted(self, coro: Coroutine[Any, Any, Any], task: _core.Task,
                                        future: concurrent.futures.Future[None]) -> None:
        # A runner cancelled before its first step never ran its body, which
        # resolves the task: resolve it here (it is a no-op otherwise).
        if not future.cancelled() or task.done():
            return
        coro.close()
        with self._lock:
            self._in_flight.discard(task)
        try:
            task.resolve_deferred(None, concurrent.futures.CancelledError("coroutine was cancelled"))
        except TypeError:  # resolved meanwhile
            pass

    async def _run(self, coro: Coroutine[Any, Any, Any], task: _core.Task) -> None:
        _current.set(task)  # this asyncio task's own context
        try:
            value = await coro
        except asyncio.CancelledError:
            task.resolve_deferred(None, concurrent.futures.CancelledError("coroutine was cancelled"))
        except GeneratorExit:
            task.resolve_deferred(None, concurrent.futures.CancelledError("coroutine was closed"))
            raise
        except BaseException as error:  # SystemExit too: the loop must live on
            task.resolve_deferred(None, error)
        else:
            task.resolve_deferred(value, None)
        finally:
            with self._lock:
                self._in_flight.discard(task)

    def in_flight(self) -> frozenset[_core.Task]:
        """Coroutine tasks started on the loop and not yet finished."""
        with self._lock:
            return frozenset(t for t in self._in_flight if not t.done())

    def cancel_all(self) -> None:
        """Cancel the coroutines on the loop and every coroutine task that
        starts from now on (for ``shutdown(cancel_pending=True)``); does not
        wait."""
        with self._lock:
            self._cancelling = True
        self.cancel_in_flight()

    def abandon(self) -> None:
        """The runtime was collected without a shutdown: end the loop's
        thread. As :meth:`stop`, except on the loop's own thread (the last
        reference dropped inside a coroutine), where it only asks the loop
        to stop after the current step."""
        if not self.on_loop_thread():
            self.stop()
            return
        with self._lock:
            loop, self._stopped = self._loop, True
        if loop is not None:
            _cancel_all_tasks()
            loop.call_soon(loop.stop)

    def cancel_in_flight(self) -> None:
        """Throw ``CancelledError`` into every coroutine on the loop; does
        not wait (see :meth:`stop`)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(_cancel_all_tasks)
            except RuntimeError:  # the loop closed meanwhile
                pass

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._stopped:
                raise RuntimeError("Runtime is shut down")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def serve() -> None:
                    asyncio.set_event_loop(loop)
                    ready.set()
                    loop.run_forever()

                thread = threading.Thread(target=serve, name="dftracer-asyncio", daemon=True)
                thread.start()
                ready.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    def stop(self) -> None:
        """Cancel what is still on the loop, wait for it, stop the loop and
        join its thread. Not on the loop thread itself. Safe to call twice."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if thread is not None and thread is threading.current_thread():
                raise RuntimeError("the event loop cannot stop itself from one of its coroutines")
            self._loop = self._thread = None
            self._stopped = True
        if loop is None or thread is None:
            return
        if not thread.is_alive():  # nothing left to run the cancellations
            loop.close()
            return
        try:
            asyncio.run_coroutine_threadsafe(_finish_remaining(), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()


def _cancel_all_tasks() -> None:
    for pending in asyncio.all_tasks():
        pending.cancel()


async def _finish_remaining() -> None:
    me = asyncio.current_task()
    pending = [t for t in asyncio.all_tasks() if t is not me]
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


#: Longest pause between two looks at the counts in wait_all_from_loop.
_LOOK_EVERY = 0.01


def wait_all_from_loop(executor: _core.Executor, bridge: CoroutineBridge, timeout: Optional[float]) -> bool:
    """``wait_all()`` called inside a coroutine task, on the event loop thread.

    Blocking the loop freezes every coroutine task in flight on it (the
    caller included): waiting for them would wait forever. So this waits
    until every other task has finished, i.e. until the unfinished tasks
    are exactly the in-flight coroutines, seen the same twice around the
    count. Returns False if ``timeout`` seconds pass first. The GIL is
    released while it waits; Ctrl-C is not delivered to this thread.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    pause = 0.0005
    while True:
        before = bridge.in_flight()
        counts = executor.counts()
        after = bridge.in_flight()
        if before == after and counts["queued"] + counts["running"] <= len(after):
            return True
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        slice_ = pause if remaining is None else min(pause, remaining)
        if executor.wait_all(slice_):  # releases the GIL; True only if all finished
            return True
        pause = min(pause * 2, _LOOK_EVERY)
