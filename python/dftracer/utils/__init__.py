"""dftracer.utils: a task runtime for processing large I/O traces.

Python callables and coroutines run on native compute and io thread pools;
waits never deadlock, errors are never lost, and every task and worker is
visible through :meth:`Runtime.get_progress`.
"""

from . import _core
from ._core import TaskTimeoutError
from ._defaults import get_default_runtime, peek_default_runtime, set_default_runtime
from ._futures import RuntimeExecutor
from ._handle import TaskHandle
from ._runtime import Runtime, TaskOptions
from ._timeline import plot_timeline
from ._watchdog import WatchdogReport

__all__ = [
    "Runtime",
    "RuntimeExecutor",
    "TaskHandle",
    "TaskOptions",
    "TaskTimeoutError",
    "WatchdogReport",
    "get_default_runtime",
    "peek_default_runtime",
    "set_default_runtime",
    "stop_requested",
    "current_task_id",
    "plot_timeline",
]

__version__ = "0.1.0"


def stop_requested() -> bool:
    """True inside a task that was asked to stop (its timeout passed, or
    :meth:`TaskHandle.request_stop` was called). Poll it in long loops."""
    return _core.stop_requested()


def current_task_id() -> int:
    """Id of the task running on the calling thread, or 0 outside tasks."""
    return _core.current_task_id()
