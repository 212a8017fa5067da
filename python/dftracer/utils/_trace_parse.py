"""Parsing one chunk of DFTracer JSON lines (the compute side of
:mod:`dftracer.utils.traces`).

Accepts both layouts: 1.x (``[`` on the first line, ``"ph":"X"`` / ``"M"``,
``args.fname`` / ``args.hostname``, sometimes a trailing comma) and 2.x (no
brackets, ``"ph":1`` complete / ``4`` metadata, ``args.fhash`` /
``args.hhash`` resolved through ``FH`` / ``HH`` / ``SH`` metadata). Pure
functions of their input; safe to run on any thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

COMPLETE = (1, "X")
METADATA = (4, "M")
HASH_KINDS = {"FH": "files", "HH": "hosts", "SH": "strings"}
_SKIP = frozenset((b"", b"[", b"]"))


@dataclass
class ParsedChunk:
    """What one chunk held. ``pending`` indexes events whose file or host
    hash was not defined in this chunk (resolved once the file is done)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    hosts: dict[str, str] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    threads: dict[tuple[int, int], str] = field(default_factory=dict)
    processes: dict[int, str] = field(default_factory=dict)
    metadata: int = 0
    other: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message)


#: What a value of the wrong type or size in a line raises while it is read
#: (``int("x")``, ``int(None)``, ``int(1e400)``, an unhashable hash, a line
#: nested too deep for the decoder).
_BAD_LINE = (ValueError, TypeError, OverflowError, RecursionError)


def _decode(data: bytes, first_line: int, errors: list[tuple[int, str]]) -> list[tuple[int, Any]]:
    """``(line number, JSON value)`` of the chunk's lines. One json.loads call
    for the whole chunk when every line is clean (the common case, ~2x faster
    than a call per line); line by line otherwise, reporting each bad line."""
    lines = data.split(b"\n")
    body = [line for line in lines if line[:1] == b"{"]
    if len(body) == len(lines) or all(line.strip() in _SKIP for line in lines if line[:1] != b"{"):
        try:
            decoded: list[Any] = json.loads(b"[" + b",".join(body) + b"]")
        except _BAD_LINE:
            pass
        else:
            numbers = [number for number, line in enumerate(lines, first_line) if line[:1] == b"{"]
            if len(numbers) == len(decoded):  # else a line held two objects: line by line
                return list(zip(numbers, decoded, strict=True))
    out: list[tuple[int, Any]] = []
    for number, raw in enumerate(lines, first_line):
        text = raw.strip()
        if text in _SKIP:
            continue
        try:
            out.append((number, json.loads(text[:-1] if text.endswith(b",") else text)))
        except _BAD_LINE as error:
            message = getattr(error, "msg", None) or type(error).__name__
            errors.append((number, f"malformed JSON ({message}): {text[:60]!r}"))
    return out


def resolve(event: dict[str, Any], files: dict[str, str], hosts: dict[str, str]) -> bool:
    """Sets ``path`` and ``host`` on a complete event from its arguments;
    False if a hash it names is not (yet) known."""
    args = event.get("args")
    if not args or type(args) is not dict:
        return True
    known = True
    fhash = args.get("fhash")
    if isinstance(fhash, (str, int)):  # keys are str(args.value) of the FH lines
        path = files.get(str(fhash))
        if path is None:
            known = False
        else:
            event["path"] = path
    elif "fname" in args:
        event["path"] = args["fname"]
    hhash = args.get("hhash")
    if isinstance(hhash, (str, int)):
        host = hosts.get(str(hhash))
        if host is None:
            known = False
        else:
            event["host"] = host
    elif "hostname" in args:
        event["host"] = args["hostname"]
    return known


def _metadata(event: dict[str, Any], chunk: ParsedChunk) -> None:
    name = event.get("name")
    args = event.get("args")
    if type(args) is not dict:
        return
    kind = HASH_KINDS.get(name) if isinstance(name, str) else None
    if kind is not None and "value" in args:
        getattr(chunk, kind)[str(args["value"])] = str(args.get("name", ""))
    elif name == "thread_name" and "value" not in args:  # Chrome style; DFTracer's names nothing
        chunk.threads[(int(event.get("pid", 0)), int(event.get("tid", 0)))] = str(args.get("name", ""))
    elif name == "process_name":
        chunk.processes[int(event.get("pid", 0))] = str(args.get("name", ""))


def parse_chunk(data: bytes, first_line: int) -> ParsedChunk:
    """Complete events, metadata and errors of one line-aligned chunk whose
    first line has number ``first_line``."""
    chunk = ParsedChunk()
    events = chunk.events
    for number, event in _decode(data, first_line, chunk.errors):
        if type(event) is not dict:
            chunk.errors.append((number, f"a JSON value that is not an event object: {str(event)[:40]!r}"))
            continue
        try:
            ph = event.get("ph")
            if ph in COMPLETE:
                if not resolve(event, chunk.files, chunk.hosts):
                    chunk.pending.append(len(events))
                events.append(event)
            elif ph in METADATA:
                chunk.metadata += 1
                _metadata(event, chunk)
            else:
                chunk.other += 1
        except _BAD_LINE as error:  # a field of the wrong type or size
            chunk.errors.append((number, f"bad field ({type(error).__name__}: {str(error)[:60]}): "
                                         f"{str(event)[:60]!r}"))
    return chunk
