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
