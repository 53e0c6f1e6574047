#!/usr/bin/env bash
# Run the whole suite; fail when anything fails and when no test ran (pytest exit code 5).
set -uo pipefail
cd "$(dirname "$0")/.."
# Two passes with the same arguments: the tests spread over one pytest-xdist process per core
# (PYTEST_WORKERS, default auto; each process has its own test database, test_<name>_gw0, …, and its
# celery workers on queues of their own), --dist loadfile keeping a module's tests, and so its module
# fixtures, in one process; then the tests marked serial in this process.
# --durations: the slowest tests, to see where the suite's time goes
.venv/bin/python -m pytest -n "${PYTEST_WORKERS:-auto}" --dist loadfile -m "not serial" \
  --durations=40 --durations-min=5 "$@"
parallel=$?
.venv/bin/python -m pytest -m serial "$@"
serial=$?
for status in "$parallel" "$serial"; do
  if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
    exit "$status"
  fi
done
if [ "$parallel" -eq 5 ] && [ "$serial" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit 0
