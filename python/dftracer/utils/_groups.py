"""Task groups: structured waiting for a set of tasks, with failures that
stop their siblings (like asyncio.TaskGroup and trio's nurseries)."""

from __future__ import annotations

import asyncio
import contextvars
import itertools
import sys
import threading
from typing import TYPE_CHECKING, Any, Optional

from . import _core
from ._handle import TaskHandle
from ._types import GroupProgress, PoolName, Progress

if sys.version_info < (3, 11):  # pragma: no cover - exercised on 3.10 only
    from exceptiongroup import BaseExceptionGroup

if TYPE_CHECKING:
    from ._runtime import Runtime
    from ._signatures import SubmitFunction

_numbers = itertools.count(1)
#: Groups open in this context (thread or asyncio task), innermost last,
#: each with the id of the task that opened it (0 outside tasks).
_open_here: contextvars.ContextVar[tuple[tuple[int, TaskGroup], ...]] = contextvars.ContextVar(
    "dftracer_open_groups", default=())


class TaskGroup:
    """A set of tasks waited for together: ``with rt.group() as g:``
    (or ``async with``).

    ``g.submit(...)`` and ``g.submit_io(...)`` take what
    :meth:`Runtime.submit` takes and return a :class:`TaskHandle`. Leaving
    the block waits for the group's tasks only, including those they add to
    the group, and helps while it waits (so groups nest inside tasks, even
    on one thread). The first failure cancels the group's queued tasks,
    requests its running ones (and those of groups opened inside it) to
    stop, and, once all have finished, leaving the block raises an
    ``ExceptionGroup`` of every failure (a ``BaseExceptionGroup`` if one is
    not an ``Exception``). An exception raised by the block itself stops the
    group too and is raised with them. Tasks cancelled through their own
    handle are not failures.

    While open, the group is listed in :meth:`Runtime.get_progress`'s
    ``groups``, and its tasks name it in their ``group`` field.
    """

    def __init__(self, runtime: Runtime, name: Optional[str] = None) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str or None, got {type(name).__name__}")
        self._runtime = runtime
        self.name: str = name if name is not None else f"group-{next(_numbers)}"
        self._lock = threading.Lock()
        self._handles: list[TaskHandle[Any]] = []
        self._waited = 0  # handles[:_waited] have been waited for
        self._children: list[TaskGroup] = []
        self._state = "new"  # new -> open -> closed
        self._stopping = False
        self._total = 0
        self._done = 0
        self._failed = 0

    # ------------------------------------------------------------ submitting

    if TYPE_CHECKING:
        submit: SubmitFunction
        submit_io: SubmitFunction
    else:

        def submit(self, fn, /, *args, name=None, **kwargs):
            """Like :meth:`Runtime.submit`, as a task of this group."""
            return self._spawn(fn, args, kwargs, name, "compute")

        def submit_io(self, fn, /, *args, name=None, **kwargs):
            """Like :meth:`Runtime.submit_io`, as a task of this group."""
            return self._spawn(fn, args, kwargs, name, "io")

    def _spawn(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], name: Optional[str],
               pool: PoolName) -> TaskHandle[Any]:
        if self._state != "open":
            raise RuntimeError(f"task group {self.name!r} is not open: submit inside its 'with' block")
        handle = self._runtime._submit(fn, args, kwargs, name, pool, None)
        with self._lock:
            state, stopping = self._state, self._stopping
            if state == "open":
                self._handles.append(handle)
                self._total += 1
        if state != "open":  # closed while submitting: do not leave it behind
            _stop(handle)
            raise RuntimeError(f"task group {self.name!r} closed while this task was submitted; it was stopped")
        self._runtime._groups.label(handle.id, self)
        handle.add_done_callback(self._on_done)
        if stopping:
            _stop(handle)
        return handle

    def _on_done(self, handle: TaskHandle[Any]) -> None:
        failed = handle.state == "failed"
        with self._lock:
            self._done += 1
            self._failed += failed
        if failed:
            self.stop()

    # -------------------------------------------------------------- stopping

    def stop(self) -> None:
        """Cancel the group's queued tasks and ask its running ones (and
        those of groups opened inside it) to stop. Leaving the block then
        raises only if a task failed. Idempotent."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            handles, children = list(self._handles), list(self._children)
        for handle in handles:
            _stop(handle)
        for child in children:
            child.stop()

    @property
    def stopping(self) -> bool:
        """True once a task failed or :meth:`stop` was called."""
        return self._stopping

    # ----------------------------------------------------------- the block

    def __enter__(self) -> TaskGroup:
        self._open()
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        try:
            if exc is not None:
                self.stop()
            while (batch := self._unwaited()):
                for handle in batch:
                    handle._task.wait(None)  # helps inside a task
        finally:
            failures = self._close()
        _raise_failures(self.name, exc, failures)

    async def __aenter__(self) -> TaskGroup:
        self._open()
        return self

    async def __aexit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        try:
            if exc is not None:
                self.stop()
            while (batch := self._unwaited()):
                await asyncio.wait([asyncio.ensure_future(_quietly(handle)) for handle in batch])
        except BaseException:
            self.stop()
            raise
        finally:
            failures = self._close()
        _raise_failures(self.name, exc, failures)

    def _open(self) -> None:
        with self._lock:
            if self._state != "new":
                raise RuntimeError(f"task group {self.name!r} was already entered; make a new one")
            self._state = "open"
        task_id = _core.current_task_id()
        parent = _innermost_open_group(task_id) or self._runtime._groups.group_of(task_id)
        if parent is not None:
            parent._adopt(self)
        _open_here.set((*_open_here.get(), (task_id, self)))
        self._runtime._groups.opened(self)

    def _adopt(self, child: TaskGroup) -> None:
        with self._lock:
            self._children.append(child)
            stopping = self._stopping
        if stopping:
            child.stop()

    def _unwaited(self) -> list[TaskHandle[Any]]:
        """Handles not waited for yet; when there are none, the group closes
        to new tasks (atomically, so none slips in unwaited)."""
        with self._lock:
            batch = [h for h in self._handles[self._waited:] if not h.done()]
            self._waited = len(self._handles)
            if not batch:
                self._state = "closed"
            return batch

    def _close(self) -> list[BaseException]:
        """Close the group; return its failures and forget its tasks."""
        _open_here.set(tuple(entry for entry in _open_here.get() if entry[1] is not self))
        self._runtime._groups.closed(self)
        with self._lock:
            self._state = "closed"
            errors = [h.exception for h in self._handles if h.state == "failed"]
            self._handles.clear()
            self._children.clear()
        return [e for e in errors if e is not None]

    def progress(self) -> GroupProgress:
        """The group's counts: tasks submitted, finished, failed."""
        with self._lock:
            return {"name": self.name, "total": self._total, "done": self._done, "failed": self._failed}

    def __repr__(self) -> str:
        p = self.progress()
        return f"<TaskGroup {self.name!r} {self._state} tasks={p['total']} done={p['done']} failed={p['failed']}>"


