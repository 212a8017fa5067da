"""Reading DFTracer trace files into line-aligned chunks (the io side of
:mod:`dftracer.utils.traces`).

A ``.pfw.gz`` file is a series of gzip members (DFTracer flushes one per
buffer); a ``.pfw`` file is the same text uncompressed. :func:`iter_chunks`
yields the decompressed text in chunks of about ``chunk_bytes`` that end on
a line boundary, each with the number of its first line, so parsing can run
on other threads while reading goes on. Decompression happens here, on the
reading thread (zlib releases the GIL while it inflates).

Problems that end a file early are raised as :class:`ReadProblem` *after*
every complete line before them was yielded, so nothing before the damage
is lost.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import BinaryIO

READ_BYTES = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


class ReadProblem(Exception):
    """A file could not be read to its end. ``kind`` is one of
    ``"not_gzip"``, ``"corrupt_gzip"``, ``"truncated_gzip"``,
    ``"not_a_trace"``; ``line`` is the line where reading stopped."""

    def __init__(self, kind: str, message: str, line: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.line = line


def _inflate(f: BinaryIO) -> Iterator[bytes]:
    """Decompressed bytes of every gzip member in ``f``, in order."""
    inflater = zlib.decompressobj(31)
    started = False  # bytes of the current member were fed
    consumed = 0  # compressed bytes consumed, for messages
    while True:
        raw = f.read(READ_BYTES)
        if not raw:
            break
        while raw:
            if not started and not raw.startswith(GZIP_MAGIC[: len(raw)]):
                if not raw.strip(b"\0"):
                    raw = b""  # zero padding after the last member
                    break
                kind = "not_gzip" if consumed == 0 else "corrupt_gzip"
                what = "not a gzip file" if consumed == 0 else f"bytes after gzip member at offset {consumed}"
                raise ReadProblem(kind, what, 0)
            try:
                out = inflater.decompress(raw)
            except zlib.error as error:
                raise ReadProblem("corrupt_gzip", f"corrupt gzip data near offset {consumed}: {error}", 0) from None
            started = True
            if inflater.eof:  # a member ended; the rest of `raw` starts the next one
                rest = inflater.unused_data
                consumed += len(raw) - len(rest)
                raw = rest
                inflater = zlib.decompressobj(31)
                started = False
            else:
                consumed += len(raw)
                raw = b""
            if out:
                yield out
    if started:
        raise ReadProblem("truncated_gzip", f"gzip data ends early after {consumed} bytes (truncated file)", 0)


def _plain(f: BinaryIO) -> Iterator[bytes]:
    while True:
        raw = f.read(READ_BYTES)
        if not raw:
            return
        yield raw


def _looks_like_trace(head: bytes) -> bool:
    text = head.lstrip()
    return not text or text[:1] in (b"{", b"[")


def iter_chunks(path: str, chunk_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Yields ``(text, first_line)`` chunks of ``path`` (1-based line
    numbers). Raises :class:`ReadProblem` once the good part was yielded,
    and ``OSError`` if the file cannot be opened. Linear in the file's size
    whatever its line lengths: a line longer than ``chunk_bytes`` stays
    whole, and the bytes searched for its end are not searched again."""
    line = 1
    pending = bytearray()  # appended in place: a long line is not copied per block
    searched = 0  # pending[:searched] holds no newline past the last cut
    checked = False
    with open(path, "rb") as f:
        source = _inflate(f) if path.endswith(".gz") else _plain(f)
        try:
            for block in source:
                pending += block
                if not checked:
                    head = pending.lstrip()[:64]
                    if head:
                        checked = True
                        if not _looks_like_trace(bytes(head)):
                            raise ReadProblem("not_a_trace", f"not a DFTracer trace (starts with {bytes(head[:24])!r})",
                                              1)
                start = 0
                while len(pending) - start >= chunk_bytes:
                    cut = pending.rfind(b"\n", start, start + chunk_bytes) + 1
                    if cut <= start:  # a line longer than chunk_bytes stays whole
                        cut = pending.find(b"\n", max(start + chunk_bytes, searched)) + 1
                        if cut <= 0:
                            searched = len(pending)
                            break
                    chunk = bytes(pending[start:cut])
                    yield chunk, line
                    line += chunk.count(b"\n")
                    start = cut
                if start:
                    del pending[:start]
                    searched = 0
        except ReadProblem as problem:
            if problem.kind == "not_a_trace":
                raise
            # Lines decoded before the damage still count; a partial last
            # line goes to the parser, which reports it as malformed.
            if pending:
                yield bytes(pending), line
                line += pending.count(b"\n")
            problem.line = line
            raise
    if pending:
        yield bytes(pending), line
