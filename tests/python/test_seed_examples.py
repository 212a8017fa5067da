"""Every example of the Runtime module page, as written (with the helper
functions it assumes defined)."""

from __future__ import annotations

import pytest

import dftracer.utils as dft


def process(f):
    return f"processed {f}"


def index(filename):
    return {"file": filename, "lines": 3}


def failing_function():
    raise ValueError("bad input")


def test_submitting_tasks(capsys):
    files = ["a.pfw", "b.pfw", "c.pfw"]
    rt = dft.Runtime(threads=8, io_threads=4)

    h = rt.submit(lambda x, y: x + y, 3, 4, name="add")
    result = h.get()
    assert result == 7

    handles = [rt.submit(process, f, name=f"proc-{f}") for f in files]
    rt.wait_all()
    for h in handles:
        print(h.name, h.get())
    out = capsys.readouterr().out
    assert "proc-a.pfw processed a.pfw" in out
    assert rt.threads == 8 and rt.io_threads == 4
    rt.shutdown()


def test_name_auto_derivation(rt):
    def my_function(): ...

    assert rt.submit(my_function).name == "my_function"

    class Pipeline:
        def run(self): ...

    p = Pipeline()
    assert rt.submit(p.run).name == "Pipeline.run"
    assert rt.submit(lambda: None).name == ""
    assert rt.submit(my_function, name="custom-name").name == "custom-name"
    rt.wait_all()


@pytest.mark.parametrize("threads", [1, 4])
def test_composing_pattern_1(threads):
    rt = dft.Runtime(threads=threads, io_threads=1)

    def compose(filename):
        h1 = rt.submit(index, filename)
        result = h1.get()
        h2 = rt.submit(process, result)
        return h2.get()

    h = rt.submit(compose, "trace.pfw.gz", name="compose")
    assert h.get(timeout=30) == "processed {'file': 'trace.pfw.gz', 'lines': 3}"
    rt.shutdown()


@pytest.mark.parametrize("threads", [1, 4])
def test_composing_pattern_2(threads):
    rt = dft.Runtime(threads=threads, io_threads=1)

    def process(h1):  # the utility unwraps the handle itself
        return f"processed {h1.get()['file']}"

    def compose(filename):
        h1 = rt.submit(index, filename)
        h2 = rt.submit(process, h1)
        return h2.get()

    assert rt.submit(compose, "trace.pfw.gz").get(timeout=30) == "processed trace.pfw.gz"
    rt.shutdown()


def test_error_handling_get(rt, capsys):
    h = rt.submit(failing_function, name="fail")
    try:
        h.get()
    except ValueError as e:
        print(f"Task failed: {e}")
    assert capsys.readouterr().out == "Task failed: bad input\n"


def test_batch_error_handling(rt, capsys):
    rt.submit(failing_function, name="fail")
    rt.wait_all()  # does not raise
    for h in rt.get_failed():
        print(f"{h.name} failed: {h.exception}")
    assert capsys.readouterr().out == "fail failed: bad input\n"
    with pytest.raises(RuntimeError, match=r"^1 task\(s\) failed: fail: ValueError: bad input"):
        rt.wait_all(raise_on_error=True)


def test_error_callbacks(rt, capsys):
    rt.set_error_callback(lambda h, e: print(f"FAILED {h.name}: {e}"))
    rt.submit(failing_function, name="monitored")
    rt.wait_all()
    assert capsys.readouterr().out == "FAILED monitored: bad input\n"


def test_progress_tracking_shape(rt):
    rt.submit(process, "x", name="iter_lines").get()
    rt.wait_all()
    p = rt.get_progress()
    for key in ("total", "completed", "running", "queued", "failed", "workers", "tasks", "errors"):
        assert key in p
    assert set(p["workers"][0]) >= {"id", "idle", "task", "queue_depth"}
    task = next(t for t in p["tasks"] if t["name"] == "iter_lines")
    assert task["state"] == "completed"
    assert task["progress_pct"] == 100.0
    assert isinstance(task["execution_duration_ms"], float)
    assert isinstance(task["queued_duration_ms"], float)
    assert p["errors"] == []


def test_dask_plugin_importable_when_dask_present():
    distributed = pytest.importorskip("dask.distributed")
    from dftracer.utils.dask import DFTracerUtilsDaskWorkerPlugin

    assert isinstance(DFTracerUtilsDaskWorkerPlugin(threads=48), distributed.WorkerPlugin)
