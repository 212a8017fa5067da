"""Runtime: compute and io pools running Python callables and coroutines."""

from __future__ import annotations

import inspect
import logging
import os
import threading
import types
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Optional, Union

from . import _core, _watchdog
from ._coroutines import CoroutineBridge, wait_all_from_loop
from ._groups import GroupRegistry, TaskGroup
from ._handle import TaskHandle, _check_timeout
from ._mapping import bounded_map
from ._naming import derive_name
from ._trace_write import check_suffix, write_trace_text
from ._types import PoolName, Progress

if TYPE_CHECKING:
    from ._futures import RuntimeExecutor
    from ._signatures import MapFunction, SubmitFunction
    from ._watchdog import WatchdogReport

logger = logging.getLogger("dftracer.utils")

_POOLS = ("compute", "io")

#: Every live runtime, so interpreter exit can drain them (see _lifecycle).
_live_runtimes: weakref.WeakSet[Runtime] = weakref.WeakSet()


#: Most threads one pool may have (the engine's own limit, checked here first
#: so an absurd size fails before anything is allocated). Per-worker memory
#: is constant, so the limit guards against typos, not cost.
MAX_THREADS = 4096


#: Largest count the engine takes (a history size or a listing bound: a C int).
MAX_COUNT = 2**31 - 1


def _check_size(label: str, value: Any, limit: int = MAX_COUNT, limit_name: str = "the engine's limit",
                zero: str = "0 = auto-size") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{label} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{label} must be >= 0 ({zero}), got {value}")
    if value > limit:
        raise ValueError(f"{label} must be <= {limit} ({limit_name}), got {value}")
    return value


def _check_pool_size(label: str, value: Any) -> int:
    return _check_size(label, value, MAX_THREADS, "Runtime.MAX_THREADS, the per-pool limit")


def _check_history(value: Any) -> int:
    return _check_size("history", value, zero="0 = no recording")


def _is_async_function(fn: Any) -> bool:
    """``inspect.iscoroutinefunction(fn)``, answered from the code flags for a
    plain function with no attributes (the common case, and the one
    ``inspect`` would not unwrap or find marked): that costs a fraction of
    the full check on every submit."""
    if type(fn) is types.FunctionType and not fn.__dict__:
        return bool(fn.__code__.co_flags & inspect.CO_COROUTINE)
    if inspect.iscoroutinefunction(fn):
        return True
    # An object whose __call__ is an ``async def`` (a class is not one:
    # calling it makes an instance). Looked up only for such objects.
    if isinstance(fn, (types.FunctionType, types.MethodType, types.BuiltinFunctionType, type)):
        return False
    return inspect.iscoroutinefunction(inspect.getattr_static(type(fn), "__call__", None))


def _check_name(name: Any) -> Optional[str]:
    if name is None:
        return None
    if not isinstance(name, str):
        raise TypeError(f"name must be a str or None, got {type(name).__name__}")
    _check_encodable(name)
    return name


def _check_encodable(name: str) -> None:
    """Names cross into native code as UTF-8: a lone surrogate cannot."""
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(f"name must be encodable as UTF-8; {e.reason} at index {e.start}: {name!r}") from None


class TaskOptions:
    """Submission options bound to a runtime: see :meth:`Runtime.options`.

    ``pool`` is ``"compute"`` or ``"io"``; ``timeout`` is a per-task budget
    in seconds, counted from when the task starts (``None`` for none). When
    it passes, the watchdog fails the task's handle with
    :class:`TaskTimeoutError` and requests it to stop; the running code is
    never killed.
    """

    __slots__ = ("_runtime", "pool", "timeout")

    def __init__(self, runtime: Runtime, pool: PoolName = "compute", timeout: Optional[float] = None):
        if pool not in _POOLS:
            raise ValueError(f"pool must be 'compute' or 'io', got {pool!r}")
        timeout = _check_timeout(timeout)
        if timeout == 0:
            raise ValueError("timeout must be > 0 seconds or None")
        self._runtime = runtime
        self.pool: PoolName = pool
        self.timeout: Optional[float] = timeout

    if TYPE_CHECKING:
        submit: SubmitFunction
        map: MapFunction
    else:

        def submit(self, fn, /, *args, name=None, **kwargs):
            """Like :meth:`Runtime.submit`, with these options."""
            return self._runtime._submit(fn, args, kwargs, name, self.pool, self.timeout)

        def map(self, fn, /, *iterables, buffersize=None, timeout=None, ordered=True, name=None):
            """Like :meth:`Runtime.map`, with these options. ``timeout`` bounds
            the wait for the results, as in :meth:`Runtime.map`; each task's
            own budget is the options' ``timeout``."""
            return self._runtime._map(fn, iterables, name, self.pool, self.timeout, buffersize, timeout, ordered)

    def __repr__(self) -> str:
        return f"<TaskOptions pool={self.pool!r} timeout={self.timeout!r}>"


