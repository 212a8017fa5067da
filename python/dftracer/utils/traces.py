"""Reading DFTracer traces (``.pfw`` and ``.pfw.gz``) on the runtime.

:func:`read_traces` takes files and directories and returns a
:class:`TraceSet`: every complete event (a dict as DFTracer wrote it, plus
``path`` and ``host`` where the event names a file or host, resolved from the
``FH`` / ``HH`` hash metadata), the hash tables, thread and process names,
and every problem met, as a :class:`TraceError` with file and line.

Reading and decompressing run on the runtime's io pool, one task per file;
each file is cut into line-aligned chunks of about ``chunk_bytes`` of text
that are parsed on the compute pool while reading goes on, so a large
``.pfw.gz`` is many tasks, not one. Both layouts are read: DFTracer 1.x
(``[`` first line, ``"ph":"X"``, ``args.fname``) and 2.x (one object per
line, ``"ph":1`` / ``4``, hashed names), as is the runtime's own export
(:meth:`~dftracer.utils.Runtime.export_trace`).

Damage never loses another file's events, nor the lines before it in the
same file: a malformed line is reported and skipped; a corrupt or truncated
gzip stream keeps what was decoded before it; a file that is not a trace is
reported and skipped. Empty files (DFTracer leaves one for each process that
traced nothing) are skipped and listed in ``TraceSet.empty_files``, not
reported as errors.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from ._handle import TaskHandle
from ._trace_io import ReadProblem, iter_chunks
from ._trace_parse import ParsedChunk, parse_chunk, resolve

CHUNK_BYTES = 4 << 20
TRACE_SUFFIXES = (".pfw", ".pfw.gz")
#: The categories of the runtime's own tasks in its exported traces.
RUNTIME_CATEGORIES = frozenset({"python", "compute", "io", "coroutine"})
#: Calls that move data; their ``bytes`` come from ``args.size`` (1.x, the
#: demo's synthetic traces) or the return value ``args.ret`` (2.x).
DATA_CALLS = frozenset(
    {"read", "write", "pread", "pwrite", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev",
     "preadv2", "pwritev2", "fread", "fwrite"}
)
PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class TraceError:
    """One problem in one file. ``kind``: ``"malformed"`` (a line that is
    not JSON, not an event, or has a field of the wrong type), ``"not_gzip"``, ``"corrupt_gzip"``,
    ``"truncated_gzip"``, ``"not_a_trace"`` or ``"unreadable"`` (OSError).
    ``line`` is 1-based; 0 when the problem is not tied to a line."""

    file: str
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class TraceFile:
    """What one file held: complete events, metadata lines, other events
    (instant, counter...), errors, and the chunk tasks it was parsed in."""

    path: str
    size: int = 0
    events: int = 0
    metadata: int = 0
    other: int = 0
    errors: int = 0
    chunks: int = 0


@dataclass
class TraceSet:
    """Everything :func:`read_traces` found. ``events`` keeps file order
    (``traces`` order) and, within a file, line order, so each file's events
    are one contiguous run (see :meth:`events_of`). ``files``/``hosts``/
    ``strings`` map DFTracer's hashes to names; ``threads`` maps
    ``(pid, tid)`` and ``processes`` maps ``pid`` to names from ``M``
    events."""

    events: list[dict[str, Any]] = field(default_factory=list)
    traces: list[TraceFile] = field(default_factory=list)
    errors: list[TraceError] = field(default_factory=list)
    empty_files: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    threads: dict[tuple[int, int], str] = field(default_factory=dict)
    processes: dict[int, str] = field(default_factory=dict)
    metadata: int = 0
    other: int = 0

    def events_of(self, keep: Callable[[TraceFile], bool]) -> list[dict[str, Any]]:
        """The events of the trace files for which ``keep(file)`` is true."""
        out: list[dict[str, Any]] = []
        start = 0
        for trace in self.traces:
            if keep(trace):
                out.extend(self.events[start:start + trace.events])
            start += trace.events
        return out

    def error_counts(self) -> Counter[str]:
        """Errors by kind."""
        return Counter(e.kind for e in self.errors)


def trace_files(sources: Iterable[PathLike]) -> list[str]:
    """Files named in ``sources`` plus the regular ``.pfw``/``.pfw.gz`` files
    under each directory among them (recursively, sorted). Raises
    ``FileNotFoundError`` for a source that does not exist."""
    out: list[str] = []
    for source in sources:
        path = os.fspath(source)
        if os.path.isdir(path):
            # Regular files only: opening a FIFO named like a trace would block.
            found = [os.path.join(root, name) for root, _, names in os.walk(path) for name in names
                     if name.endswith(TRACE_SUFFIXES) and os.path.isfile(os.path.join(root, name))]
            out.extend(sorted(found))
        elif os.path.exists(path):
            out.append(path)
        else:
            raise FileNotFoundError(f"no such trace file or directory: {path!r}")
    return out


@dataclass
class _FileRead:
    """The io task's result for one file: its chunk tasks and any problem."""

    path: str
    size: int
    chunks: list[TaskHandle[ParsedChunk]]
    problem: Optional[TraceError] = None


