"""One view of a Dask cluster: cluster progress, watchdog reports on the
client and the merged trace, against a real LocalCluster of two worker
processes."""

from __future__ import annotations

import gzip
import io
import json
import logging
import os
import threading
import time

import pytest

distributed = pytest.importorskip("dask.distributed")

from dftracer.utils._cluster import merge_worker_events  # noqa: E402
from dftracer.utils.dask import (  # noqa: E402
    WATCHDOG_TOPIC,
    DFTracerUtilsDaskWorkerPlugin,
    RemoteWatchdogReport,
    cluster_progress,
    export_cluster_trace,
    show_cluster_progress,
    subscribe_watchdog,
    unsubscribe_watchdog,
)

from dask_helpers import two_worker_cluster  # noqa: E402

WAIT = 60  # generous: two cores shared with other jobs


# Shipped to the workers by reference (tests/python is on their sys.path).

def fan_out_named(prefix, n):
    import dftracer.utils as dft

    rt = dft.get_default_runtime()
    return sum(h.get() for h in [rt.submit(pow, i, 2, name=f"{prefix}-{i}") for i in range(n)])


def sleep_in_python(seconds):
    time.sleep(seconds)


def slow_runtime_task(name, seconds):
    import dftracer.utils as dft

    rt = dft.get_default_runtime()
    return rt.submit(sleep_in_python, seconds, name=name).get()


def wait_until_stopped():
    import threading

    import dftracer.utils as dft

    while not dft.stop_requested():
        threading.Event().wait(0.005)


def timed_out_runtime_task(name):
    import dftracer.utils as dft

    rt = dft.get_default_runtime()
    handle = rt.options(timeout=0.3).submit(wait_until_stopped, name=name)
    try:
        handle.get(timeout=60)
    except dft.TaskTimeoutError:
        return "timed out"
    return "finished"


def block_event_loop(marker, release, limit):
    # Runs through client.run, on the worker's event loop: until the test
    # releases it, the worker answers nothing.
    with open(marker, "w") as f:
        f.write("blocked")
    deadline = time.monotonic() + limit
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture(scope="module")
def cluster():
    with two_worker_cluster() as c:
        yield c


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster) as c:
        # A fresh plugin: new runtimes, counts from zero.
        c.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=2, watchdog={"slow": 0.5, "interval": 0.05}))
        yield c


def _addresses(client):
    addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
    assert len(addresses) == 2
    return addresses


def test_summed_counts_equal_per_worker_counts_and_tasks_submitted(client):
    a, b = _addresses(client)
    per_worker = {a: [5, 7, 9], b: [4, 6]}
    futures = [client.submit(fan_out_named, f"w{i}", n, workers=[address], pure=False)
               for i, address in enumerate(per_worker) for n in per_worker[address]]
    client.gather(futures)
    p = cluster_progress(client, timeout=WAIT)
    assert p["missing"] == []
    entries = {w["address"]: w for w in p["dask_workers"]}
    assert set(entries) == {a, b}
    for address, counts in per_worker.items():
        entry = entries[address]
        assert entry["status"] == "ok"
        assert entry["total"] == entry["completed"] == sum(counts)
        assert entry["pid"] > 0 and entry["host"]
        assert len(entry["workers"]) >= 2  # its runtime's compute (and io) workers
        assert len(entry["tasks"]) <= 20
    assert entries[a]["pid"] != entries[b]["pid"]
    submitted = sum(sum(c) for c in per_worker.values())
    for key in ("total", "completed", "running", "queued", "failed", "cancelled"):
        assert p[key] == sum(w[key] for w in p["dask_workers"])
    assert p["total"] == p["completed"] == submitted
    assert len(p["workers"]) == sum(len(w["workers"]) for w in p["dask_workers"])


def test_max_tasks_caps_what_each_worker_sends(client):
    client.gather(client.map(fan_out_named, ["cap"] * 4, [30] * 4, pure=False))
    p = cluster_progress(client, timeout=WAIT, max_tasks=3)
    assert all(len(w["tasks"]) <= 3 for w in p["dask_workers"])
    assert cluster_progress(client, timeout=WAIT, max_tasks=0)["tasks"] == []


def test_a_worker_that_does_not_answer_is_marked_not_fatal(client, tmp_path):
    a, b = _addresses(client)
    marker, release = tmp_path / "blocked", tmp_path / "release"
    blocker = threading.Thread(target=client.run, args=(block_event_loop, str(marker), str(release), WAIT),
                               kwargs={"workers": [a]})
    blocker.start()
    try:
        deadline = time.monotonic() + WAIT
        while not marker.exists():
            assert time.monotonic() < deadline, "the worker never ran the blocking function"
            time.sleep(0.01)
        started = time.monotonic()
        p = cluster_progress(client, timeout=3.0)
        assert time.monotonic() - started < WAIT / 2  # bounded by the timeout, not by the blocked worker
        entries = {w["address"]: w for w in p["dask_workers"]}
        assert p["missing"] == [a]
        assert entries[a]["status"] == "no answer"
        assert entries[b]["status"] == "ok"
        # The trace's clock rounds stop asking a worker that did not answer:
        # it costs the timeout once, not once per round (6 rounds: 12 s).
        started = time.monotonic()
        trace = export_cluster_trace(client, tmp_path / "t.json", timeout=2.0, clock_samples=5)
        assert time.monotonic() - started < 8.0
        statuses = {w["address"]: w["status"] for w in trace["workers"]}
        assert statuses == {a: "no answer", b: "ok"}
        # An iterator of addresses is read once, not used up by the checks.
        assert [w["address"] for w in cluster_progress(client, workers=iter([b]))["dask_workers"]] == [b]
    finally:
        release.write_text("go")
        blocker.join(WAIT)


