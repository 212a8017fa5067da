"""The timeline on the "Progress and the watchdog" page, drawn by the
runtime itself: a small trace-processing run and then
``rt.plot_timeline(path)``. Ranks' trace files appear one after another;
for each, an io task reads it and hands it to a compute task that
decompresses it and counts its events; a Python coroutine adds the counts
up. The docs build runs this script (docs/conf.py) and shows the PNG it
writes; nothing here is drawn by hand.

Usage: python timeline.py OUTPUT.png
"""

import sys
import time
import zlib

import dftracer.utils as dft

EVENT = b'{"name":"read","cat":"POSIX","ts":1,"dur":2}\n'
TRACE = zlib.compress(EVENT * 40_000)  # about 2 MB of events once decompressed


def count_events(data: bytes) -> int:
    return zlib.decompress(data).count(b"\n")  # zlib releases the GIL


def read_trace(rank: int) -> dft.TaskHandle[int]:
    time.sleep(0.010)  # stands in for a blocking read of the rank's file
    return rt.submit(count_events, TRACE, name=f"count rank {rank}")


async def total(handles: list) -> int:
    return sum([await h for h in handles])


with dft.Runtime(threads=2, io_threads=2) as rt:
    reads = []
    for rank in range(8):
        reads.append(rt.submit_io(read_trace, rank, name=f"read rank {rank}"))
        time.sleep(0.008)  # the next rank's file appears
    counts = [read.get() for read in reads]
    events = rt.submit(total, counts, name="total").get()
    rt.wait_all()
    rt.plot_timeline(sys.argv[1], title=f"8 ranks: {events:,} events")
