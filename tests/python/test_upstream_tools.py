"""The runtime's exported .pfw.gz against the field's own tools: the
upstream ``dftracer-utils`` toolkit (PyPI, pinned), installed in a separate
virtual environment because it shares this package's import name.

The environment is $DFTRACER_UPSTREAM_VENV, else build/ci/upstream-venv
(scripts/test-python.sh creates it); when missing, the fixture creates it.
The tests skip, saying why, only if the package cannot be installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import dftracer.utils as dft

UPSTREAM = "dftracer-utils==0.0.14"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def upstream():
    """bin/ of a venv holding the upstream toolkit."""
    venv = os.environ.get("DFTRACER_UPSTREAM_VENV") or os.path.join(ROOT, "build", "ci", "upstream-venv")
    bin_dir = os.path.join(venv, "bin")
    if not os.path.exists(os.path.join(bin_dir, "dftracer_validate")):
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True, timeout=120)
            subprocess.run([os.path.join(bin_dir, "python"), "-m", "pip", "install", "-q", UPSTREAM], check=True,
                           capture_output=True, text=True, timeout=600)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            tail = (getattr(error, "stderr", "") or "")[-400:]
            pytest.skip(f"cannot install the upstream {UPSTREAM} into {venv}: {tail}")
    return bin_dir


@pytest.fixture
def exported(tmp_path):
    """A runtime's .pfw.gz export (and its number of task events) in a
    folder of its own."""
    folder = tmp_path / "traces"
    folder.mkdir()
    with dft.Runtime(threads=2, io_threads=2, history=10000) as rt:
        for i in range(3000):
            (rt.submit_io if i % 5 == 0 else rt.submit)(pow, i, 2, name=f'task "{i}"\tdone')
        rt.submit(lambda: 1 / 0, name="fails")
        rt.wait_all()
        rt.export_trace(folder / "runtime.pfw.gz")
        rt.export_trace(tmp_path / "runtime.pfw")
        tasks = rt._core.render_trace("pfw").count('"ph":"X"')
    assert tasks > 1000  # the history ring keeps the most recent ones
    return folder / "runtime.pfw.gz", tasks


def run(bin_dir, tool, *args):
    # The upstream tools are not ours to check: a sanitizer runtime preloaded
    # for our module (scripts/test-python-sanitized.sh) stays out of them.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    return subprocess.run([os.path.join(bin_dir, tool), *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)


def test_upstream_validator_accepts_the_export(upstream, exported):
    path, tasks = exported
    result = run(upstream, "dftracer_validate", "--files", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 0 failed" in result.stdout + result.stderr


def test_upstream_validator_rejects_plain_pfw(upstream, exported):
    """Plain .pfw is a convenience of ours; the field's tools read only gzip."""
    path, _ = exported
    result = run(upstream, "dftracer_validate", "--files", path.parent.parent / "runtime.pfw")
    assert result.returncode != 0 and "not a gzip trace" in result.stdout + result.stderr


def test_upstream_counter_and_viewer_see_every_task(upstream, exported, tmp_path):
    path, tasks = exported
    result = run(upstream, "dftracer_event_count", "-d", path.parent, "--index-dir", tmp_path / "index")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) == tasks
    code = ("import json, sys\n"
            "from dftracer.utils import TraceViewer\n"
            "frame = TraceViewer(sys.argv[1], index_path=sys.argv[2]).collect()\n"
            "print(json.dumps({'rows': len(frame), 'columns': list(frame.columns)}))\n")
    shown = subprocess.run([os.path.join(upstream, "python"), "-c", code, str(path), str(tmp_path / "viewer")],
                           capture_output=True, text=True, timeout=300, env={"PATH": os.environ.get("PATH", "")})
    assert shown.returncode == 0, shown.stderr
    loaded = json.loads(shown.stdout.strip().splitlines()[-1])
    assert loaded["rows"] == tasks
    assert {"pid", "tid", "ts", "dur", "cat", "name"} <= set(loaded["columns"])
