"""A small I/O workload that uses the runtime, meant to run under DFTracer
(see traced_run.py): one "rank" writes and reads a few files on the io pool
and checksums them on the compute pool, then exports the runtime's own trace
beside DFTracer's, so the two line up on the same threads.

Usage: python examples/traced_workload.py DATA_DIR TRACE_DIR RANK [FILES] [KIB]
"""

from __future__ import annotations

import os
import sys
import zlib

import dftracer.utils as dft


def write_file(path: str, size: int, seed: int) -> int:
    block = bytes((seed + i) % 251 for i in range(4096))
    with open(path, "wb") as f:
        for _ in range(size // 4096):
            f.write(block)
    return size


def read_file(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def main() -> int:
    data_dir, trace_dir, rank = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    size = (int(sys.argv[5]) if len(sys.argv) > 5 else 64) * 1024
    os.makedirs(data_dir, exist_ok=True)
    paths = [os.path.join(data_dir, f"rank{rank}-file{i}.dat") for i in range(files)]
    with dft.Runtime(threads=2, io_threads=2) as rt:
        writes = [rt.submit_io(write_file, p, size, rank + i, name=f"write {os.path.basename(p)}")
                  for i, p in enumerate(paths)]
        dft.wait(writes)
        reads = [rt.submit_io(read_file, p, name=f"read {os.path.basename(p)}") for p in paths]
        sums = [rt.submit(zlib.crc32, r.get(), name=f"checksum {os.path.basename(p)}") for p, r in zip(paths, reads)]
        total = sum(h.get() for h in sums)
        rt.export_trace(os.path.join(trace_dir, f"runtime-rank{rank}-{os.getpid()}.pfw.gz"))
    print(f"rank {rank}: {files} files of {size} bytes, checksum {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
