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
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Optional

try:
    from distributed import WorkerPlugin, get_worker
except ImportError as error:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "dftracer.utils.dask needs dask.distributed; install it with "
        "pip install \"dftracer-utils[dask]\""
    ) from error

from ._defaults import peek_default_runtime, set_default_runtime
from ._runtime import Runtime, _check_size

__all__ = ["DFTracerUtilsDaskWorkerPlugin", "EXECUTOR_NAME", "get_worker_runtime"]

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
    moving on.
    """

    name = "dftracer-utils"
    idempotent = False  # registering again replaces (tears down) the old one

    def __init__(self, threads: int = 0, io_threads: int = 0, *, shutdown_timeout: float = 10.0) -> None:
        _check_size("threads", threads)
        _check_size("io_threads", io_threads)
        if isinstance(shutdown_timeout, bool) or not isinstance(shutdown_timeout, (int, float)) or shutdown_timeout < 0:
            raise ValueError("shutdown_timeout must be a number of seconds >= 0")
        self.threads = threads
        self.io_threads = io_threads
        self.shutdown_timeout = float(shutdown_timeout)

    def setup(self, worker: Any) -> None:
        threads = self.threads or _worker_threads(worker)
        runtime = Runtime(threads=threads, io_threads=self.io_threads)
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
    """Cancel queued work, wait up to `timeout` for running tasks, then report
    whatever is still running and return; the event loop never blocks."""
    waiter = asyncio.get_running_loop().run_in_executor(None, runtime.shutdown, True, True)
    try:
        await asyncio.wait_for(asyncio.shield(waiter), timeout)
    except asyncio.TimeoutError:
        stuck = [t for t in runtime.get_progress(max_queued=0)["tasks"] if t["state"] == "running"]
        names = ", ".join(f"{t['name'] or '<unnamed>'} (id {t['id']}, {t['execution_duration_ms'] / 1000:.1f} s)"
                          for t in stuck)
        logger.warning("dftracer runtime still busy %.1f s after shutdown began; "
                       "leaving %d running task(s) behind: %s", timeout, len(stuck), names)
