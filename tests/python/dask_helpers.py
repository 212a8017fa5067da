"""Functions the Dask tests ship to worker processes (importable by name)."""

from __future__ import annotations

import time

from dftracer.utils.dask import get_worker_runtime


def two_worker_cluster():
    """The cluster the Dask test modules run against (a context manager):
    two worker processes of two threads, no dashboard port, quiet logs."""
    import distributed

    return distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                    dashboard_address=":0", silence_logs=40)


def runtime_facts(dask_worker):
    import threading

    import dftracer.utils as dft

    rt = get_worker_runtime(dask_worker)
    return {
        "pid": __import__("os").getpid(),
        "threads": rt.threads,
        "is_default": dft.get_default_runtime() is rt,
        "square": rt.submit(lambda x: x * x, 7).get(),
        "thread": threading.current_thread().name,
    }


def current_thread_and_worker():
    import threading

    import dftracer.utils as dft

    return threading.current_thread().name, dft._core.current_worker_id()


def fan_out(n):
    import dftracer.utils as dft

    rt = dft.get_default_runtime()
    return sum(h.get() for h in [rt.submit(pow, i, 2) for i in range(n)])


def stuck_forever():
    import dftracer.utils as dft

    rt = dft.get_default_runtime()
    rt.submit(time.sleep, 3600, name="stuck-sleep")
    return "submitted"


def runtime_threads(dask_worker):
    return get_worker_runtime(dask_worker).threads


def mark_once_another_is_queued(value, marker):
    """On the runtime's executor: waits until another task is queued on the
    worker's runtime, then creates the file `marker` (a file: these tasks run
    without Dask's worker context), sleeps a little, returns `value`."""
    import dftracer.utils as dft

    runtime = dft.get_default_runtime()
    deadline = time.monotonic() + 60
    while runtime.get_progress(max_queued=0)["queued"] < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    with open(marker, "w") as f:
        f.write("started")
    time.sleep(0.3)
    return value
