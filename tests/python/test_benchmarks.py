"""Benchmarks against the anchors a Python user would pick instead.

Skipped in the normal test run (``--benchmark-skip`` in pytest's addopts); run
with ``pytest tests/python/test_benchmarks.py --benchmark-only``. Every group
holds the anchor (``ThreadPoolExecutor`` or serial) measured in the same run;
the ratio table printed at the end compares against it. Nothing is asserted
about speed: machines here are shared and noisy.
"""

from __future__ import annotations

import concurrent.futures
import hashlib

import pytest

import dftracer.utils as dft

THREADS = 2
TINY = 50_000
BUFFERS = [bytes([i]) * (4 << 20) for i in range(16)]  # 16 x 4 MiB


def noop():
    return None


def digest(buffer):
    return hashlib.sha256(buffer).digest()


@pytest.fixture(scope="module")
def runtime():
    rt = dft.Runtime(threads=THREADS, io_threads=2)
    yield rt
    rt.shutdown()


@pytest.fixture(scope="module")
def pool():
    with concurrent.futures.ThreadPoolExecutor(max_workers=THREADS) as p:
        yield p


# --------------------------------------------------- tiny: submit all, wait all

@pytest.mark.benchmark(group="tiny-submit-all-wait-all")
def test_tiny_wait_all_runtime(benchmark, runtime):
    def run():
        submit = runtime.submit
        for _ in range(TINY):
            submit(noop)
        runtime.wait_all()

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="tiny-submit-all-wait-all")
def test_tiny_wait_all_threadpool(benchmark, pool):
    def run():
        submit = pool.submit
        futures = [submit(noop) for _ in range(TINY)]
        concurrent.futures.wait(futures)

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)


# ------------------------------------------------------ tiny: submit then get

@pytest.mark.benchmark(group="tiny-submit-then-get")
def test_tiny_get_each_runtime(benchmark, runtime):
    def run():
        for _ in range(TINY // 10):
            runtime.submit(noop).get()

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="tiny-submit-then-get")
def test_tiny_get_each_threadpool(benchmark, pool):
    def run():
        for _ in range(TINY // 10):
            pool.submit(noop).result()

    benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)


# ------------------------------------------------------ GIL-releasing hashing

@pytest.mark.benchmark(group="sha256-4MiB-x16")
def test_sha256_serial(benchmark):
    benchmark.pedantic(lambda: [digest(b) for b in BUFFERS], rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="sha256-4MiB-x16")
def test_sha256_runtime(benchmark, runtime):
    benchmark.pedantic(lambda: list(runtime.map(digest, BUFFERS)), rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="sha256-4MiB-x16")
def test_sha256_threadpool(benchmark, pool):
    benchmark.pedantic(lambda: list(pool.map(digest, BUFFERS)), rounds=5, iterations=1, warmup_rounds=1)


# ----------------------------------------- as_completed: stream 100k results

STREAM = 100_000


def identity(x):
    return x


@pytest.mark.benchmark(group="as-completed-100k")
def test_as_completed_runtime(benchmark, runtime):
    def run():
        submit = runtime.submit
        handles = [submit(identity, i) for i in range(STREAM)]
        return sum(h.get() for h in dft.as_completed(handles))

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="as-completed-100k")
def test_as_completed_threadpool(benchmark, pool):
    def run():
        submit = pool.submit
        futures = [submit(identity, i) for i in range(STREAM)]
        return sum(f.result() for f in concurrent.futures.as_completed(futures))

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)


# ------------------------------------- bounded map: 100k tiny calls, 64 ahead

BUFFERSIZE = 64


@pytest.mark.benchmark(group="map-buffersize-64-100k")
def test_map_buffersize_runtime(benchmark, runtime):
    benchmark.pedantic(lambda: sum(runtime.map(identity, range(STREAM), buffersize=BUFFERSIZE)),
                       rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="map-buffersize-64-100k")
def test_map_buffersize_threadpool(benchmark, pool):
    # ThreadPoolExecutor.map takes buffersize from Python 3.14; before, it
    # submits everything at once, which is what a user gets there.
    try:
        pool.map(identity, [], buffersize=BUFFERSIZE)
        kwargs = {"buffersize": BUFFERSIZE}
    except TypeError:
        kwargs = {}
    benchmark.pedantic(lambda: sum(pool.map(identity, range(STREAM), **kwargs)),
                       rounds=3, iterations=1, warmup_rounds=1)
