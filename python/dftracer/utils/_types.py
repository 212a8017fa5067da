"""Names for the values the API passes around: literal strings, progress
dictionaries and the type variables of generic signatures. Typing only: no
behaviour lives here."""

from __future__ import annotations

from typing import Literal, Optional, ParamSpec, TypedDict, TypeVar

#: The pool a task runs on.
PoolName = Literal["compute", "io"]

#: Where a task is in its life: the last three are final.
TaskState = Literal["queued", "running", "completed", "failed", "cancelled"]

#: What a :class:`~dftracer.utils.WatchdogReport` is about.
ReportKind = Literal["slow", "timeout", "stall", "deadlock"]

T = TypeVar("T")
R = TypeVar("R")
P = ParamSpec("P")


class WorkerProgress(TypedDict):
    """One worker in :meth:`Runtime.get_progress`."""

    id: int
    idle: bool
    task: str
    queue_depth: int
    pool: PoolName
    task_id: int
    running_ms: float
    waiting_for: int
    tasks_run: int
    thread_id: int
    #: the kernel's thread id (``threading.get_native_id()``), the ``tid``
    #: in exported traces and in DFTracer's own; 0 before the worker started
    os_thread: int


class TaskProgress(TypedDict):
    """One task in :meth:`Runtime.get_progress`: ``group`` is the name of
    the :class:`TaskGroup` it was submitted through, else ``None``."""

    id: int
    name: str
    state: TaskState
    pool: PoolName
    worker: int
    queued_duration_ms: float
    execution_duration_ms: float
    progress_pct: float
    error: str
    group: Optional[str]


class TaskFailure(TypedDict):
    """One failed task in :meth:`Runtime.get_progress`'s ``errors``."""

    id: int
    name: str
    error: str


class GroupProgress(TypedDict):
    """One open :class:`TaskGroup` in :meth:`Runtime.get_progress`."""

    name: str
    total: int
    done: int
    failed: int


class Progress(TypedDict):
    """What :meth:`Runtime.get_progress` returns. The six counts add up to
    ``total``."""

    total: int
    completed: int
    running: int
    queued: int
    failed: int
    cancelled: int
    workers: list[WorkerProgress]
    tasks: list[TaskProgress]
    errors: list[TaskFailure]
    groups: list[GroupProgress]
