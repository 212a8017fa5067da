"""dftracer.utils: a task runtime for processing large I/O traces.

Python callables and coroutines run on native compute and io thread pools;
waits never deadlock, errors are never lost, and every task and worker is
visible through :meth:`Runtime.get_progress`.
"""

from . import _core, _coroutines
from ._core import DFTracerError, TaskTimeoutError
from ._defaults import get_default_runtime, peek_default_runtime, set_default_runtime
from ._futures import RuntimeExecutor
from ._groups import TaskGroup
from ._handle import TaskHandle
from ._runtime import Runtime, TaskOptions
from ._timeline import plot_timeline
from ._types import GroupProgress, PoolName, Progress, ReportKind, TaskFailure, TaskProgress, TaskState, WorkerProgress
from ._waiting import ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, DoneAndNotDone, as_completed, wait
from ._watchdog import WatchdogReport

__all__ = [
    "ALL_COMPLETED",
    "DFTracerError",
    "DoneAndNotDone",
    "FIRST_COMPLETED",
    "FIRST_EXCEPTION",
    "GroupProgress",
    "PoolName",
    "Progress",
    "ReportKind",
    "Runtime",
    "RuntimeExecutor",
    "TaskFailure",
    "TaskGroup",
    "TaskHandle",
    "TaskOptions",
    "TaskProgress",
    "TaskState",
    "TaskTimeoutError",
    "WatchdogReport",
    "WorkerProgress",
    "as_completed",
    "current_task_id",
    "get_default_runtime",
    "peek_default_runtime",
    "plot_timeline",
    "set_default_runtime",
    "stop_requested",
    "wait",
]

__version__ = "0.1.0"


def stop_requested() -> bool:
    """True inside a task that was asked to stop (its timeout passed, or
    :meth:`TaskHandle.request_stop` was called). Poll it in long loops.
    Works in ``async def`` tasks too (and in asyncio tasks they spawn)."""
    if _core.stop_requested():
        return True
    task = _coroutines.current_coroutine_task()
    return task is not None and task.stop_requested


def current_task_id() -> int:
    """Id of the task running on the calling thread (or the coroutine task
    whose code is running), or 0 outside tasks."""
    task_id = _core.current_task_id()
    if task_id:
        return task_id
    task = _coroutines.current_coroutine_task()
    return 0 if task is None else task.id


# Public classes report the module users import them from, in help(),
# reprs and tracebacks.
for _public in (DoneAndNotDone, Runtime, RuntimeExecutor, TaskGroup, TaskHandle, TaskOptions, WatchdogReport,
                GroupProgress, Progress, TaskFailure, TaskProgress, WorkerProgress, as_completed, wait,
                get_default_runtime, peek_default_runtime, set_default_runtime, plot_timeline):
    _public.__module__ = __name__
del _public
