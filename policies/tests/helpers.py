"""Paths and small helpers shared by the policies tests."""

from pathlib import Path

from policies.loader import fixtures_dir


def catalog_paths_for_000() -> list[Path]:
    """The region tree and catalog files policy 000 reads (its applicability names 闵行区, 310112);
    loader tests need no other fixture, finished or not."""
    return [
        fixtures_dir() / "regions" / "regions.yaml",
        *sorted((fixtures_dir() / "items").glob("000_*.yaml")),  # the item kinds its facts name
        fixtures_dir() / "facts" / "core.yaml",
        fixtures_dir() / "facts" / "000.yaml",
    ]


def policy_fixture(prefix: str) -> Path:
    """The fixture of one seed, e.g. policy_fixture("000")."""
    matches = sorted((fixtures_dir() / "policies").glob(f"{prefix}_*.yaml"))
    assert matches, f"no fixture fixtures/policies/{prefix}_*.yaml"
    return matches[0]


def clause_of(data: dict, number: str) -> dict:
    return next(clause for clause in data["clauses"] if clause["number"] == number)


def benefit_of(data: dict, number: str, key: str) -> dict:
    return next(benefit for benefit in clause_of(data, number)["benefits"] if benefit["key"] == key)
