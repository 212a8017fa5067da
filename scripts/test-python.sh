#!/usr/bin/env bash
# Python layer: build the wheel in an isolated build, repair it with
# auditwheel, check what it holds, install it into a fresh virtual
# environment and run the Python suites against the installed package.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
BUILD="$ROOT/build/ci"
DIST="$BUILD/dist"
WHEELHOUSE="$BUILD/wheelhouse"
TEST_VENV="$BUILD/wheel-venv"

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

echo "== Python: test suites against the installed wheel"
cd "$ROOT"  # the package comes from the environment, not from python/
"$TEST_VENV/bin/python" -m pytest tests/python -q -p no:cacheprovider

echo "== Python: mypy --strict on the installed package and the typing checks"
"$TEST_VENV/bin/python" -m mypy --strict -p dftracer.utils
"$TEST_VENV/bin/python" -m mypy --strict tests/python/typing_check.py
