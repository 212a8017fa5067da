#!/usr/bin/env bash
# C++ layer: build and ctest (release), the same suites under ThreadSanitizer
# and under AddressSanitizer+UBSan, then `cmake --install` and the consumer
# project through find_package and add_subdirectory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
BUILD="$ROOT/build/ci"
JOBS="${DFTRACER_JOBS:-2}"

configure_build_test() {  # name, extra cmake args...
  local name="$1"; shift
  echo "== C++ $name: configure, build, ctest"
  cmake -S "$ROOT" -B "$BUILD/$name" -G Ninja "$@" >/dev/null
  cmake --build "$BUILD/$name" -j "$JOBS"
  ctest --test-dir "$BUILD/$name" --output-on-failure -j "$JOBS" --timeout 600
}

configure_build_test release -DCMAKE_BUILD_TYPE=Release -DDFTRACER_WARNINGS_AS_ERRORS=ON
# Sanitized runs use smaller stress sizes: they are 5-20x slower per task.
export DFTRACER_STRESS_TASKS=100000
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  configure_build_test tsan -DCMAKE_BUILD_TYPE=Debug -DDFTRACER_SANITIZE=thread \
    -DDFTRACER_BUILD_BENCHMARKS=OFF -DDFTRACER_BUILD_EXAMPLES=OFF
ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1" \
  configure_build_test asan -DCMAKE_BUILD_TYPE=Debug -DDFTRACER_SANITIZE=address,undefined \
    -DCMAKE_CXX_FLAGS=-fno-sanitize-recover=undefined \
    -DDFTRACER_BUILD_BENCHMARKS=OFF -DDFTRACER_BUILD_EXAMPLES=OFF
unset DFTRACER_STRESS_TASKS

echo "== C++ install + consumer (find_package)"
PREFIX="$BUILD/prefix"
rm -rf "$PREFIX"
cmake --install "$BUILD/release" --prefix "$PREFIX" >/dev/null
cmake -S "$ROOT/tests/cpp/consumer" -B "$BUILD/consumer-installed" -G Ninja \
  -DCMAKE_PREFIX_PATH="$PREFIX" -DDFTRACER_CONSUME=find_package >/dev/null
cmake --build "$BUILD/consumer-installed" >/dev/null
"$BUILD/consumer-installed/consumer"

echo "== C++ consumer (add_subdirectory)"
cmake -S "$ROOT/tests/cpp/consumer" -B "$BUILD/consumer-subdir" -G Ninja \
  -DDFTRACER_CONSUME=subdirectory -DDFTRACER_SOURCE_DIR="$ROOT" >/dev/null
cmake --build "$BUILD/consumer-subdir" >/dev/null
"$BUILD/consumer-subdir/consumer"

echo "== C++ benchmark (smoke run; numbers are not asserted)"
"$BUILD/release/benchmarks/executor_bench" --quick
