"""Draws the merged timeline shown on the Traces page, at docs build time
(conf.py runs it): the demo's traced workload runs under the real tracer in
two processes, each exporting the runtime's trace beside DFTracer's, and
plot_timeline draws the folder. Needs the tracer (pip install --no-deps
dftracer) and matplotlib.

Usage: python docs/figures/merged_timeline.py OUT.png
"""

from __future__ import annotations

import os
import sys
import tempfile

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples")
sys.path.insert(0, EXAMPLES)

import traced_run  # noqa: E402

import dftracer.utils as dft  # noqa: E402


def main(out: str) -> int:
    with tempfile.TemporaryDirectory() as root:
        trace_dir = os.path.join(root, "traces")
        procs = [traced_run.python_traced(os.path.join(EXAMPLES, "traced_workload.py"), os.path.join(root, "data"),
                                          trace_dir, str(rank), "6", "512", trace_dir=trace_dir) for rank in range(2)]
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise RuntimeError(f"traced workload failed:\n{err}")
        ax = dft.plot_timeline(trace_dir, out, title="Two traced processes: DFTracer's I/O calls (thin) over "
                                                     "the runtime's tasks (tall), per OS thread")
        rows = len(ax.get_yticks())
    print(f"merged timeline: {rows} threads -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
