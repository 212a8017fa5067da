#!/usr/bin/env bash
# The demo: installs dftracer-utils and the real tracer (PyPI dftracer) into
# .venv, writes a few hundred synthetic traces, runs a small I/O workload
# under the tracer in several processes, and indexes all of them on the
# runtime's io and compute pools, showing live progress, per-file and
# per-call summaries, and the timelines.
#   bash scripts/demo.sh [FILES]           synthetic files (default 300) + real traces
#   bash scripts/demo.sh --traces DIR      index an existing folder of traces
#   bash scripts/demo.sh --dask N          on a Dask LocalCluster of N workers
#   bash scripts/demo.sh --cpp             the C++ example instead
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"

if [ "${1:-}" = "--cpp" ]; then
  BUILD="$ROOT/build/demo"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDFTRACER_BUILD_TESTS=OFF \
    -DDFTRACER_BUILD_BENCHMARKS=OFF >/dev/null
  cmake --build "$BUILD" --target trace_pools_demo
  exec "$BUILD/examples/trace_pools_demo" "$BUILD/traces" 64
fi

# `bash scripts/demo.sh --dask N` runs the indexing on a Dask LocalCluster of
# N worker processes (examples/dask_cluster_demo.py).
if [ "${1:-}" = "--dask" ]; then
  echo "demo: installing dftracer-utils[dask,plot] into $VENV"
  "$PY" -m pip install -q "$ROOT[dask,plot]"
  mkdir -p "$ROOT/build" && cd "$ROOT/build"
  exec "$PY" "$ROOT/examples/dask_cluster_demo.py" "${2:-2}" "$ROOT/build/dask-demo-traces" "${3:-120}"
fi

echo "demo: installing dftracer-utils and the DFTracer tracer into $VENV"
"$PY" -m pip install -q "$ROOT[plot]"
# --no-deps: the tracer depends on the upstream dftracer-utils, which shares
# our import name and would replace this package.
"$PY" -m pip install -q --no-deps dftracer
mkdir -p "$ROOT/build"
cd "$ROOT/build"
if [ "${1:-}" = "--traces" ]; then
  exec "$PY" "$ROOT/examples/trace_summary_demo.py" "$ROOT/build/demo-traces" --traces "${2:?--traces needs a folder}"
fi
exec "$PY" "$ROOT/examples/trace_summary_demo.py" "$ROOT/build/demo-traces" "${1:-300}"
