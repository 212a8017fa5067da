"""Shared fixtures for the Python suites.

Tests never sleep-and-hope: they block tasks on threading.Event and use
generous timeouts so a broken feature fails instead of hanging.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Iterator

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


def run_python(code: str, timeout: float = 120.0, **kwargs) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (same environment) and capture output."""
    env = dict(os.environ)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=env, **kwargs,
    )
