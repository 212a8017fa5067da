#!/usr/bin/env bash
# The demo: installs dftracer-utils into .venv, then writes a few hundred
# synthetic trace files and summarises them in parallel on the runtime's io
# and compute pools, showing live progress and what every worker did.
# `bash scripts/demo.sh --cpp` runs the C++ example instead.
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

echo "demo: installing dftracer-utils into $VENV"
"$PY" -m pip install -q "$ROOT[plot]"
cd "$ROOT/build" 2>/dev/null || { mkdir -p "$ROOT/build" && cd "$ROOT/build"; }
exec "$PY" "$ROOT/examples/trace_summary_demo.py" "$ROOT/build/demo-traces" "${1:-300}"