def test_workers_without_the_plugin_are_marked(cluster):
    with distributed.Client(cluster) as client:
        client.register_plugin(DFTracerUtilsDaskWorkerPlugin(threads=1))
        client.unregister_worker_plugin(DFTracerUtilsDaskWorkerPlugin.name)
        p = cluster_progress(client, timeout=WAIT)
        assert {w["status"] for w in p["dask_workers"]} == {"no runtime"}
        assert p["total"] == 0 and p["missing"] == []


def test_slow_task_on_one_worker_reports_on_the_client(client, caplog):
    a, _ = _addresses(client)
    received: list[RemoteWatchdogReport] = []
    arrived = threading.Event()

    def on_report(remote):
        received.append(remote)
        if remote.report.task_name == "cluster-slow-task":
            arrived.set()

    subscribe_watchdog(client, on_report, log=True)
    try:
        with caplog.at_level(logging.WARNING, logger="dftracer.utils"):
            future = client.submit(slow_runtime_task, "cluster-slow-task", 1.5, workers=[a], pure=False)
            assert arrived.wait(WAIT), f"no report on the client; got {[str(r) for r in received]}"
            future.result(timeout=WAIT)
    finally:
        unsubscribe_watchdog(client)
    remote = next(r for r in received if r.report.task_name == "cluster-slow-task")
    assert remote.address == a
    assert remote.report.kind == "slow"
    assert remote.pid > 0 and remote.host
    assert "sleep_in_python" in (remote.report.python_stack or "")  # the stuck worker's Python stack
    assert a in str(remote) and "cluster-slow-task" in str(remote)
    logged = [r for r in caplog.records if getattr(r, "dask_worker", None) == a]
    assert logged and "cluster-slow-task" in logged[0].getMessage()


def test_reports_are_dask_events_on_the_topic(client):
    a, _ = _addresses(client)
    client.submit(slow_runtime_task, "topic-slow-task", 1.2, workers=[a], pure=False).result(timeout=WAIT)
    deadline = time.monotonic() + WAIT
    while True:  # the scheduler gets the event in the worker's next batch
        events = client.get_events(WATCHDOG_TOPIC)
        mine = [msg for _, msg in events if msg["task_name"] == "topic-slow-task"]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert mine and mine[0]["address"] == a and mine[0]["kind"] == "slow"


@pytest.mark.parametrize("suffix", [".json", ".pfw.gz"])
def test_merged_trace_has_both_workers_as_separate_processes(client, tmp_path, suffix):
    a, b = _addresses(client)
    client.gather([client.submit(fan_out_named, "on-a", 6, workers=[a], pure=False),
                   client.submit(fan_out_named, "on-b", 8, workers=[b], pure=False)])
    path = tmp_path / f"cluster{suffix}"
    before = time.time() * 1e6
    info = export_cluster_trace(client, path, timeout=WAIT)
    assert info["path"] == str(path)
    if suffix == ".json":
        events = json.loads(path.read_text())["traceEvents"]
    else:
        with gzip.open(path, "rt") as f:
            events = [json.loads(line) for line in f if line.startswith("{")]
    names = {e["args"]["address"]: e["pid"] for e in events if e.get("ph") == "M" and e["name"] == "process_name"}
    assert set(names) == {a, b}
    assert names[a] != names[b]
    tasks = [e for e in events if e.get("ph") == "X"]
    on_a = {e["name"] for e in tasks if e["pid"] == names[a]}
    on_b = {e["name"] for e in tasks if e["pid"] == names[b]}
    assert {f"on-a-{i}" for i in range(6)} <= on_a and not any(n.startswith("on-b") for n in on_a)
    assert {f"on-b-{i}" for i in range(8)} <= on_b and not any(n.startswith("on-a") for n in on_b)
    assert info["events"] == len(tasks)
    ids = [e["id"] for e in tasks if "id" in e]
    assert len(ids) == len(set(ids))  # unique across workers
    assert all(isinstance(e["ts"], int) for e in tasks)
    for w in info["workers"]:
        assert w["status"] == "ok"
        assert 0 <= w["bound_us"] < 1e6  # half the best round trip, well under a second here
        assert abs(w["offset_us"]) < 1e6  # same machine: the clocks agree within the bound
    assert all(e["ts"] <= before for e in tasks)  # aligned onto the client's clock, in the past


