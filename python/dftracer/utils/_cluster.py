"""One view of a Dask cluster: progress, watchdog reports and traces
gathered from every worker's runtime (see :mod:`dftracer.utils.dask`).

Everything here talks to workers through the scheduler (``client.run`` to
one worker at a time, all workers concurrently), so it works wherever the
client works, and a worker that does not answer within the timeout is
marked instead of failing the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Optional, TextIO, TypedDict, Union

from ._trace_write import check_suffix, write_trace_text
from ._types import GroupProgress, Progress, TaskFailure, TaskProgress, WorkerProgress
from ._watchdog import WatchdogReport

logger = logging.getLogger("dftracer.utils")

#: Dask event topic the plugin publishes watchdog reports on.
WATCHDOG_TOPIC = "dftracer-utils-watchdog"

_RUNTIME_ATTRIBUTE = "dftracer_runtime"
_COUNTS = ("total", "completed", "running", "queued", "failed", "cancelled")

#: Why a Dask worker has no counts in :class:`ClusterProgress`.
WorkerStatus = Literal["ok", "no answer", "no runtime", "error"]


class DaskWorkerProgress(TypedDict):
    """One Dask worker in :func:`~dftracer.utils.dask.cluster_progress`.

    ``status`` is ``"ok"``, ``"no answer"`` (no reply within the timeout),
    ``"no runtime"`` (the plugin is not registered there) or ``"error"``
    (``error`` says why); the counts are zero unless it is ``"ok"``.
    ``round_trip_ms`` is how long the worker took to answer, as the client
    saw it."""

    address: str
    host: str
    pid: int
    status: WorkerStatus
    error: str
    round_trip_ms: float
    total: int
    completed: int
    running: int
    queued: int
    failed: int
    cancelled: int
    workers: list[WorkerProgress]
    tasks: list[TaskProgress]


class ClusterProgress(Progress):
    """What :func:`~dftracer.utils.dask.cluster_progress` returns: the
    :class:`~dftracer.utils.Progress` shape summed over every worker that
    answered (``workers``, ``tasks``, ``errors`` and ``groups`` are the
    workers' lists one after the other), plus ``dask_workers`` (one entry per
    Dask worker) and ``missing`` (addresses of those that did not answer)."""

    dask_workers: list[DaskWorkerProgress]
    missing: list[str]


class TraceWorker(TypedDict):
    """One Dask worker in :class:`ClusterTrace`: the ``pid`` its events got
    in the merged file (``trace_pid``), how many it sent, and its clock
    offset from the client with the bound of that estimate (microseconds)."""

    address: str
    host: str
    pid: int
    status: WorkerStatus
    error: str
    trace_pid: int
    events: int
    offset_us: float
    bound_us: float


class ClusterTrace(TypedDict):
    """What :func:`~dftracer.utils.dask.export_cluster_trace` returns."""

    path: str
    events: int
    workers: list[TraceWorker]


@dataclass(frozen=True)
class RemoteWatchdogReport:
    """A watchdog report from a Dask worker's runtime, as the client receives
    it: ``report`` is the worker's :class:`~dftracer.utils.WatchdogReport`
    (with the Python stack of the stuck worker thread), ``address``,
    ``host`` and ``pid`` name the Dask worker, ``time`` is when the scheduler
    received it (seconds since the epoch, scheduler clock)."""

    address: str
    host: str
    pid: int
    time: float
    report: WatchdogReport

    def __str__(self) -> str:
        return f"[dask worker {self.address} on {self.host}] {self.report.message}"


# ----------------------------------------------------------------- checks

def _check_client(client: Any) -> Any:
    from distributed import Client

    if not isinstance(client, Client):
        raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
    if client.status in ("closed", "closing"):
        raise RuntimeError("the Dask client is closed")
    if client.asynchronous:
        raise TypeError("these calls block: pass a synchronous distributed.Client (in asyncio code, call them "
                        "through loop.run_in_executor with a Client created with asynchronous=False)")
    return client


def _check_seconds(label: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{label} must be a number of seconds, got {type(value).__name__}")
    if value != value or value <= 0 or value == float("inf"):
        raise ValueError(f"{label} must be a finite number of seconds > 0, got {value}")
    return float(value)


def _check_count(label: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{label} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{label} must be >= 0, got {value}")
    return value


# ------------------------------------------------------------ worker side
# These run on the Dask worker's event loop (client.run): short, and never
# waiting on the runtime's tasks.

def _identity(dask_worker: Any) -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _worker_progress(max_tasks: int, dask_worker: Any) -> dict[str, Any]:
    answer = _identity(dask_worker)
    runtime = getattr(dask_worker, _RUNTIME_ATTRIBUTE, None)
    answer["now"] = time.time()
    if runtime is None:
        answer["progress"] = None
        return answer
    progress = runtime.get_progress(max_queued=max_tasks)
    # Live tasks first, then the most recent finished ones, capped: what is
    # sent per worker stays bounded whatever the history size.
    tasks = progress["tasks"]
    live = [t for t in tasks if t["state"] in ("running", "queued")]
    done = [t for t in tasks if t["state"] not in ("running", "queued")]
    done.sort(key=lambda t: t["id"], reverse=True)  # ids grow: most recent first
    progress["tasks"] = (live + done)[:max_tasks]
    progress["errors"] = progress["errors"][-max_tasks:] if max_tasks else []
    answer["progress"] = progress
    return answer


def _worker_clock(dask_worker: Any) -> float:
    return time.time()


def _trace_payload(runtime: Any, max_events: int) -> Optional[bytes]:
    if runtime is None:
        return None
    with tempfile.TemporaryDirectory(prefix="dftracer-cluster-") as directory:
        path = os.path.join(directory, "trace.json")
        runtime.export_trace(path)  # the public API: whatever it writes, we read
        with open(path, encoding="utf-8") as f:
            events = json.load(f)["traceEvents"]
    intervals = [e for e in events if e.get("ph") != "M"]
    if len(intervals) > max_events:  # keep the most recent ones
        intervals.sort(key=lambda e: e.get("ts", 0))
        intervals = intervals[-max_events:] if max_events else []
    kept = [e for e in events if e.get("ph") == "M"] + intervals
    # gzip level 1: trace events are repetitive JSON (see docs/dask.rst for
    # the measured ratio); level 1 costs little CPU on the worker.
    return gzip.compress(json.dumps(kept, separators=(",", ":")).encode(), compresslevel=1)


async def _worker_trace(max_events: int, dask_worker: Any) -> dict[str, Any]:
    # Rendering, parsing and compressing take milliseconds: do them off the
    # worker's event loop, which keeps answering the scheduler meanwhile.
    answer = _identity(dask_worker)
    runtime = getattr(dask_worker, _RUNTIME_ATTRIBUTE, None)
    loop = asyncio.get_running_loop()
    answer["trace"] = await loop.run_in_executor(None, _trace_payload, runtime, max_events)
    return answer


# ------------------------------------------------------------ client side

def _worker_addresses(client: Any, workers: Optional[Sequence[str]] = None) -> list[str]:
    info = client.sync(client.scheduler.identity, n_workers=-1)
    known = sorted(info.get("workers", {}))
    if workers is None:
        return known
    if isinstance(workers, str):
        raise TypeError("workers must be a sequence of worker addresses (str) or None, not one str")
    workers = list(workers)  # an iterator is read once
    if not all(isinstance(w, str) for w in workers):
        raise TypeError("workers must be a sequence of worker addresses (str) or None")
    unknown = sorted(set(workers) - set(known))
    if unknown:
        raise ValueError(f"not workers of this cluster: {unknown}")
    return sorted(set(workers))


async def _call_each(client: Any, function: Callable[..., Any], addresses: list[str], timeout: float,
                     *args: Any) -> dict[str, tuple[str, Any, float, float]]:
    """Run ``function`` on every worker concurrently, each through its own
    scheduler broadcast, so one slow worker costs only its own answer.
    Returns address -> (status, result or error text, start, end) in client
    wall-clock seconds."""

    async def one(address: str) -> tuple[str, Any, float, float]:
        start = time.time()
        try:
            result = await client._run(function, *args, workers=[address], on_error="return")
        except Exception as error:  # the worker left, the comm broke, ...
            return "error", f"{type(error).__name__}: {error}", start, time.time()
        end = time.time()
        value = result.get(address, KeyError(address))
        if isinstance(value, BaseException):
            return "error", f"{type(value).__name__}: {value}", start, end
        return "ok", value, start, end

    tasks = {address: asyncio.ensure_future(one(address)) for address in addresses}
    if tasks:
        await asyncio.wait(tasks.values(), timeout=timeout)
    answers: dict[str, tuple[str, Any, float, float]] = {}
    for address, task in tasks.items():
        if task.done():
            answers[address] = task.result()
        else:
            task.cancel()
            answers[address] = ("no answer", f"no answer within {timeout:g} s", 0.0, 0.0)
    return answers


def _empty_worker(address: str, status: WorkerStatus, error: str) -> DaskWorkerProgress:
    return DaskWorkerProgress(address=address, host="", pid=0, status=status, error=error, round_trip_ms=0.0,
                              total=0, completed=0, running=0, queued=0, failed=0, cancelled=0, workers=[],
                              tasks=[])


def cluster_progress(client: Any, *, timeout: float = 10.0, max_tasks: int = 20,
                     workers: Optional[Sequence[str]] = None) -> ClusterProgress:
    """Progress of every Dask worker's runtime, summed over the cluster.

    Asks every worker at once (one round trip through the scheduler) and
    waits at most ``timeout`` seconds; a worker that does not answer in time
    is listed in ``missing`` with status ``"no answer"`` and contributes no
    counts. Each worker sends its counts and workers, and at most
    ``max_tasks`` tasks (running and queued first, then the most recent
    finished) and errors, so the answer stays small on large clusters.
    ``workers`` (addresses) asks only those workers, for example a sample of
    a large cluster.
    """
    _check_client(client)
    timeout = _check_seconds("timeout", timeout)
    _check_count("max_tasks", max_tasks)
    addresses = _worker_addresses(client, workers)
    answers = client.sync(_call_each, client, _worker_progress, addresses, timeout, max_tasks)
    total: dict[str, int] = dict.fromkeys(_COUNTS, 0)
    threads: list[WorkerProgress] = []
    tasks: list[TaskProgress] = []
    errors: list[TaskFailure] = []
    groups: list[GroupProgress] = []
    entries: list[DaskWorkerProgress] = []
    missing: list[str] = []
    for address in addresses:
        status, value, start, end = answers[address]
        if status != "ok":
            entries.append(_empty_worker(address, status, str(value)))
            if status == "no answer":
                missing.append(address)
            continue
        progress = value["progress"]
        if progress is None:
            entry = _empty_worker(address, "no runtime", "DFTracerUtilsDaskWorkerPlugin is not registered")
            entry["host"], entry["pid"], entry["round_trip_ms"] = value["host"], value["pid"], (end - start) * 1e3
            entries.append(entry)
            continue
        entry = DaskWorkerProgress(address=address, host=value["host"], pid=value["pid"], status="ok", error="",
                                   round_trip_ms=(end - start) * 1e3, total=0, completed=0, running=0, queued=0,
                                   failed=0, cancelled=0, workers=progress["workers"], tasks=progress["tasks"])
        for key in _COUNTS:
            entry[key] = progress[key]  # type: ignore[literal-required]
            total[key] += progress[key]
        threads += progress["workers"]
        tasks += progress["tasks"]
        errors += progress["errors"]
        groups += progress["groups"]
        entries.append(entry)
    return ClusterProgress(total=total["total"], completed=total["completed"], running=total["running"],
                           queued=total["queued"], failed=total["failed"], cancelled=total["cancelled"],
                           workers=threads, tasks=tasks, errors=errors, groups=groups, dask_workers=entries,
                           missing=missing)


# ------------------------------------------------------------------ trace

def _clock_offsets(client: Any, addresses: list[str], timeout: float,
                   samples: int) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[str, str]]]:
    """address -> (offset, bound) in seconds: worker clock minus client
    clock, from the sample with the shortest round trip (as NTP does). The
    worker read its clock somewhere inside [send, receive] of the client, so
    the error of midpoint matching is at most half that round trip. Also
    address -> (status, error) of the workers that did not answer a round:
    they are asked nothing more, so a silent worker costs the timeout once."""
    best: dict[str, tuple[float, float]] = {}
    silent: dict[str, tuple[str, str]] = {}
    for _ in range(samples):
        asked = [a for a in addresses if a not in silent]
        if not asked:
            break
        answers = client.sync(_call_each, client, _worker_clock, asked, timeout)
        for address, (status, value, start, end) in answers.items():
            if status == "no answer":
                silent[address] = (status, str(value))
            if status != "ok":
                continue
            half = (end - start) / 2
            if address not in best or half < best[address][1]:
                best[address] = (value - (start + half), half)
    return best, silent


def _shift(event: dict[str, Any], trace_pid: int, offset_us: float) -> dict[str, Any]:
    event = dict(event)
    original = event.get("pid")
    event["pid"] = trace_pid
    ts = event.get("ts")
    if event.get("ph") != "M" and isinstance(ts, (int, float)) and not isinstance(ts, bool):
        # Integer microseconds stay integers (DFTracer's tools expect them);
        # the alignment is good to a fraction of a millisecond anyway.
        event["ts"] = round(ts - offset_us) if isinstance(ts, int) else round(ts - offset_us, 3)
    if original is not None and original != trace_pid and event.get("ph") != "M":
        args = dict(event.get("args") or {})
        args.setdefault("os_pid", original)
        event["args"] = args
    return event


def merge_worker_events(events: list[dict[str, Any]], trace_pid: int, offset_us: float,
                        process: dict[str, Any]) -> list[dict[str, Any]]:
    """One worker's trace events as one process of the merged trace: every
    event gets ``pid`` ``trace_pid`` (an OS pid it carried is kept in
    ``args.os_pid``), ``tid`` is kept, interval timestamps move by
    ``-offset_us``, and the worker's own process metadata is replaced by a
    ``process_name`` event whose ``args`` are ``process``."""
    out: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": trace_pid, "tid": 0, "args": dict(process)},
        {"name": "process_sort_index", "ph": "M", "pid": trace_pid, "tid": 0, "args": {"sort_index": trace_pid}},
    ]
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("ph") == "M" and event.get("name") in ("process_name", "process_sort_index", "process_labels"):
            continue  # replaced by ours
        out.append(_shift(event, trace_pid, offset_us))
    return out


def export_cluster_trace(client: Any, path: Union[str, os.PathLike[str]], *, timeout: float = 60.0,
                         max_events: int = 100_000, clock_samples: int = 5,
                         workers: Optional[Sequence[str]] = None) -> ClusterTrace:
    """Write one trace of every Dask worker's runtime.

    ``.json`` writes Chrome trace events (Perfetto, chrome://tracing);
    ``.pfw`` DFTracer's JSON lines, ``.pfw.gz`` the same in gzip members.
    Each Dask worker becomes one process (``pid`` 1, 2, ... in address
    order) named ``dask worker <address> on <host> (pid <os pid>)``; its
    threads are its runtime's workers; event ids are renumbered to be
    unique across workers. Timestamps are moved onto the
    client's clock: each worker's offset is measured ``clock_samples`` times
    and the sample with the shortest round trip is kept, which bounds the
    error by half that round trip (``bound_us`` in the result). A worker
    that does not answer within ``timeout`` is listed with its status and
    contributes no events. Each worker sends at most ``max_events`` events
    (the most recent), gzip-compressed. ``workers`` (addresses) limits the
    trace to those workers.
    """
    _check_client(client)
    target = os.fspath(path)
    if not isinstance(target, str):
        raise TypeError("path must be a str or os.PathLike[str]")
    check_suffix(target)
    directory = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"directory of the trace path does not exist: {directory!r}")
    timeout = _check_seconds("timeout", timeout)
    _check_count("max_events", max_events)
    if _check_count("clock_samples", clock_samples) < 1:
        raise ValueError("clock_samples must be >= 1")

    addresses = _worker_addresses(client, workers)
    offsets, silent = _clock_offsets(client, addresses, timeout, clock_samples)
    answers = client.sync(_call_each, client, _worker_trace, [a for a in addresses if a not in silent], timeout,
                          max_events)
    answers.update({address: (status, error, 0.0, 0.0) for address, (status, error) in silent.items()})
    merged: list[dict[str, Any]] = []
    listed: list[TraceWorker] = []
    for index, address in enumerate(addresses, start=1):
        status, value, _, _ = answers[address]
        offset, bound = offsets.get(address, (0.0, float("nan")))
        info = TraceWorker(address=address, host="", pid=0, status=status, error="", trace_pid=index, events=0,
                           offset_us=offset * 1e6, bound_us=bound * 1e6)
        listed.append(info)
        if status != "ok":
            info["error"] = str(value)
            continue
        info["host"], info["pid"] = value["host"], value["pid"]
        if value["trace"] is None:
            info["status"], info["error"] = "no runtime", "DFTracerUtilsDaskWorkerPlugin is not registered"
            continue
        events = json.loads(gzip.decompress(value["trace"]))
        name = f"dask worker {address} on {value['host']} (pid {value['pid']})"
        process = {"name": name, "address": address, "host": value["host"], "os_pid": value["pid"],
                   "clock_offset_us": round(offset * 1e6, 1), "clock_bound_us": round(bound * 1e6, 1)}
        moved = merge_worker_events(events, index, offset * 1e6, process)
        merged += moved
        info["events"] = sum(e.get("ph") != "M" for e in moved)

    # Each runtime numbers its events from 1: renumber so ids stay unique in
    # the merged file (args.task_id keeps the runtime's own task id).
    next_id = 1
    for event in merged:
        if "id" in event and event.get("ph") != "M":
            event["id"] = next_id
            next_id += 1
    if target.endswith(".json"):
        text = json.dumps({"displayTimeUnit": "ms", "traceEvents": merged}, separators=(",", ":"))
    else:  # DFTracer 2.x lines, as the runtime writes them
        text = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in merged)
    write_trace_text(target, text)
    return ClusterTrace(path=target, events=sum(w["events"] for w in listed), workers=listed)


# --------------------------------------------------------------- watchdog

def _report_message(worker: Any, report: WatchdogReport) -> dict[str, Any]:
    """A watchdog report as a msgpack-able Dask event (the scheduler adds
    ``worker``: the Dask worker's address)."""
    return {
        "address": str(getattr(worker, "address", "")), "host": socket.gethostname(), "pid": os.getpid(),
        "kind": report.kind, "task_id": report.task_id, "task_name": report.task_name,
        # not "worker": the scheduler sets that key to the Dask worker's address
        "runtime_worker": report.worker,
        "pool": report.pool, "elapsed": report.elapsed, "message": report.message, "cycle": list(report.cycle),
        "workers": list(report.workers), "python_stack": report.python_stack,
    }


def make_publisher(worker: Any) -> Callable[[WatchdogReport], None]:
    """A watchdog callback that publishes each report on WATCHDOG_TOPIC."""

    def publish(report: WatchdogReport) -> None:
        try:
            worker.log_event(WATCHDOG_TOPIC, _report_message(worker, report))
        except Exception:  # the worker is closing: the report was logged locally anyway
            logger.debug("could not publish a watchdog report", exc_info=True)

    return publish


def _remote_report(event: Any) -> RemoteWatchdogReport:
    stamp, msg = event
    report = WatchdogReport(kind=msg["kind"], task_id=msg["task_id"], task_name=msg["task_name"],
                            worker=msg["runtime_worker"], pool=msg["pool"], elapsed=msg["elapsed"],
                            message=msg["message"], cycle=list(msg["cycle"]), workers=list(msg["workers"]),
                            python_stack=msg["python_stack"])
    return RemoteWatchdogReport(address=msg["address"], host=msg["host"], pid=msg["pid"], time=float(stamp),
                                report=report)


def _log_remote(remote: RemoteWatchdogReport) -> None:
    severity = logging.ERROR if remote.report.kind == "deadlock" else logging.WARNING
    if remote.report.python_stack:
        logger.log(severity, "%s\nPython stack of worker %d:\n%s", remote, remote.report.worker,
                   remote.report.python_stack.rstrip(), extra={"dask_worker": remote.address})
    else:
        logger.log(severity, "%s", remote, extra={"dask_worker": remote.address})


def subscribe_watchdog(client: Any, callback: Optional[Callable[[RemoteWatchdogReport], Any]] = None, *,
                       log: Optional[bool] = None) -> None:
    """Receive every Dask worker's watchdog reports on this client.

    ``callback(report)`` gets a :class:`RemoteWatchdogReport` for each one
    (on the client's event loop thread: keep it short). ``log=True`` (the
    default when there is no callback) also logs each report to the
    ``dftracer.utils`` logger, prefixed ``[dask worker <address> on
    <host>]`` and with the Python stack, WARNING (deadlocks at ERROR); the
    record's ``dask_worker`` attribute is the address. Subscribing again
    replaces the previous callback.
    """
    _check_client(client)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if log is None:
        log = callback is None
    if not isinstance(log, bool):
        raise TypeError(f"log must be a bool or None, got {type(log).__name__}")

    def handle(event: Any) -> None:
        try:
            remote = _remote_report(event)
        except Exception:
            logger.exception("malformed watchdog event on %s: %r", WATCHDOG_TOPIC, event)
            return
        if log:
            _log_remote(remote)
        if callback is not None:
            try:
                callback(remote)
            except BaseException:  # never lost, never fatal
                logger.exception("watchdog callback %r raised", callback)

    client.subscribe_topic(WATCHDOG_TOPIC, handle)


def unsubscribe_watchdog(client: Any) -> None:
    """Stop receiving watchdog reports on this client."""
    _check_client(client)
    client.unsubscribe_topic(WATCHDOG_TOPIC)


# ---------------------------------------------------------------- display

@contextlib.contextmanager
def show_cluster_progress(client: Any, *, interval: float = 0.5, timeout: float = 5.0,
                          stream: Optional[TextIO] = None, use_tqdm: Optional[bool] = None
                          ) -> Iterator[Callable[[], ClusterProgress]]:
    """Draw a live bar of the cluster's runtime tasks while the block runs.

    Polls :func:`cluster_progress` every ``interval`` seconds on a
    background thread (counts only, no task lists; on a large cluster the
    pause between polls grows to ten times the last poll's duration, so
    polling never takes more than a tenth of the time; polls that waited
    for a silent worker do not count) and shows the tasks
    finished since the block began, with tqdm when installed (unless
    ``use_tqdm=False``), else the package's plain one-line bar, on
    ``stream`` (default ``sys.stderr``). Yields a function returning the
    latest :class:`ClusterProgress`.
    """
    from ._progress import make_bar

    _check_client(client)
    interval = _check_seconds("interval", interval)
    timeout = _check_seconds("timeout", timeout)
    if use_tqdm is not None and not isinstance(use_tqdm, bool):
        raise TypeError("use_tqdm must be a bool or None")
    baseline = cluster_progress(client, timeout=timeout, max_tasks=0)
    bar = make_bar(stream, use_tqdm)
    stop = threading.Event()
    latest: list[ClusterProgress] = [baseline]

    def draw(p: ClusterProgress) -> None:
        done = p["completed"] + p["failed"] + p["cancelled"]
        base = baseline["completed"] + baseline["failed"] + baseline["cancelled"]
        bar.update(max(0, done - base), max(0, p["total"] - baseline["total"]),
                   max(0, p["failed"] - baseline["failed"]))

    def poll() -> None:
        pause = interval
        while not stop.wait(pause):
            began = time.monotonic()
            try:
                p = cluster_progress(client, timeout=timeout, max_tasks=0)
            except Exception:  # the client closed under us: stop drawing
                logger.debug("cluster progress poll failed", exc_info=True)
                return
            # A poll that waited for a silent worker says nothing about the
            # cluster's size: only answered polls stretch the pause.
            pause = interval if p["missing"] else max(interval, 10 * (time.monotonic() - began))
            latest[0] = p
            draw(p)

    thread = threading.Thread(target=poll, name="dftracer-cluster-progress", daemon=True)
    thread.start()
    try:
        yield lambda: latest[0]
    finally:
        stop.set()
        thread.join()
        with contextlib.suppress(Exception):
            final = cluster_progress(client, timeout=timeout, max_tasks=0)
            latest[0] = final
            draw(final)
        bar.close()
