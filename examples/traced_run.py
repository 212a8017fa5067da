"""Running a command under DFTracer, the I/O tracer (PyPI ``dftracer``).

Used by the demo and the tests. The tracer is installed with
``pip install --no-deps dftracer`` (it depends on the upstream
``dftracer-utils``, which shares this package's import name and would
replace it). It traces a process through its preload library.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Optional

PRELOAD = os.path.join("lib64", "libdftracer_preload.so")


def find_preload() -> Optional[str]:
    """The tracer's preload library inside the installed ``dftracer``
    package, or None if the tracer is not installed."""
    import dftracer  # a namespace shared with dftracer.utils: search every part

    for part in getattr(dftracer, "__path__", []):
        candidate = os.path.join(part, PRELOAD)
        if os.path.exists(candidate):
            return candidate
    return None


def tracer_env(trace_dir: str, preload: str, *, metadata: bool = True) -> dict[str, str]:
    """The environment that makes DFTracer trace a process into
    ``trace_dir/trace-<hash>-<kind>.pfw.gz``. Without DFTRACER_DATA_DIR the
    tracer records nothing; ``all`` traces every file. Libraries the caller
    already preloads stay first (a sanitizer runtime must)."""
    env = dict(os.environ)
    already = env.get("LD_PRELOAD", "")
    env.update({
        "LD_PRELOAD": f"{already} {preload}" if already else preload,
        "DFTRACER_ENABLE": "1",
        "DFTRACER_INIT": "PRELOAD",
        "DFTRACER_DATA_DIR": "all",
        "DFTRACER_INC_METADATA": "1" if metadata else "0",
        "DFTRACER_LOG_FILE": os.path.join(trace_dir, "trace"),
    })
    return env


def run_traced(argv: Sequence[str], trace_dir: str, *, preload: Optional[str] = None,
               metadata: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs ``argv`` under the tracer (raises RuntimeError if it is not
    installed, CalledProcessError if the command fails)."""
    preload = preload or find_preload()
    if preload is None:
        raise RuntimeError("DFTracer is not installed: pip install --no-deps dftracer")
    os.makedirs(trace_dir, exist_ok=True)
    return subprocess.run(list(argv), env=tracer_env(trace_dir, preload, metadata=metadata), check=True,
                          capture_output=True, text=True, timeout=timeout)


def python_traced(script: str, *args: str, trace_dir: str, metadata: bool = True) -> subprocess.Popen[str]:
    """Starts ``python script args...`` (this interpreter) under the tracer;
    the caller waits."""
    preload = find_preload()
    if preload is None:
        raise RuntimeError("DFTracer is not installed: pip install --no-deps dftracer")
    os.makedirs(trace_dir, exist_ok=True)
    return subprocess.Popen([sys.executable, script, *args], env=tracer_env(trace_dir, preload, metadata=metadata),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
