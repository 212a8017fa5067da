"""The timeline on the "Progress and the watchdog" page, drawn by the
runtime itself: a small trace-processing run (io tasks read, compute tasks
parse, one Python coroutine waits for both) and then
``rt.plot_timeline(path)``. The docs build runs this script (docs/conf.py)
and shows the PNG it writes; nothing here is drawn by hand.

Usage: python timeline.py OUTPUT.png
"""

import sys
import time

import dftracer.utils as dft


def read_chunk(rank: int, chunk: int) -> bytes:
    time.sleep(0.004 + 0.002 * (chunk % 3))  # stands in for a blocking read
    return bytes(20_000 * (1 + rank % 2))


def parse_chunk(data: bytes) -> int:
    deadline = time.perf_counter() + 0.003 + len(data) / 10_000_000
    count = 0
    while time.perf_counter() < deadline:  # stands in for parsing (holds the GIL)
        count += 1
    return len(data)


async def summarize(handles: list) -> int:
    return sum([await h for h in handles])


with dft.Runtime(threads=2, io_threads=2) as rt:
    reads = [rt.submit_io(read_chunk, rank, chunk, name=f"read rank {rank}")
             for rank in range(4) for chunk in range(6)]
    parsed = [rt.submit(parse_chunk, read.get(), name="parse")
              for read in dft.as_completed(reads)]
    total = rt.submit(summarize, parsed, name="summarize").get()
    rt.wait_all()
    rt.plot_timeline(sys.argv[1], title=f"4 ranks x 6 chunks: {total:,} bytes parsed")