def test_merge_tolerates_events_that_carry_pid_and_metadata():
    events = [
        {"name": "process_name", "ph": "M", "pid": 4242, "tid": 0, "args": {"name": "python"}},
        {"name": "thread_name", "ph": "M", "pid": 4242, "tid": 7, "args": {"name": "compute 0"}},
        {"name": "t", "ph": "X", "pid": 4242, "tid": 7, "ts": 1_000_000, "dur": 5, "args": {"id": 1}},
        {"name": "u", "ph": "X", "tid": 1, "ts": 2_000_000.5, "dur": 5},
    ]
    out = merge_worker_events(events, 3, 250.0, {"name": "dask worker x"})
    assert [e["pid"] for e in out] == [3] * 5
    process = [e for e in out if e.get("name") == "process_name"]
    assert len(process) == 1 and process[0]["args"]["name"] == "dask worker x"
    thread = next(e for e in out if e.get("name") == "thread_name")
    assert thread["tid"] == 7 and "ts" not in thread
    t = next(e for e in out if e.get("name") == "t")
    assert t["ts"] == 999_750 and t["tid"] == 7 and t["args"] == {"id": 1, "os_pid": 4242}
    assert next(e for e in out if e.get("name") == "u")["ts"] == 1_999_750.5
    assert events[2]["pid"] == 4242  # the input is not modified


def test_live_display_draws_the_cluster_tasks(client):
    stream = io.StringIO()
    with show_cluster_progress(client, interval=0.1, stream=stream, use_tqdm=False) as latest:
        client.gather(client.map(fan_out_named, ["bar"] * 4, [10] * 4, pure=False))
    text = stream.getvalue()
    assert "40/40 tasks" in text
    assert latest()["completed"] >= 40


@pytest.mark.parametrize("call", [
    lambda c: cluster_progress(object()),
    lambda c: export_cluster_trace("tcp://x", "t.json"),
    lambda c: subscribe_watchdog(None),
    lambda c: subscribe_watchdog(c, callback=42),
    lambda c: cluster_progress(c, timeout="1"),
    lambda c: DFTracerUtilsDaskWorkerPlugin(watchdog=[("slow", 1)]),
    lambda c: DFTracerUtilsDaskWorkerPlugin(publish_watchdog=1),
])
def test_wrong_types_raise_type_error(client, call):
    with pytest.raises(TypeError):
        call(client)


@pytest.mark.parametrize("call", [
    lambda c, d: cluster_progress(c, timeout=-1),
    lambda c, d: cluster_progress(c, timeout=0),
    lambda c, d: cluster_progress(c, max_tasks=-1),
    lambda c, d: export_cluster_trace(c, os.path.join(d, "trace.txt")),
    lambda c, d: export_cluster_trace(c, os.path.join(d, "t.json"), timeout=-5),
    lambda c, d: export_cluster_trace(c, os.path.join(d, "t.json"), clock_samples=0),
    lambda c, d: DFTracerUtilsDaskWorkerPlugin(watchdog={"slow": -1}),
    lambda c, d: DFTracerUtilsDaskWorkerPlugin(watchdog={"sloow": 1}),
    lambda c, d: DFTracerUtilsDaskWorkerPlugin(history=-1),
])
def test_bad_values_raise_value_error(client, tmp_path, call):
    with pytest.raises(ValueError):
        call(client, str(tmp_path))


def test_missing_directory_raises_at_the_call(client, tmp_path):
    with pytest.raises(FileNotFoundError):
        export_cluster_trace(client, tmp_path / "no" / "such" / "dir.json")


def test_workers_limits_the_call_to_a_sample(client, tmp_path):
    a, b = _addresses(client)
    client.gather([client.submit(fan_out_named, "sample", 3, workers=[b], pure=False)])
    p = cluster_progress(client, timeout=WAIT, workers=[b])
    assert [w["address"] for w in p["dask_workers"]] == [b] and p["total"] == 3
    info = export_cluster_trace(client, tmp_path / "one.json", timeout=WAIT, workers=[a])
    assert [w["address"] for w in info["workers"]] == [a]
    with pytest.raises(ValueError, match="not workers of this cluster"):
        cluster_progress(client, workers=["tcp://127.0.0.1:1"])
    with pytest.raises(TypeError):
        cluster_progress(client, workers=a)


def test_asynchronous_clients_are_refused_at_the_call(cluster):
    import asyncio

    async def main():
        async with distributed.Client(cluster.scheduler_address, asynchronous=True) as client:
            with pytest.raises(TypeError, match="synchronous"):
                cluster_progress(client)

    asyncio.run(main())


def test_timeout_reports_reach_the_client_too(client):
    _, b = _addresses(client)
    arrived = threading.Event()
    received: list[RemoteWatchdogReport] = []

    def on_report(remote):
        if remote.report.kind == "timeout":
            received.append(remote)
            arrived.set()

    subscribe_watchdog(client, on_report)
    try:
        assert client.submit(timed_out_runtime_task, "cluster-timeout", workers=[b],
                             pure=False).result(timeout=WAIT) == "timed out"
        assert arrived.wait(WAIT)
    finally:
        unsubscribe_watchdog(client)
    assert received[0].address == b and received[0].report.task_name == "cluster-timeout"
