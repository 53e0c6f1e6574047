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