class Runtime:
    """Compute and io thread pools that run Python callables and coroutines.

    ``threads`` sizes the compute pool and ``io_threads`` a separate pool for
    blocking I/O; ``0`` auto-sizes (compute: the CPUs this process may use;
    io: half of that, between 2 and 8). Each pool has at most :attr:`MAX_THREADS` (4096)
    threads; a larger size raises ``ValueError`` before anything is
    allocated. ``history`` bounds how many finished
    tasks :meth:`get_progress` and :meth:`export_trace` remember (counts stay
    exact); it is shared out evenly between the workers, so each remembers
    its ``history / (workers + 1)`` most recent tasks.

    Tasks run on native worker threads that hold the GIL only while Python
    code runs. Every method is thread-safe. Used as a context manager, the
    runtime waits for all work on exit and then shuts down.
    """

    #: Most threads one pool may have (4096): ``threads`` or ``io_threads``
    #: above it raise ``ValueError`` before anything is allocated.
    MAX_THREADS = MAX_THREADS

    def __init__(self, threads: int = 0, io_threads: int = 0, *, history: int = 1024,
                 watchdog: bool = True) -> None:
        _check_pool_size("threads", threads)
        _check_pool_size("io_threads", io_threads)
        _check_history(history)
        if not isinstance(watchdog, bool):
            raise TypeError(f"watchdog must be a bool, got {type(watchdog).__name__}")
        self._core = _core.Executor(threads, io_threads, history)
        self._failed: list[TaskHandle[Any]] = []
        self._failed_lock = threading.Lock()
        self._error_callback: Optional[Callable[[TaskHandle[Any], BaseException], object]] = None
        self._coroutines = CoroutineBridge()
        self._watchdog_lock = threading.Lock()
        self._watchdog_settings = dict(_watchdog.DEFAULTS)
        self._watchdog_callbacks = _watchdog.CallbackList()
        self._watchdog: Optional[_core.Watchdog] = None
        self._shutdown_helper: Optional[threading.Thread] = None
        self._groups = GroupRegistry()
        # Native code holds these dispatchers; they hold the runtime weakly so
        # an unreferenced runtime is still collected.
        self._core.set_error_dispatch(_failure_dispatcher(self))
        if watchdog:
            self._start_watchdog()
        _live_runtimes.add(self)
        # Collected without shutdown(): the event loop's thread (if a
        # coroutine ever ran) must end too; it holds the bridge, not self.
        weakref.finalize(self, self._coroutines.abandon).atexit = False

    # ------------------------------------------------------------------ sizes

    @property
    def threads(self) -> int:
        """Size of the compute pool."""
        return self._core.threads

    @property
    def io_threads(self) -> int:
        """Size of the io pool."""
        return self._core.io_threads

    @property
    def is_shutdown(self) -> bool:
        """True once :meth:`shutdown` has begun."""
        return self._core.is_shut_down

    # ------------------------------------------------------------- submitting

    if TYPE_CHECKING:
        submit: SubmitFunction
        submit_io: SubmitFunction
        map: MapFunction
    else:
        # Typed by SubmitFunction and MapFunction (see _signatures); plain
        # here, so the submit path pays for no overload dispatch.

        def submit(self, fn, /, *args, name=None, **kwargs):
            """Run ``fn(*args, **kwargs)`` on the compute pool; returns at once.

            ``name`` labels the task in progress reports and errors; by default it
            is derived from ``fn`` (``"Pipeline.run"`` for ``p.run``, ``""`` for a
            lambda). ``name`` is the only keyword taken from ``kwargs``; use
            :meth:`options` for the io pool or a timeout. ``async def`` functions
            and coroutine objects are accepted and run on the runtime's event loop.
            Type checkers see ``TaskHandle[R]``, ``R`` being what ``fn`` returns
            (or awaits), and check the arguments against ``fn``.

            Raises ``TypeError`` if ``fn`` is not callable or ``name`` is not a
            string, and ``RuntimeError`` after :meth:`shutdown`.
            """
            return self._submit(fn, args, kwargs, name, "compute", None)

        def submit_io(self, fn, /, *args, name=None, **kwargs):
            """Like :meth:`submit`, on the io pool (for blocking reads and writes)."""
            return self._submit(fn, args, kwargs, name, "io", None)

        def map(self, fn, /, *iterables, buffersize=None, timeout=None, ordered=True, name=None):
            """Run ``fn(*items)`` for each tuple of items; return an iterator
            over the results.

            ``buffersize=None`` submits every call now; an int keeps at most
            that many tasks in flight, pulling the iterables lazily (the first
            ``buffersize`` calls are submitted now, one more each time a result
            is taken), so memory stays flat over millions of items.
            ``ordered=True`` yields in input order; ``False`` as tasks finish.
            ``timeout`` seconds, counted from this call, bound the wait for
            the results: after it ``next()`` raises ``TimeoutError``. A
            failure is raised from ``next()``; then, or when the iterator is
            closed or dropped early, nothing more is pulled and the queued
            calls are cancelled. Arguments are checked at the call.
            """
            return self._map(fn, iterables, name, "compute", None, buffersize, timeout, ordered)

    def options(self, *, pool: PoolName = "compute", timeout: Optional[float] = None) -> TaskOptions:
        """Submission options: ``rt.options(pool="io", timeout=30).submit(fn, x)``."""
        return TaskOptions(self, pool, timeout)

    def group(self, name: Optional[str] = None) -> TaskGroup:
        """A :class:`TaskGroup`: ``with rt.group() as g: g.submit(...)``.
        ``name`` labels it in :meth:`get_progress` and errors (default
        ``"group-N"``)."""
        return TaskGroup(self, name)

    def _submit(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: Optional[str],
                pool: str, timeout: Optional[float]) -> TaskHandle[Any]:
        _check_name(name)
        if inspect.iscoroutine(fn):
            if args or kwargs:
                fn.close()
                raise TypeError("a coroutine object takes no arguments")
            return self._submit_coroutine(fn, name, pool, timeout)
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        if timeout and self._watchdog is None:
            if self.is_shutdown:  # the documented error first: shutdown also stops the watchdog
                raise RuntimeError("Runtime is shut down")
            raise ValueError("task timeouts are enforced by the watchdog, which is off for this runtime")
        if name is None:
            name = derive_name(fn)
            _check_encodable(name)
        if _is_async_function(fn):
            return self._submit_coroutine(fn(*args, **kwargs), name, pool, timeout)
        task = self._core.submit(fn, args, kwargs or None, name, pool, timeout or 0.0)
        return TaskHandle(task)

    def _map(self, fn: Callable[..., Any], iterables: tuple[Iterable[Any], ...], name: Optional[str], pool: str,
             task_timeout: Optional[float], buffersize: Optional[int], timeout: Optional[float],
             ordered: bool) -> Iterator[Any]:
        _check_name(name)

        def submit(items: tuple[Any, ...]) -> TaskHandle[Any]:
            return self._submit(fn, items, {}, name, pool, task_timeout)

        return bounded_map(submit, fn, iterables, buffersize, timeout, ordered)

    # ------------------------------------------------------------- coroutines

    def _submit_coroutine(self, coro: Any, name: Optional[str], pool: str,
                          timeout: Optional[float]) -> TaskHandle[Any]:
        if self.is_shutdown:  # before the event loop is (re)started
            coro.close()
            raise RuntimeError("Runtime is shut down")
        if name is None:
            name = _strip(getattr(coro, "__qualname__", "") or "")
        return TaskHandle(self._coroutines.submit(self._core, coro, name, pool, timeout or 0.0))

    def _in_own_task(self) -> bool:
        """True inside one of this runtime's tasks: on a worker, or in a
        coroutine task on its event loop (neither can wait for itself); or in
        a watchdog callback, whose thread enforces the tasks' timeouts."""
        return (_core.current_worker_id() >= 0 or self._coroutines.on_loop_thread()
                or _watchdog.on_watchdog_thread())

    # ---------------------------------------------------------------- waiting

    def wait_all(self, raise_on_error: bool = False, timeout: Optional[float] = None, *,
                 progress: bool = False) -> None:
        """Block until every submitted task (including tasks submitted by
        tasks) has finished.

        With ``raise_on_error=True``, raises ``RuntimeError("N task(s) failed:
        ...")`` afterwards if :meth:`get_failed` is not empty. Raises
        ``TimeoutError`` if ``timeout`` seconds pass first. Error callbacks for
        the failures have run before this returns. Called inside a task, it
        runs other tasks while waiting and does not wait for itself; it does
        wait for every other task, so do not call it in a task that another
        task is waiting for (that would wait forever). Inside a coroutine task
        it blocks the event loop, so it waits for every task except the
        coroutine tasks in flight on that loop (itself included), which
        cannot advance until it returns.

        ``progress=True`` draws a live bar (done / total, failures, rate) on
        stderr while waiting: tqdm's when installed, a plain line otherwise.
        """
        if not isinstance(raise_on_error, bool) or not isinstance(progress, bool):
            raise TypeError(f"raise_on_error and progress must be bools, got {type(raise_on_error).__name__} and "
                            f"{type(progress).__name__}")
        timeout = _check_timeout(timeout)
        if self._coroutines.on_loop_thread():  # no bar there: it would wait for the caller
            finished = wait_all_from_loop(self._core, self._coroutines, timeout)
        elif progress:
            from ._progress import make_bar, wait_with_bar

            finished = wait_with_bar(self._core.wait_all, self._core.counts, timeout, make_bar())
        else:
            finished = self._core.wait_all(timeout)
        if not finished:
            raise TimeoutError(f"tasks still running after {timeout} s")
        if raise_on_error:
            failed = self.get_failed()
            if failed:
                details = "; ".join(f"{h.name or '<unnamed>'}: {_describe(h.exception)}" for h in failed)
                raise RuntimeError(f"{len(failed)} task(s) failed: {details}")

    # ----------------------------------------------------------------- errors

    def get_failed(self) -> list[TaskHandle[Any]]:
        """Handles of failed tasks, oldest first; they stay until :meth:`clear_failed`."""
        with self._failed_lock:
            return list(self._failed)

    def clear_failed(self) -> None:
        """Forget the failed handles collected so far."""
        with self._failed_lock:
            self._failed.clear()

    def set_error_callback(self, callback: Optional[Callable[[TaskHandle[Any], BaseException], object]]) -> None:
        """Call ``callback(handle, exception)`` for every task that fails from
        now on, on the thread that ran it, before :meth:`wait_all` returns.
        ``None`` removes it. An exception raised by the callback is logged to
        the ``dftracer.utils`` logger, never lost and never fatal. For a task
        failed by its timeout the callback runs on the watchdog thread; it must
        not call :meth:`wait_all` or :meth:`shutdown` there (the failing task
        only counts as finished once the callback returns)."""
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
        self._error_callback = callback

    # --------------------------------------------------------------- watchdog

    def configure_watchdog(self, *, enabled: Optional[bool] = None, interval: Optional[float] = None,
                           slow: Optional[float] = None, stall: Optional[float] = None,
                           deadlock: Optional[float] = None) -> dict[str, Any]:
        """Change the watchdog's settings (seconds; ``0`` disables that check)
        and return them. Defaults: ``interval=0.25``, ``slow=10``,
        ``stall=30``, ``deadlock=5``. ``enabled=False`` stops the watchdog
        (per-task timeouts are then not enforced); ``enabled=True`` starts it.
        Values above 100 years (infinity included) are refused; a refused call
        changes nothing. The watchdog restarts only when a setting changes (a
        restart forgets how long a task has been slow), so calling this with
        no arguments just reads the settings.
        """
        # Everything is checked before anything changes: a refused call
        # leaves the watchdog as it was.
        if enabled is not None and not isinstance(enabled, bool):
            raise TypeError(f"enabled must be a bool or None, got {type(enabled).__name__}")
        updates: dict[str, float] = {}
        for key, value in {"interval": interval, "slow": slow, "stall": stall, "deadlock": deadlock}.items():
            if value is None:
                continue
            checked = _check_timeout(value, key)
            if checked is None or checked > _watchdog.MAX_SECONDS:
                raise ValueError(f"{key} must be at most {_watchdog.MAX_SECONDS:g} seconds (0 turns the check "
                                 f"off), got {value}")
            updates[key] = checked
        with self._watchdog_lock:
            changed = any(self._watchdog_settings[k] != v for k, v in updates.items())
            self._watchdog_settings.update(updates)
            running = self._watchdog is not None
        want = running if enabled is None else enabled
        # Restarted only when something changed: a restart forgets what the
        # watchdog was tracking (how long a task has been slow, a deadlock
        # being confirmed), so reading the settings must not cause one.
        if want != running or (want and changed):
            self._stop_watchdog()
            if want and not self.is_shutdown:
                self._start_watchdog()
        return dict(self._watchdog_settings, enabled=self._watchdog is not None)

    def add_watchdog_callback(self, callback: Callable[[WatchdogReport], Any]) -> int:
        """Call ``callback(report)`` for every watchdog report (on the watchdog
        thread); returns a token for :meth:`remove_watchdog_callback`. Every
        report is also logged to the ``dftracer.utils`` logger (WARNING;
        deadlocks at ERROR) with the stuck worker's Python stack."""
        return self._watchdog_callbacks.add(callback)

    def remove_watchdog_callback(self, token: int) -> bool:
        """Forget a callback; False if the token is unknown."""
        return self._watchdog_callbacks.remove(token)

    def check_watchdog(self) -> list[WatchdogReport]:
        """Run one watchdog pass now on this thread and return its reports
        (they are also logged and passed to the callbacks)."""
        wd = self._watchdog
        if wd is None:
            raise RuntimeError("the watchdog is off: Runtime(watchdog=True) or configure_watchdog(enabled=True)")
        return [_watchdog.make_report(raw) for raw in wd.check_now()]

    def _start_watchdog(self) -> None:
        with self._watchdog_lock:
            if self._watchdog is not None:
                return
            s = self._watchdog_settings
            self._watchdog = _core.Watchdog(self._core, s["interval"], s["slow"], s["stall"], s["deadlock"],
                                            _watchdog.make_dispatcher(self))

    def _stop_watchdog(self) -> None:
        with self._watchdog_lock:
            wd, self._watchdog = self._watchdog, None
        if wd is not None:
            wd.close()

    def _on_failure(self, task: _core.Task, error: BaseException) -> None:
        handle: TaskHandle[Any] = TaskHandle(task)
        with self._failed_lock:
            self._failed.append(handle)
        callback = self._error_callback
        if callback is None:
            return
        try:
            callback(handle, error)
        except BaseException:  # never lost, never fatal
            logger.exception("error callback raised while handling failure of task %r", handle.name)

    # --------------------------------------------------------------- progress

    def get_progress(self, *, max_queued: int = 1000) -> Progress:
        """Counts, workers and tasks right now, as a dict.

        Keys: ``total``, ``completed``, ``running``, ``queued``, ``failed``,
        ``cancelled`` (they add up to ``total``), ``workers`` (one dict per
        worker: ``id``, ``idle``, ``task``, ``queue_depth``, ``pool``, ...),
        ``tasks`` (live tasks, up to ``max_queued`` queued ones, and the recent
        finished ones: ``name``, ``state``, ``execution_duration_ms``,
        ``queued_duration_ms``, ``progress_pct``, ``group``, ...), ``errors``
        and ``groups`` (each open :class:`TaskGroup`: ``name``, ``total``,
        ``done``, ``failed``). Typed as :class:`Progress`.
        """
        _check_size("max_queued", max_queued, zero="0 = none listed")
        return self._groups.annotate(self._core.progress(True, max_queued))

    # ------------------------------------------------------------------ trace

    def export_trace(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write what the runtime ran as a timeline that lines up with the
        application's own DFTracer trace (see :doc:`/traces`).

        ``.pfw.gz``: DFTracer's format, JSON lines in gzip members, as the
        tracer writes them (what ``dftracer_validate`` and the field's
        readers accept); ``.json``: Chrome trace events (open in Perfetto or
        chrome://tracing); ``.pfw``: the uncompressed JSON lines, a
        convenience for reading by eye that the field's tools do not read.
        One complete event per started task: ``pid`` and ``tid`` are the OS
        process and thread ids (the worker's kernel tid, as DFTracer records
        it), ``cat`` is ``python``, ``compute``, ``io`` or ``coroutine``,
        ``ts``/``dur`` are microseconds since the epoch, ``args`` has the
        task id, worker index, pool, state and error; ``M`` events name the
        process and each worker with its pool. Covers live tasks and the
        ``history`` most recent finished ones (recording is bounded by
        ``Runtime(history=...)``; 0 turns it off).
        """
        target = os.fspath(path)
        if not isinstance(target, str):
            raise TypeError("path must be a str or os.PathLike[str]")
        check_suffix(target)
        write_trace_text(target, self._core.render_trace("chrome" if target.endswith(".json") else "pfw"))

    def plot_timeline(self, path: Optional[Union[str, os.PathLike[str]]] = None, **kwargs: Any) -> Any:
        """Draw the per-worker timeline of recorded tasks (needs matplotlib);
        see :func:`dftracer.utils.plot_timeline`."""
        from ._timeline import plot_timeline

        return plot_timeline(self, path, **kwargs)

    # --------------------------------------------------------------- lifecycle

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Stop accepting tasks. ``cancel_pending=True`` cancels queued tasks
        (their handles report ``cancelled``) and the coroutine tasks in flight
        on the runtime's event loop (``asyncio.CancelledError`` is thrown
        into them; their handles then raise ``CancelledError``); otherwise
        queued tasks still run.
        ``wait=True`` blocks until the workers finish (Ctrl-C interrupts that
        wait; the shutdown goes on in the background), except inside one of the
        runtime's own tasks (coroutine tasks included) or a watchdog callback,
        where it returns at once (the work finishes in the background). Coroutines still pending
        on the runtime's event loop once the tasks are done (one whose
        timeout passed, or asyncio tasks they spawned) are cancelled:
        ``asyncio.CancelledError`` is thrown into them and shutdown waits for
        them to finish. Safe to call twice."""
        if not isinstance(wait, bool) or not isinstance(cancel_pending, bool):
            raise TypeError(f"wait and cancel_pending must be bools, got {type(wait).__name__} and "
                            f"{type(cancel_pending).__name__}")
        drain = not cancel_pending
        self._core.shutdown(drain, False)  # intake stops; never blocks
        if cancel_pending:
            # After intake stopped, so no coroutine starts unseen: none is
            # left holding the wait below (a suspended one holds no worker,
            # and nothing else would end it).
            self._coroutines.cancel_all()
        if wait and not self._in_own_task():
            # Waited for as wait_all() waits, so Ctrl-C interrupts it (the
            # shutdown then goes on in the background; call again to wait).
            self._core.wait_all(None)
            self._core.shutdown(drain)  # joins the workers, idle by now
            self._stop_watchdog()
            self._coroutines.stop()
            helper = self._shutdown_helper
            if helper is not None and helper is not threading.current_thread():
                helper.join()
            return
        # Called from one of the runtime's own tasks (which cannot wait for
        # itself), or asked not to wait: intake stopped above; a helper
        # thread waits for the work before stopping the watchdog and the event
        # loop that in-flight coroutines still need. The helper is not a
        # daemon: interpreter exit waits for it instead of freezing it
        # half-way through native code.
        with self._watchdog_lock:
            if self._shutdown_helper is None:
                self._shutdown_helper = threading.Thread(target=self._finish_shutdown, args=(drain,),
                                                         name="dftracer-shutdown")
                self._shutdown_helper.start()

    def _finish_shutdown(self, drain: bool) -> None:
        self._core.shutdown(drain)
        self._stop_watchdog()
        self._coroutines.stop()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            if not self.is_shutdown:
                self.wait_all()
        finally:
            self.shutdown(wait=True)

    def as_executor(self, pool: PoolName = "compute") -> RuntimeExecutor:
        """A :class:`concurrent.futures.Executor` running on this runtime
        (for ``loop.run_in_executor``, Dask, and other executor consumers)."""
        from ._futures import RuntimeExecutor

        return RuntimeExecutor(self, pool)

    def __repr__(self) -> str:
        state = "shut down" if self.is_shutdown else "running"
        return f"<Runtime threads={self.threads} io_threads={self.io_threads} {state}>"


def _failure_dispatcher(runtime: Runtime) -> Callable[[_core.Task, BaseException], None]:
    ref = weakref.ref(runtime)

    def dispatch(task: _core.Task, error: BaseException) -> None:
        rt = ref()
        if rt is not None:
            rt._on_failure(task, error)

    return dispatch


def _describe(error: Optional[BaseException]) -> str:
    """``"Type: message"``; never raises (a ``__str__`` that raises is named)."""
    if error is None:
        return "unknown error"
    try:
        text = str(error)
    except Exception as e:
        text = f"<str() raised {type(e).__name__}>"
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _strip(qualname: str) -> str:
    return qualname.rpartition("<locals>.")[2]


