#!/usr/bin/env bash
# The demo: builds the runtime and runs it on synthetic trace files.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
BUILD="$ROOT/build/demo"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDFTRACER_BUILD_TESTS=OFF \
  -DDFTRACER_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$BUILD" --target trace_pools_demo
"$BUILD/examples/trace_pools_demo" "${1:-$BUILD/traces}" "${2:-64}"
