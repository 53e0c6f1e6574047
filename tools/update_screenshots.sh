#!/bin/sh
# Refresh the README's screenshots of the call → materials → 免申即享 → payout journey: run the browser
# tests that take them (headless Chromium, tests/browser; they write test-artifacts/screenshots/) and copy
# each shot into docs/screenshots/ under the name README.md uses. Needs DATABASE_URL (PostgreSQL) and
# TEST_BROKER_URL as for any test run. The older shots (dashboard, apply, review, …) are copied by hand.
set -eu
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/browser/test_calls_browser.py::test_an_open_call_with_its_materials_then_the_checklist_until_every_required_one_is_attached \
    tests/browser/test_grants_browser.py
shots=test-artifacts/screenshots
for pair in \
    calls-1-window-and-materials:call-window-materials \
    calls-2-materials-checklist:materials-checklist \
    grant-2-confirm:auto-grant-confirmation \
    payout-1-timeline:payout-timeline
do
    cp "$shots/${pair%%:*}.png" "docs/screenshots/${pair#*:}.png"
    echo "docs/screenshots/${pair#*:}.png"
done
