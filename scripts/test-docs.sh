#!/usr/bin/env bash
# Documentation: build the Sphinx site with warnings as errors (nitpicky, so
# every cross-reference must resolve), check its internal links and anchors
# offline, and run every code example on its pages against the installed
# package. The C++ examples are built and run by ctest (tests docs_*).
#
# Uses the wheel test environment that scripts/test-python.sh creates
# (build/ci/wheel-venv); without it, creates one and installs the package.
# DFTRACER_DOCS_VENV and DFTRACER_DOCS_HTML override the environment and the
# output directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
BUILD="$ROOT/build/ci"
DOCS_VENV="${DFTRACER_DOCS_VENV:-$BUILD/wheel-venv}"
HTML="${DFTRACER_DOCS_HTML:-$BUILD/docs-html}"

need_apt=()
command -v doxygen >/dev/null 2>&1 || need_apt+=(doxygen)
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)  # the design page's figures
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-docs: installing ${need_apt[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
  }
fi

if [ ! -x "$DOCS_VENV/bin/python" ] || ! "$DOCS_VENV/bin/python" -c "import dftracer.utils" 2>/dev/null; then
  echo "== Docs: no wheel test environment; installing the package into $BUILD/docs-venv"
  DOCS_VENV="$BUILD/docs-venv"
  [ -x "$DOCS_VENV/bin/python" ] || python3 -m venv "$DOCS_VENV"
  "$DOCS_VENV/bin/python" -m pip install -q --upgrade pip
  "$DOCS_VENV/bin/python" -m pip install -q "${ROOT}[test,dask]"
fi
DPY="$DOCS_VENV/bin/python"
"$DPY" -m pip install -q -r "$ROOT/docs/requirements.txt"
# The Traces page's merged timeline is drawn at build time from traces the
# real tracer writes (--no-deps: it depends on the upstream dftracer-utils,
# which shares our import name).
"$DPY" -m pip install -q --no-deps dftracer

echo "== Docs: sphinx-build (-W -n, Doxygen XML for the C++ reference)"
rm -rf "$HTML"
cd "$ROOT"  # the package comes from the environment, not from python/
"$DPY" -m sphinx -W --keep-going -n -q -b html docs "$HTML"

echo "== Docs: internal links"
"$DPY" "$ROOT/docs/check_links.py" "$HTML"

echo "== Docs: every example on the pages"
DFTRACER_DOCS_HTML="$HTML" "$DPY" -m pytest docs/test_docs_examples.py -q -p no:cacheprovider
