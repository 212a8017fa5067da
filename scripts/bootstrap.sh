#!/usr/bin/env bash
# Installs what the build and tests need, when missing: Debian packages
# (compiler, GoogleTest, oneTBB for the benchmark) and a virtual environment
# in .venv with the Python tools. Safe to run repeatedly; quiet when all is
# present. Source it: it exports VENV and PY.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

need_apt=()
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
[ -f /usr/include/gtest/gtest.h ] || need_apt+=(libgtest-dev)
[ -f /usr/include/oneapi/tbb/task_group.h ] || need_apt+=(libtbb-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: installing ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
  }
fi

VENV="${DFTRACER_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
stamp="$VENV/.requirements-stamp"
if [ ! -f "$stamp" ] || [ "$ROOT/requirements-dev.txt" -nt "$stamp" ]; then
  echo "bootstrap: installing Python tools"
  "$VENV/bin/python" -m pip install -q -r "$ROOT/requirements-dev.txt"
  touch "$stamp"
fi
export VENV
export PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"
