#!/usr/bin/env bash
# Python layer: build the wheel in an isolated build, repair it with
# auditwheel, check what it holds, install it into a fresh virtual
# environment and run the Python suites against the installed package.
# The suites also need the real tracer (PyPI dftracer, installed with
# --no-deps: it depends on the upstream dftracer-utils, which shares our
# import name) and the upstream toolkit in a venv of its own
# (build/ci/upstream-venv, pinned), whose validator and reader check the
# runtime's exported traces.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
BUILD="$ROOT/build/ci"
DIST="$BUILD/dist"
WHEELHOUSE="$BUILD/wheelhouse"
TEST_VENV="$BUILD/wheel-venv"
UPSTREAM_VENV="${DFTRACER_UPSTREAM_VENV:-$BUILD/upstream-venv}"
UPSTREAM="dftracer-utils==0.0.14"

echo "== Python: build the wheel (isolated)"
rm -rf "$DIST" "$WHEELHOUSE"
"$PY" -m pip wheel "$ROOT" --no-deps -q -w "$DIST"

echo "== Python: auditwheel repair"
auditwheel repair "$DIST"/*.whl -w "$WHEELHOUSE" | grep -E "^Fixed|Repaired|Wheel" || true
WHEEL="$(ls "$WHEELHOUSE"/*.whl)"
echo "   $(basename "$WHEEL")"

echo "== Python: check the wheel's contents"
"$PY" "$ROOT/scripts/check_wheel.py" "$WHEEL"

echo "== Python: install into a fresh environment"
rm -rf "$TEST_VENV"
python3 -m venv "$TEST_VENV"
"$TEST_VENV/bin/python" -m pip install -q --upgrade pip
"$TEST_VENV/bin/python" -m pip install -q "$WHEEL[test,dask]"

echo "== Python: mypy --strict on the installed package and the typing checks"
cd "$ROOT"  # the package comes from the environment, not from python/
"$TEST_VENV/bin/python" -m mypy --strict -p dftracer.utils
"$TEST_VENV/bin/python" -m mypy --strict tests/python/typing_check.py

echo "== Python: the real tracer (--no-deps) and the upstream toolkit ($UPSTREAM, own venv)"
"$TEST_VENV/bin/python" -m pip install -q --no-deps dftracer
if [ ! -x "$UPSTREAM_VENV/bin/dftracer_validate" ]; then
  python3 -m venv "$UPSTREAM_VENV"
  "$UPSTREAM_VENV/bin/python" -m pip install -q "$UPSTREAM" || echo "   (cannot install $UPSTREAM: its tests will skip)"
fi
export DFTRACER_UPSTREAM_VENV="$UPSTREAM_VENV"

echo "== Python: test suites against the installed wheel"
"$TEST_VENV/bin/python" -m pytest tests/python -q -p no:cacheprovider
