#!/usr/bin/env bash
# The Python suites once more, against the module built with AddressSanitizer
# and UndefinedBehaviorSanitizer (executor, watchdog and bindings): a record
# freed too early, a race that corrupts a string, undefined behaviour, all
# reached through Python's own tests. Runs after test-python.sh, in its test
# environment (build/ci/wheel-venv, or DFTRACER_TEST_VENV).
#
# The interpreter is not instrumented, so libasan (and libstdc++, whose
# exception interceptor ASan must see at start) are preloaded; leaks are not
# reported (CPython keeps objects alive at exit by design). `python -S` with
# PYTHONPATH puts the instrumented package first: the staged dftracer/ is a
# pkgutil namespace so the real tracer's `dftracer` package still resolves.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
BUILD="$ROOT/build/ci/py-asan"
STAGE="$BUILD/stage"
TEST_VENV="${DFTRACER_TEST_VENV:-$ROOT/build/ci/wheel-venv}"

echo "== Python under ASan+UBSan: build the module"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDFTRACER_BUILD_PYTHON=ON \
  -DDFTRACER_BUILD_TESTS=OFF -DDFTRACER_BUILD_BENCHMARKS=OFF -DDFTRACER_BUILD_EXAMPLES=OFF \
  -DDFTRACER_INSTALL=OFF -DDFTRACER_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS=-fno-sanitize-recover=undefined -DPython_EXECUTABLE="$PY" >/dev/null
cmake --build "$BUILD" --target _core

rm -rf "$STAGE"
mkdir -p "$STAGE/dftracer/utils"
cp -r "$ROOT/python/dftracer/utils/." "$STAGE/dftracer/utils/"
cp "$BUILD"/bindings/_core*.so "$STAGE/dftracer/utils/"
echo "__path__ = __import__('pkgutil').extend_path(__path__, __name__)" >"$STAGE/dftracer/__init__.py"

SITE="$("$TEST_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export PYTHONPATH="$STAGE:$SITE"
export LD_PRELOAD="$(c++ -print-file-name=libasan.so) $(c++ -print-file-name=libstdc++.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1
cd "$ROOT"
"$TEST_VENV/bin/python" -S -c "
import dftracer.utils._core as core
assert core.__file__.startswith('$STAGE'), core.__file__
print('   module:', core.__file__)"

echo "== Python under ASan+UBSan: test suites"
"$TEST_VENV/bin/python" -S -m pytest tests/python -q -p no:cacheprovider --ignore=tests/python/test_benchmarks.py
