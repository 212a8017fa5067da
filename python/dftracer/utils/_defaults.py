"""The process-wide default runtime, interpreter exit and fork()."""

from __future__ import annotations

import os
import threading
from typing import Optional

from ._exit_drain import drain_at_exit
from ._runtime import Runtime, _live_runtimes

_lock = threading.Lock()
_default: Optional[Runtime] = None


def get_default_runtime() -> Runtime:
    """The process-wide runtime, created on first use with auto-sized pools.

    Thread-safe: concurrent first calls create exactly one runtime. After
    ``os.fork()`` the child gets a fresh one on its first call.
    """
    global _default
    runtime = _default
    if runtime is not None and not runtime.is_shutdown:
        return runtime
    with _lock:
        if _default is None or _default.is_shutdown:
            _default = Runtime()
        return _default


def peek_default_runtime() -> Optional[Runtime]:
    """The default runtime if one exists, without creating it."""
    return _default


def set_default_runtime(runtime: Optional[Runtime]) -> Optional[Runtime]:
    """Install ``runtime`` as the default (``None`` clears it) and return the
    previous default. The previous runtime is not shut down."""
    global _default
    if runtime is not None and not isinstance(runtime, Runtime):
        raise TypeError(f"expected a Runtime or None, got {type(runtime).__name__}")
    with _lock:
        previous, _default = _default, runtime
    return previous


def _drain_at_exit() -> None:
    # Runs before the interpreter finalizes (like concurrent.futures): queued
    # work runs to the end and every worker exits while Python is intact; a
    # second Ctrl-C cancels the queued work (see _exit_drain).
    drain_at_exit(list(_live_runtimes))


def _after_fork_in_child() -> None:
    global _lock, _default
    _lock = threading.Lock()
    _default = None  # the parent's runtime has no workers here
    _live_runtimes.clear()


threading._register_atexit(_drain_at_exit)  # type: ignore[attr-defined]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
