"""Shared fixtures for the Python suites.

Tests never sleep-and-hope: they block tasks on threading.Event and use
generous timeouts so a broken feature fails instead of hanging.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

import dftracer.utils as dft

GENEROUS = 30.0  # seconds; only reached when something is broken


@pytest.fixture
def rt() -> Iterator[dft.Runtime]:
    runtime = dft.Runtime(threads=2, io_threads=2)
    yield runtime
    runtime.shutdown(wait=True, cancel_pending=True)


@pytest.fixture
def rt1() -> Iterator[dft.Runtime]:
    """One compute thread: proves waits cannot deadlock the pool."""
    runtime = dft.Runtime(threads=1, io_threads=1)
    yield runtime
    runtime.shutdown(wait=True, cancel_pending=True)


def wait_until(predicate, timeout: float = GENEROUS) -> bool:
    """Poll `predicate` until true or `timeout` passes (for state another
    thread changes without an event to wait on)."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def default_sigint() -> None:
    """``preexec_fn`` for a child that is sent SIGINT: a suite started in the
    background by a shell without job control (``bash script &``) inherits
    SIGINT ignored, and Python then installs no KeyboardInterrupt handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_python(code: str, timeout: float = 120.0, **kwargs) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (same environment, default Ctrl-C
    handling) and capture output."""
    env = dict(os.environ)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    kwargs.setdefault("preexec_fn", default_sigint)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=env, **kwargs,
    )


ANCHORS = ("threadpool", "serial")


def pytest_terminal_summary(terminalreporter, config):
    """Print each benchmark group's median against its anchor (same run)."""
    session = getattr(config, "_benchmarksession", None)
    benchmarks = getattr(session, "benchmarks", None) or []
    if not benchmarks:
        return
    groups: dict = {}
    for bench in benchmarks:
        groups.setdefault(bench.group, {})[bench.name.rsplit("_", 1)[-1]] = bench.stats.median
    terminalreporter.section("dftracer-utils ratios (anchor median / median: > 1 is faster)")
    for group, medians in sorted(groups.items()):
        for anchor in ANCHORS:
            if anchor in medians:
                for name, median in sorted(medians.items()):
                    terminalreporter.write_line(
                        f"{group:28s} {name:12s} {median * 1e3:10.2f} ms   "
                        f"vs {anchor}: {medians[anchor] / median:6.2f}x"
                    )
