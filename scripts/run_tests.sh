#!/usr/bin/env bash
# Run the whole suite; fail when anything fails and when no test ran (pytest exit code 5).
set -uo pipefail
cd "$(dirname "$0")/.."
# --durations: the slowest tests, to see where the suite's time goes
.venv/bin/python -m pytest --durations=40 --durations-min=5 "$@"
status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
