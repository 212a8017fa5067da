#!/usr/bin/env bash
# The Python suites once more, against the module built with sanitizers
# (executor, watchdog and bindings instrumented): `address` (the default:
# AddressSanitizer+UBSan, a record freed too early, undefined behaviour) or
# `thread` (ThreadSanitizer, data races), reached through Python's own
# tests. Runs after test-python.sh, in its test environment
# (build/ci/wheel-venv, or DFTRACER_TEST_VENV). Usage:
#   bash scripts/test-python-sanitized.sh [address|thread] [pytest args...]
#
# The interpreter is not instrumented, so the sanitizer's runtime (and
# libstdc++, whose exception interceptor the runtime must see at start) are
# preloaded; leaks are not reported (CPython keeps objects alive at exit by
# design). `python -S` with PYTHONPATH puts the instrumented package first
# (subprocesses of the tests inherit both): the staged dftracer/ is a
# pkgutil namespace so the real tracer's `dftracer` package still resolves.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
MODE="${1:-address}"
shift || true
TEST_VENV="${DFTRACER_TEST_VENV:-$ROOT/build/ci/wheel-venv}"
case "$MODE" in
  address)
    NAME="ASan+UBSan"; SANITIZE=address,undefined; FLAGS=-fno-sanitize-recover=undefined; RUNTIME=libasan.so
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
    export UBSAN_OPTIONS=print_stacktrace=1 ;;
  thread)
    NAME="TSan"; SANITIZE=thread; FLAGS=""; RUNTIME=libtsan.so
    export TSAN_OPTIONS="suppressions=$ROOT/scripts/tsan-python.supp second_deadlock_stack=1" ;;
  *) echo "usage: $0 [address|thread] [pytest args...]" >&2; exit 2 ;;
esac
BUILD="$ROOT/build/ci/py-$MODE"
STAGE="$BUILD/stage"

echo "== Python under $NAME: build the module"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDFTRACER_BUILD_PYTHON=ON \
  -DDFTRACER_BUILD_TESTS=OFF -DDFTRACER_BUILD_BENCHMARKS=OFF -DDFTRACER_BUILD_EXAMPLES=OFF \
  -DDFTRACER_INSTALL=OFF -DDFTRACER_SANITIZE="$SANITIZE" \
  -DCMAKE_CXX_FLAGS="$FLAGS" -DPython_EXECUTABLE="$PY" >/dev/null
cmake --build "$BUILD" --target _core

rm -rf "$STAGE"
mkdir -p "$STAGE/dftracer/utils"
cp -r "$ROOT/python/dftracer/utils/." "$STAGE/dftracer/utils/"
cp "$BUILD"/bindings/_core*.so "$STAGE/dftracer/utils/"
echo "__path__ = __import__('pkgutil').extend_path(__path__, __name__)" >"$STAGE/dftracer/__init__.py"

SITE="$("$TEST_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export PYTHONPATH="$STAGE:$SITE"
export LD_PRELOAD="$(c++ -print-file-name=$RUNTIME) $(c++ -print-file-name=libstdc++.so)"
cd "$ROOT"
"$TEST_VENV/bin/python" -S -c "
import dftracer.utils._core as core
assert core.__file__.startswith('$STAGE'), core.__file__
print('   module:', core.__file__)"

echo "== Python under $NAME: test suites"
"$TEST_VENV/bin/python" -S -m pytest tests/python -q -p no:cacheprovider --ignore=tests/python/test_benchmarks.py "$@"
