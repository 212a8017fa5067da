"""A dftracer-utils Runtime per Dask worker.

Importable only where ``dask.distributed`` is installed
(``pip install "dftracer-utils[dask]"``); ``import dftracer.utils`` never
needs Dask.

.. code-block:: python

    from dask.distributed import Client
    from dftracer.utils.dask import DFTracerUtilsDaskWorkerPlugin

    client = Client("scheduler:8786")
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=48))

Inside Dask tasks, :func:`dftracer.utils.get_default_runtime` (or
:func:`get_worker_runtime`) returns the worker's runtime. Tasks submitted
under ``dask.annotate(executor=EXECUTOR_NAME)`` run on its compute threads.

From the client, :func:`cluster_progress`, :func:`show_cluster_progress`,
:func:`subscribe_watchdog` and :func:`export_cluster_trace` give one view of
every worker's runtime.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from typing import Any, Optional

try:
    from distributed import WorkerPlugin, get_worker
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "dftracer.utils.dask needs dask.distributed; install it with "
        "pip install \"dftracer-utils[dask]\""
    ) from error

from ._cluster import (
    WATCHDOG_TOPIC,
    ClusterProgress,
    ClusterTrace,
    DaskWorkerProgress,
    RemoteWatchdogReport,
    TraceWorker,
    WorkerStatus,
    cluster_progress,
    export_cluster_trace,
    make_publisher,
    show_cluster_progress,
    subscribe_watchdog,
    unsubscribe_watchdog,
)
from ._defaults import peek_default_runtime, set_default_runtime
from ._handle import _check_timeout
from ._runtime import Runtime, _check_history, _check_pool_size
from ._watchdog import MAX_SECONDS

__all__ = [
    "ClusterProgress",
    "ClusterTrace",
    "DFTracerUtilsDaskWorkerPlugin",
    "DaskWorkerProgress",
    "EXECUTOR_NAME",
    "RemoteWatchdogReport",
    "TraceWorker",
    "WATCHDOG_TOPIC",
    "WorkerStatus",
    "cluster_progress",
    "export_cluster_trace",
    "get_worker_runtime",
    "show_cluster_progress",
    "subscribe_watchdog",
    "unsubscribe_watchdog",
]

_WATCHDOG_KEYS = ("enabled", "interval", "slow", "stall", "deadlock")

logger = logging.getLogger("dftracer.utils")

#: Name of the Dask worker executor backed by the runtime.
EXECUTOR_NAME = "dftracer"
_RUNTIME_ATTRIBUTE = "dftracer_runtime"


def get_worker_runtime(worker: Any = None) -> Runtime:
    """The runtime the plugin installed on ``worker`` (default: the current
    Dask worker). Raises ``RuntimeError`` if the plugin is not registered."""
    worker = worker if worker is not None else get_worker()
    runtime: Optional[Runtime] = getattr(worker, _RUNTIME_ATTRIBUTE, None)
    if runtime is None:
        raise RuntimeError("no dftracer-utils runtime on this worker: register DFTracerUtilsDaskWorkerPlugin")
    return runtime


def _worker_threads(worker: Any) -> int:
    # The worker's own thread count is Dask's share of the node for this
    # process (LocalCluster and dask-worker split the cores among processes),
    # so using it never oversubscribes the node.
    state = getattr(worker, "state", None)
    nthreads = getattr(state, "nthreads", None) or getattr(worker, "nthreads", None)
    return max(1, int(nthreads or os.cpu_count() or 1))


class DFTracerUtilsDaskWorkerPlugin(WorkerPlugin):
    """Creates one :class:`~dftracer.utils.Runtime` per Dask worker process.

    ``threads=0`` sizes the compute pool to the worker's own thread count
    (``nthreads``), which never oversubscribes the node; ``io_threads=0``
    uses the runtime's automatic io size. The plugin holds only this
    configuration (it is pickled to every worker). ``shutdown_timeout`` bounds
    how long teardown waits for running tasks before reporting them and
    moving on. ``history`` is the runtime's ``history`` (finished tasks kept
    for progress and traces). ``watchdog`` holds
    :meth:`~dftracer.utils.Runtime.configure_watchdog` settings applied on
    every worker (for example ``{"slow": 2.0}``). With ``publish_watchdog``
    (the default), every watchdog report is also published as a Dask event
    on :data:`WATCHDOG_TOPIC`, for :func:`subscribe_watchdog`.
    """

    name = "dftracer-utils"
    idempotent = False  # registering again replaces (tears down) the old one

    def __init__(self, threads: int = 0, io_threads: int = 0, *, shutdown_timeout: float = 10.0,
                 history: int = 1024, watchdog: Optional[Mapping[str, Any]] = None,
                 publish_watchdog: bool = True) -> None:
        _check_pool_size("threads", threads)
        _check_pool_size("io_threads", io_threads)
        _check_history(history)
        if (isinstance(shutdown_timeout, bool) or not isinstance(shutdown_timeout, (int, float))
                or not 0 <= shutdown_timeout < float("inf")):
            raise ValueError(f"shutdown_timeout must be a finite number of seconds >= 0, got {shutdown_timeout!r}")
        if watchdog is not None and not isinstance(watchdog, Mapping):
            raise TypeError(f"watchdog must be a mapping of settings or None, got {type(watchdog).__name__}")
        settings = dict(watchdog or {})
        unknown = sorted(repr(k) for k in set(settings) - set(_WATCHDOG_KEYS))
        if unknown:
            raise ValueError(f"unknown watchdog settings {unknown}; known: {list(_WATCHDOG_KEYS)}")
        # Check the values here, at the call, not later on every worker.
        for key, value in settings.items():
            if key == "enabled":
                if not isinstance(value, bool):
                    raise TypeError(f"watchdog['enabled'] must be a bool, got {type(value).__name__}")
            elif value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"watchdog[{key!r}] must be a number of seconds, got {type(value).__name__}")
            else:
                checked = _check_timeout(value, f"watchdog[{key!r}]")
                if checked is None or checked > MAX_SECONDS:
                    raise ValueError(f"watchdog[{key!r}] must be a number of seconds from 0 to {MAX_SECONDS:g}, "
                                     f"got {value!r}")
        if not isinstance(publish_watchdog, bool):
            raise TypeError(f"publish_watchdog must be a bool, got {type(publish_watchdog).__name__}")
        self.threads = threads
        self.io_threads = io_threads
        self.shutdown_timeout = float(shutdown_timeout)
        self.history = history
        self.watchdog = settings
        self.publish_watchdog = publish_watchdog

    def setup(self, worker: Any) -> None:
        if getattr(worker, _RUNTIME_ATTRIBUTE, None) is not None:
            # Registering under the same name tears the old one down first:
            # this is a second instance under another name.
            raise RuntimeError("a DFTracerUtilsDaskWorkerPlugin is already registered on this worker under another "
                               "name; a worker has one runtime (register again under the same name to replace it)")
        threads = self.threads or _worker_threads(worker)
        # getattr: plugins pickled by an older version lack the new fields.
        runtime = Runtime(threads=threads, io_threads=self.io_threads, history=getattr(self, "history", 1024))
        try:
            settings = getattr(self, "watchdog", {})
            if settings:
                runtime.configure_watchdog(**settings)
            if getattr(self, "publish_watchdog", False):
                runtime.add_watchdog_callback(make_publisher(worker))
        except BaseException:
            runtime.shutdown(wait=False)
            raise
        previous = peek_default_runtime()
        set_default_runtime(runtime)
        setattr(worker, _RUNTIME_ATTRIBUTE, runtime)
        worker._dftracer_previous_default = previous
        worker.executors[EXECUTOR_NAME] = runtime.as_executor()

    async def teardown(self, worker: Any) -> None:
        runtime: Optional[Runtime] = getattr(worker, _RUNTIME_ATTRIBUTE, None)
        if runtime is None:
            return
        executor = worker.executors.pop(EXECUTOR_NAME, None)
        if executor is not None:
            executor.shutdown(wait=False)
        if peek_default_runtime() is runtime:
            set_default_runtime(getattr(worker, "_dftracer_previous_default", None))
        setattr(worker, _RUNTIME_ATTRIBUTE, None)
        worker._dftracer_previous_default = None
        await _shutdown_bounded(runtime, self.shutdown_timeout)


async def _shutdown_bounded(runtime: Runtime, timeout: float) -> None:
    """Stop intake, wait up to `timeout` for the queued and running tasks,
    then report whatever is still running and return; the event loop never
    blocks. Queued tasks run rather than being cancelled: Dask tasks sent to
    the executor wait for them, and a cancelled one stays pending forever."""
    try:
        waiter = asyncio.get_running_loop().run_in_executor(None, runtime.shutdown, True, False)
    except RuntimeError:  # interpreter exit: no new threads; the exit drain waits instead
        runtime.shutdown(wait=False)
        return
    try:
        await asyncio.wait_for(asyncio.shield(waiter), timeout)
    except asyncio.TimeoutError:
        stuck = [t for t in runtime.get_progress(max_queued=0)["tasks"] if t["state"] == "running"]
        names = ", ".join(f"{t['name'] or '<unnamed>'} (id {t['id']}, {t['execution_duration_ms'] / 1000:.1f} s)"
                          for t in stuck)
        logger.warning("dftracer runtime still busy %.1f s after shutdown began; "
                       "leaving %d running task(s) behind: %s", timeout, len(stuck), names)


# Public names report the module users import them from (help(), reprs,
# cross-references in the documentation).
for _public in (ClusterProgress, ClusterTrace, DaskWorkerProgress, RemoteWatchdogReport, TraceWorker,
                cluster_progress, export_cluster_trace, show_cluster_progress, subscribe_watchdog,
                unsubscribe_watchdog):
    _public.__module__ = __name__
del _public
