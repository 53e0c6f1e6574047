#!/usr/bin/env bash
# Run the whole suite; fail when anything fails and when no test ran (pytest exit code 5).
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
