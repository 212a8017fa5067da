"""The Dask worker plugin, with a real LocalCluster of worker processes."""

from __future__ import annotations

import time

import pytest

from conftest import run_python

distributed = pytest.importorskip("dask.distributed")
dask = pytest.importorskip("dask")

from dftracer.utils.dask import EXECUTOR_NAME, DFTracerUtilsDaskWorkerPlugin  # noqa: E402

from dask_helpers import (  # noqa: E402
    current_thread_and_worker,
    fan_out,
    mark_once_another_is_queued,
    runtime_facts,
    runtime_threads,
    stuck_forever,
    two_worker_cluster,
)


@pytest.fixture(scope="module")
def cluster():
    with two_worker_cluster() as c:
        yield c


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster) as c:
        yield c


def test_each_worker_gets_its_own_runtime(client):
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=3))
    facts = client.run(runtime_facts)
    assert len(facts) == 2
    assert len({f["pid"] for f in facts.values()}) == 2
    for f in facts.values():
        assert f["threads"] == 3
        assert f["is_default"]
        assert f["square"] == 49


def test_tasks_use_the_worker_runtime(client):
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin())
    results = client.gather(client.map(fan_out, [10, 20, 30]))
    assert results == [sum(i * i for i in range(n)) for n in (10, 20, 30)]
    sizes = client.run(runtime_threads)
    assert set(sizes.values()) == {2}  # threads=0: the worker's own nthreads


def test_annotated_tasks_run_on_runtime_threads(client):
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=2))
    with dask.annotate(executor=EXECUTOR_NAME):
        future = client.submit(current_thread_and_worker, pure=False)
    thread_name, worker_id = future.result(timeout=60)
    assert worker_id >= 0, f"ran on {thread_name}, not on a runtime worker"
    plain = client.submit(current_thread_and_worker, pure=False).result(timeout=60)
    assert plain[1] == -1


def test_double_registration_and_restart(client):
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=2))
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=4))
    assert set(client.run(runtime_threads).values()) == {4}
    client.restart()
    assert set(client.run(runtime_threads).values()) == {4}
    assert client.submit(fan_out, 5).result(timeout=60) == 30


def test_replacing_the_plugin_runs_the_executor_tasks_still_queued(client, tmp_path):
    # A Dask task queued on the runtime when the plugin is replaced must
    # still run: cancelling it left the Dask task pending for good.
    addresses = sorted(client.scheduler_info()["workers"])[:1]
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=1))
    marker = tmp_path / "first-started"
    with dask.annotate(executor=EXECUTOR_NAME):
        first = client.submit(mark_once_another_is_queued, 1, str(marker), pure=False, workers=addresses)
        queued = client.submit(abs, -2, pure=False, workers=addresses)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert time.monotonic() < deadline, "the first task never started"
        time.sleep(0.01)
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=1))
    assert first.result(timeout=60) == 1
    assert queued.result(timeout=60) == 2


def test_a_second_instance_under_another_name_is_refused(client):
    client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=2))
    with pytest.raises(Exception, match="already registered on this worker under another name"):
        client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=3), name="second")
    assert set(client.run(runtime_threads).values()) == {2}  # the first one is intact


def test_close_with_a_stuck_task_is_bounded():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=40) as cluster:
        with distributed.Client(cluster) as client:
            client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=1, shutdown_timeout=1.0))
            assert client.submit(stuck_forever, pure=False).result(timeout=60) == "submitted"
            start = time.monotonic()
        # Client and cluster close here; teardown reports the stuck task.
    assert time.monotonic() - start < 60


def test_plugin_validates_configuration():
    with pytest.raises(ValueError):
        DFTracerUtilsDaskWorkerPlugin(threads=-1)
    with pytest.raises(TypeError):
        DFTracerUtilsDaskWorkerPlugin(threads="4")
    with pytest.raises(ValueError):
        DFTracerUtilsDaskWorkerPlugin(shutdown_timeout=-2)
    with pytest.raises(ValueError, match="shutdown_timeout"):
        DFTracerUtilsDaskWorkerPlugin(shutdown_timeout=float("nan"))
    with pytest.raises(ValueError, match=r"watchdog\['slow'\] must be a number of seconds from 0"):
        DFTracerUtilsDaskWorkerPlugin(watchdog={"slow": 1e18})
    with pytest.raises(ValueError, match="unknown watchdog settings"):
        DFTracerUtilsDaskWorkerPlugin(watchdog={1: 2, "a": 3})


def test_import_without_dask_names_the_extra():
    result = run_python(
        """
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "distributed" or name.startswith("distributed."):
                    raise ImportError("blocked for this test")
        sys.meta_path.insert(0, Block())
        import dftracer.utils as dft
        assert dft.Runtime(threads=1).submit(lambda: 1).get() == 1
        try:
            import dftracer.utils.dask
        except ImportError as e:
            print("ImportError:", e)
        """
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "dftracer-utils[dask]"' in result.stdout