def _raise_failures(name: str, exc: Optional[BaseException], failures: list[BaseException]) -> None:
    if exc is not None and not isinstance(exc, Exception):
        raise exc  # KeyboardInterrupt, SystemExit, CancelledError: not wrapped
    if exc is not None:
        failures.insert(0, exc)
    if failures:
        raise BaseExceptionGroup(f"{len(failures)} failure(s) in task group {name!r}", failures)


async def _quietly(handle: TaskHandle[Any]) -> None:
    try:
        await handle
    except BaseException:  # collected from the handle afterwards
        pass


def _stop(handle: TaskHandle[Any]) -> None:
    if not handle.cancel():
        handle.request_stop()


def _innermost_open_group(task_id: int) -> Optional[TaskGroup]:
    """The innermost group opened here by the task running now."""
    for opener, group in reversed(_open_here.get()):
        if opener == task_id:
            return group
    return None


class GroupRegistry:
    """A runtime's open groups, and which group each recent task came from
    (the ``limit`` most recent group tasks, so memory stays bounded)."""

    def __init__(self, limit: int = 65536) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, TaskGroup] = {}
        self._labels: dict[int, TaskGroup] = {}
        self._limit = limit

    def opened(self, group: TaskGroup) -> None:
        with self._lock:
            self._open[id(group)] = group

    def closed(self, group: TaskGroup) -> None:
        with self._lock:
            self._open.pop(id(group), None)

    def label(self, task_id: int, group: TaskGroup) -> None:
        with self._lock:
            self._labels[task_id] = group
            if len(self._labels) > self._limit:
                del self._labels[next(iter(self._labels))]

    def group_of(self, task_id: int) -> Optional[TaskGroup]:
        """The open group the task belongs to, if any."""
        if not task_id:
            return None
        with self._lock:
            group = self._labels.get(task_id)
            return group if group is not None and id(group) in self._open else None

    def annotate(self, progress: dict[str, Any]) -> Progress:
        """Add each task's ``group`` and the open groups to a progress dict."""
        with self._lock:
            for task in progress["tasks"]:
                group = self._labels.get(task["id"])
                task["group"] = None if group is None else group.name
            groups = list(self._open.values())
        progress["groups"] = [g.progress() for g in groups]
        return progress  # type: ignore[return-value]
