#!/usr/bin/env bash
# Every test: the C++ suites (release, TSan, ASan+UBSan, install/consumer),
# the Python suites (against the wheel, then against an ASan+UBSan build),
# the documentation build and the workflow audit (zizmor).
# Installs what it needs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$(date +%s)
bash "$ROOT/scripts/test-cpp.sh"
bash "$ROOT/scripts/test-python.sh"
bash "$ROOT/scripts/test-python-sanitized.sh" address
bash "$ROOT/scripts/test-docs.sh"
bash "$ROOT/scripts/test-workflows.sh"
echo "== all tests passed in $(( $(date +%s) - start )) s"
