"""A stateful random test of a runtime against a model of every task
(issue 19): Hypothesis drives submit, cancel, release, wait, wait_all,
clear_failed and shutdown in random orders; after every step the counts must
add up, every task's state may only move forward, and every outcome must be
one the model allows.

Tasks block on their own gate (a threading.Event) until a rule releases
them, so which task is running never depends on timing. A wait happens only
when every gated task has been released (nothing can block it forever), and
every wait has a generous timeout. The model tracks, per task, the final
states it may still reach: the natural one (completed or failed), and
"cancelled" while a cancel could still have won.
"""

from __future__ import annotations

import concurrent.futures
import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule  # noqa: E402

import dftracer.utils as dft  # noqa: E402

from conftest import GENEROUS  # noqa: E402

_RANK = {"queued": 0, "running": 1, "completed": 2, "failed": 2, "cancelled": 2}
_COUNT_KEYS = ("completed", "running", "queued", "failed", "cancelled")


class Boom(Exception):
    pass


@dataclass
class ModelTask:
    handle: dft.TaskHandle[Any]
    gate: threading.Event
    started: threading.Event
    fails: bool
    allowed: set[str] = field(default_factory=set)
    last: str = "queued"

    @property
    def natural(self) -> str:
        return "failed" if self.fails else "completed"


def _body(i: int, gate: threading.Event, started: threading.Event, fails: bool) -> int:
    started.set()
    if not gate.wait(GENEROUS):
        raise TimeoutError("gate never released")
    if fails:
        raise Boom(i)
    return i


class RuntimeMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.rt = dft.Runtime(threads=2, io_threads=1, watchdog=False)
        self.tasks: list[ModelTask] = []
        self.is_shut_down = False
        self.cleared: set[dft.TaskHandle[Any]] = set()  # failures forgotten by clear_failed()

    # ------------------------------------------------------------ helpers

    def _all_released(self) -> bool:
        # Gates only, never observed states: a precondition must not depend on timing.
        return all(t.gate.is_set() for t in self.tasks)

    def _pick(self, data: st.DataObject) -> ModelTask:
        return self.tasks[data.draw(st.integers(0, len(self.tasks) - 1))]

    def _check_outcome(self, task: ModelTask) -> None:
        i = self.tasks.index(task)
        state = task.handle.state
        assert state in task.allowed, (i, state, task.allowed)
        if state == "completed":
            assert task.handle.get(timeout=GENEROUS) == i
        elif state == "failed":
            assert isinstance(task.handle.exception, Boom)
            with pytest.raises(Boom):
                task.handle.get(timeout=GENEROUS)
        else:
            with pytest.raises(concurrent.futures.CancelledError):
                task.handle.get(timeout=GENEROUS)

    # -------------------------------------------------------------- rules

    @rule(fails=st.booleans(), pool=st.sampled_from(["compute", "io"]))
    def submit(self, fails: bool, pool: str) -> None:
        gate, started = threading.Event(), threading.Event()
        i = len(self.tasks)
        options = self.rt.options(pool=pool)  # type: ignore[arg-type]
        if self.is_shut_down:
            with pytest.raises(RuntimeError, match="Runtime is shut down"):
                options.submit(_body, i, gate, started, fails)
            return
        handle = options.submit(_body, i, gate, started, fails)
        task = ModelTask(handle, gate, started, fails)
        task.allowed = {task.natural}
        self.tasks.append(task)

    @precondition(lambda self: self.tasks)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        task = self._pick(data)
        was_started = task.started.is_set()
        if task.handle.cancel():
            assert not was_started, "a task that started was cancelled"
            assert task.handle.state == "cancelled"
            task.allowed = {"cancelled"}
        elif task.handle.state != "cancelled":
            assert task.handle.state != "queued"  # cancel() lost only to a start
            task.allowed.discard("cancelled")

    @precondition(lambda self: self.tasks)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        self._pick(data).gate.set()

    @rule()
    def release_all(self) -> None:
        for task in self.tasks:
            task.gate.set()

    @precondition(lambda self: self.tasks and self._all_released())
    @rule(data=st.data())
    def wait(self, data: st.DataObject) -> None:
        task = self._pick(data)
        try:
            task.handle.get(timeout=GENEROUS)
        except (Boom, concurrent.futures.CancelledError):
            pass
        assert task.handle.done()
        self._check_outcome(task)

    @precondition(lambda self: self._all_released())
    @rule()
    def wait_all(self) -> None:
        self.rt.wait_all(timeout=GENEROUS)
        for task in self.tasks:
            assert task.handle.done()
            self._check_outcome(task)
        # Once wait_all returned, counts and the failed list are exact.
        counts = self.rt.get_progress(max_queued=0)
        for key in ("completed", "failed", "cancelled"):
            assert counts[key] == sum(t.handle.state == key for t in self.tasks), (key, counts)
        failed = {t.handle for t in self.tasks if t.handle.state == "failed"}
        assert set(self.rt.get_failed()) == failed - self.cleared

    @precondition(lambda self: self._all_released())
    @rule()
    def clear_failed(self) -> None:
        self.rt.wait_all(timeout=GENEROUS)  # every failure was dispatched
        self.rt.clear_failed()
        self.cleared |= {t.handle for t in self.tasks if t.handle.state == "failed"}
        assert self.rt.get_failed() == []

    @precondition(lambda self: not self.is_shut_down)
    @rule(cancel_pending=st.booleans())
    def shutdown(self, cancel_pending: bool) -> None:
        # Not seen starting and not finished: it may still have been queued.
        maybe_queued = [t for t in self.tasks if not t.started.is_set() and not t.handle.done()]
        self.rt.shutdown(wait=False, cancel_pending=cancel_pending)
        self.is_shut_down = True
        if cancel_pending:
            for task in maybe_queued:
                task.allowed.add("cancelled")

    # ---------------------------------------------------------- invariants

    @invariant()
    def counts_add_up(self) -> None:
        counts = self.rt.get_progress(max_queued=0)
        assert counts["total"] == sum(counts[k] for k in _COUNT_KEYS), counts
        assert counts["total"] == len(self.tasks), (counts, len(self.tasks))

    @invariant()
    def states_only_move_forward(self) -> None:
        for i, task in enumerate(self.tasks):
            state = task.handle.state
            assert _RANK[state] >= _RANK[task.last], (i, task.last, state)
            if _RANK[task.last] == 2:
                assert state == task.last, (i, task.last, state)
            if _RANK[state] == 2:
                assert state in task.allowed, (i, state, task.allowed)
            task.last = state

    def teardown(self) -> None:
        for task in self.tasks:
            task.gate.set()
        self.rt.shutdown(wait=True)
        for task in self.tasks:
            assert task.handle.done()
            self._check_outcome(task)
        counts = self.rt.get_progress(max_queued=0)
        assert counts["queued"] == counts["running"] == 0, counts


RuntimeMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=20, deadline=None, database=None,  # nothing written to the tree
    suppress_health_check=[HealthCheck.too_slow],
)
TestRuntimeStateMachine = RuntimeMachine.TestCase
