"""Types: mypy with django-stubs ([tool.mypy] of pyproject.toml) finds no error in the engine and the
rule language (strict) nor in any app's services.py and selectors.py (check_untyped_defs)."""

from __future__ import annotations

import tomllib

import mypy.api
from mypy.main import process_options

from tests.support import ROOT


def mypy_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]


def test_mypy_finds_no_error(monkeypatch):
    monkeypatch.chdir(ROOT)  # the files of [tool.mypy] are relative, and so is the cache
    stdout, stderr, status = mypy.api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, f"mypy found errors:\n{stdout}{stderr}"
    assert stdout.startswith("Success: no issues found"), stdout + stderr


def test_every_service_and_selector_module_is_checked():
    files = set(mypy_config()["files"])
    modules = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("*/services.py")} | {
        p.relative_to(ROOT).as_posix() for p in ROOT.glob("*/selectors.py")
    }
    assert modules, "the apps have services and selectors"
    assert modules <= files, f"not in [tool.mypy] files: {sorted(modules - files)}"
    assert {"matching/engine", "policies/rules"} <= files


def test_the_engine_and_the_rule_language_get_every_flag_of_strict(tmp_path, monkeypatch):
    """mypy takes `strict` only globally, so [tool.mypy] spells its flags out (the per-module ones in
    the override); a mypy that adds a flag to --strict makes this fail until the flag is added too."""
    monkeypatch.chdir(ROOT)
    (tmp_path / "pyproject.toml").write_text("")  # without [tool.mypy]: mypy's defaults
    file = ["matching/engine/verdict.py"]
    _, default = process_options(["--config-file", str(tmp_path / "pyproject.toml"), *file])
    _, strict = process_options(["--config-file", str(tmp_path / "pyproject.toml"), "--strict", *file])
    _, ours = process_options(["--config-file", str(ROOT / "pyproject.toml"), *file])
    default_values, strict_values = default.snapshot(), strict.snapshot()
    flags = {name for name, value in strict_values.items() if value != default_values.get(name)}
    assert "disallow_untyped_defs" in flags, flags
    for module in ("matching.engine.verdict", "matching.engine", "policies.rules.parse", "policies.rules"):
        values = ours.clone_for_module(module).snapshot()
        missing = sorted(name for name in flags if values.get(name) != strict_values[name])
        assert not missing, f"flags of --strict that {module} does not get from [tool.mypy]: {missing}"
