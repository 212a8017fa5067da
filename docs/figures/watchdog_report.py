"""A program whose two tasks deadlock, run the way a reader would run it:
the watchdog's report reaches the terminal through Python logging, with the
stuck worker's Python stack, and the per-task timeout then breaks the cycle.
The docs build runs this script (docs/conf.py) and shows its real output.
"""

import logging
import threading

import dftracer.utils as dft

logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")

rt = dft.Runtime(threads=2)
rt.configure_watchdog(interval=0.05, deadlock=0.5)
handles = {}
both_started = threading.Barrier(3)


def merge_index(path):
    both_started.wait()
    return handles["write_summary"].get()  # waits for the other task ...


def write_summary(path):
    both_started.wait()
    return handles["merge_index"].get()  # ... which waits for this one


with_timeout = rt.options(timeout=0.8)  # a budget that breaks the cycle
merge = handles["merge_index"] = with_timeout.submit(merge_index, "rank-0.idx")
summary = handles["write_summary"] = rt.submit(write_summary, "summary.json")
both_started.wait()
rt.wait_all()
print("merge_index:", merge.state, "-", merge.exception)
print("write_summary:", summary.state, "-", type(summary.exception).__name__)
rt.shutdown()