def _read_file(runtime: Any, path: str, chunk_bytes: int) -> _FileRead:
    """io pool: read and decompress one file, submitting each chunk's parse
    to the compute pool as soon as it is read."""
    try:
        size = os.path.getsize(path)
    except OSError as error:
        return _FileRead(path, 0, [], TraceError(path, 0, "unreadable", str(error)))
    read = _FileRead(path, size, [])
    base = os.path.basename(path)
    try:
        for data, first_line in iter_chunks(path, chunk_bytes):
            read.chunks.append(runtime.submit(parse_chunk, data, first_line, name=f"parse {base}:{first_line}"))
    except ReadProblem as problem:
        read.problem = TraceError(path, problem.line, problem.kind, str(problem))
    except OSError as error:
        read.problem = TraceError(path, 0, "unreadable", str(error))
    return read


def _merge(out: TraceSet, read: _FileRead) -> None:
    """Adds one file's chunks to ``out``, resolving the hashes a chunk could
    not (defined in an earlier chunk of the same file, or in another file)."""
    info = TraceFile(read.path, read.size, chunks=len(read.chunks))
    parsed = [h.get() for h in read.chunks]
    files = dict(out.files)
    hosts = dict(out.hosts)
    for chunk in parsed:
        files.update(chunk.files)
        hosts.update(chunk.hosts)
    for chunk in parsed:
        for index in chunk.pending:
            resolve(chunk.events[index], files, hosts)
        out.events.extend(chunk.events)
        out.strings.update(chunk.strings)
        out.threads.update(chunk.threads)
        out.processes.update(chunk.processes)
        info.events += len(chunk.events)
        info.metadata += chunk.metadata
        info.other += chunk.other
        out.errors.extend(TraceError(read.path, line, "malformed", message) for line, message in chunk.errors)
        info.errors += len(chunk.errors)
    out.files, out.hosts = files, hosts
    out.metadata += info.metadata
    out.other += info.other
    if read.problem is not None:
        out.errors.append(read.problem)
        info.errors += 1
    elif not parsed or (info.events == 0 and info.metadata == 0 and info.other == 0 and info.errors == 0):
        out.empty_files.append(read.path)
    out.traces.append(info)


def read_traces(sources: Union[PathLike, Iterable[PathLike]], *, runtime: Any = None,
                chunk_bytes: int = CHUNK_BYTES) -> TraceSet:
    """Read DFTracer trace files and directories of them (``.pfw``,
    ``.pfw.gz``) on ``runtime`` (default: the default runtime); see the
    module docs. Blocks until done; thread-safe. Problems inside files are
    returned in ``TraceSet.errors``, never raised; raises
    ``FileNotFoundError`` for a source that does not exist, ``ValueError``
    for ``chunk_bytes < 1``."""
    from ._defaults import get_default_runtime

    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if isinstance(chunk_bytes, bool) or not isinstance(chunk_bytes, int) or chunk_bytes < 1:
        raise ValueError(f"chunk_bytes must be a positive int, got {chunk_bytes!r}")
    rt = runtime if runtime is not None else get_default_runtime()
    paths = trace_files(sources)
    reads = [rt.submit_io(_read_file, rt, p, chunk_bytes, name=f"read {os.path.basename(p)}") for p in paths]
    out = TraceSet()
    for handle in reads:
        _merge(out, handle.get())
    return out


def event_bytes(event: dict[str, Any]) -> int:
    """Bytes a data call moved (see :data:`DATA_CALLS`); 0 for other events
    and where the trace has no arguments (``DFTRACER_INC_METADATA`` off)."""
    if event.get("name") not in DATA_CALLS:
        return 0
    args = event.get("args")
    if type(args) is not dict:
        return 0
    value = args.get("size", args.get("ret", 0))
    return value if type(value) is int and value > 0 else 0


@dataclass
class CallSummary:
    """Totals for one call name or one file: events, time (us), bytes."""

    count: int = 0
    dur_us: int = 0
    bytes: int = 0


def summarize(events: Iterable[dict[str, Any]]) -> tuple[dict[str, CallSummary], dict[str, CallSummary], Counter[str]]:
    """Per-call and per-file totals (files by resolved ``path``; events
    naming no file are left out of the second), and event counts by
    category."""
    calls: dict[str, CallSummary] = {}
    files: dict[str, CallSummary] = {}
    categories: Counter[str] = Counter()
    for event in events:
        name = str(event.get("name", ""))
        moved = event_bytes(event)
        dur = event.get("dur", 0)
        dur = dur if type(dur) is int else 0
        categories[str(event.get("cat", ""))] += 1
        call = calls.get(name)
        if call is None:
            call = calls[name] = CallSummary()
        call.count += 1
        call.dur_us += dur
        call.bytes += moved
        path = event.get("path")
        if path is not None:
            per_file = files.get(path)
            if per_file is None:
                per_file = files[path] = CallSummary()
            per_file.count += 1
            per_file.dur_us += dur
            per_file.bytes += moved
    return calls, files, categories


__all__ = ["CHUNK_BYTES", "DATA_CALLS", "RUNTIME_CATEGORIES", "CallSummary", "TraceError", "TraceFile", "TraceSet",
           "event_bytes", "read_traces", "summarize", "trace_files"]
