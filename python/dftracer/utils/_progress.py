"""A live progress bar for Runtime.wait_all(progress=True)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, Optional, TextIO

REFRESH_SECONDS = 0.1


class _PlainBar:
    """Fallback when tqdm is not installed: one self-rewriting line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._start = time.monotonic()
        self._last = ""

    def update(self, done: int, total: int, failed: int) -> None:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        width = 30
        filled = int(width * done / total) if total else width
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} tasks"
                f" | {failed} failed | {done / elapsed:,.0f} tasks/s")
        if line != self._last:
            self._stream.write("\r" + line)
            self._stream.flush()
            self._last = line

    def close(self) -> None:
        self._stream.write("\n")
        self._stream.flush()


class _TqdmBar:
    def __init__(self, tqdm: Any, stream: TextIO) -> None:
        self._bar = tqdm(total=0, unit="task", file=stream, dynamic_ncols=True, leave=True)

    def update(self, done: int, total: int, failed: int) -> None:
        self._bar.total = total
        self._bar.n = done
        self._bar.set_postfix(failed=failed, refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        self._bar.close()


def make_bar(stream: Optional[TextIO] = None, use_tqdm: Optional[bool] = None) -> Any:
    """tqdm when installed (unless use_tqdm=False), else the plain bar."""
    stream = stream if stream is not None else sys.stderr
    if use_tqdm is not False:
        try:
            from tqdm import tqdm
        except ImportError:
            if use_tqdm:
                raise
        else:
            return _TqdmBar(tqdm, stream)
    return _PlainBar(stream)


def wait_with_bar(wait_slice: Callable[[float], bool], counts: Callable[[], dict[str, int]],
                  timeout: Optional[float], bar: Any) -> bool:
    """Wait in short slices on the calling thread, redrawing the bar between
    them from lock-free counts; the tasks never wait for the bar."""
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            step = REFRESH_SECONDS if deadline is None else max(0.0, min(REFRESH_SECONDS, deadline - time.monotonic()))
            finished = wait_slice(step)
            c = counts()
            bar.update(c["completed"] + c["failed"] + c["cancelled"], c["total"], c["failed"])
            if finished:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
    finally:
        bar.close()
