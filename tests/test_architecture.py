"""The import contracts of pyproject.toml ([tool.importlinter]) hold: apps import one way
(policies <- enterprises <- matching <- applications <- portal) and no two modules of an app import
each other, directly or through others (function-level imports included)."""

from __future__ import annotations

from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


APPS = ("policies", "enterprises", "matching", "applications", "portal")
# The one use of model signals left: forgetting a cached API key at once (portal/api/selectors.py).
# An optimisation only: the key's validator counter (a trigger on portal's own table) decides.
SIGNAL_USERS = {Path("portal/api/selectors.py")}


def test_no_app_code_listens_to_model_signals():
    """What changed is recorded by the writers (enterprises/changes.py, policies/changes.py), never
    inferred from post_save / post_delete (skipped by update(), COPY and raw SQL)."""
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts or "migrations" in relative.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if any(word in text for word in (".connect(", "@receiver", "Signal(")):
                found.add(relative)
    assert found == SIGNAL_USERS


def test_no_app_has_triggers_on_another_apps_tables(db):
    """A trigger belongs to the app of the table it is on (its name says whose it is)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal"
        )
        triggers = cursor.fetchall()
    assert triggers, "the key triggers of portal (portal/migrations/0003) are expected"
    for name, table in triggers:
        owner = next((app for app in APPS if name.startswith(f"{app}_")), None)
        assert owner is not None and table.startswith(f"{owner}_"), (name, table)
