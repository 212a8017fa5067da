#!/usr/bin/env bash
# The GitHub workflows: zizmor's offline audits over .github/workflows
# (unpinned actions, checkouts that keep credentials, template injection,
# excessive permissions), with the configuration in .github/zizmor.yml.
# zizmor comes from requirements-dev.txt, which scripts/bootstrap.sh installs
# into .venv. The lint workflow runs the same command.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
command -v zizmor >/dev/null 2>&1 || "$PY" -m pip install -q -r "$ROOT/requirements-dev.txt"

echo "== Workflows: zizmor --offline"
cd "$ROOT"
zizmor --offline --no-progress .github/workflows
