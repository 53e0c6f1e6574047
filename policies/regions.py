"""The region tree as plain data: each region with the chain of regions it lies within.

Region-type facts (an enterprise's registered and operating region) carry the tree as their
catalog `choices`: `{value, label_zh, label_en, within: [parent, grandparent, …]}`, so the rule
language can decide "within X" without the database (policies/rules).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

REGION_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "regions"


def region_choices(regions: Iterable[Mapping[str, Any]]) -> list[dict]:
    """[{value, label_zh, label_en, level, within}] from rows of {code, name_zh, name_en, level, parent}
    (`parent_code` in rows read from the database)."""
    rows = list(regions)
    parent_of = {row["code"]: row.get("parent", row.get("parent_code")) for row in rows}
    choices = []
    for row in rows:
        chain, parent = [], parent_of.get(row["code"])
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = parent_of.get(parent)
        choices.append(
            {
                "value": row["code"],
                "label_zh": row["name_zh"],
                "label_en": row["name_en"],
                "level": row["level"],
                "within": chain,
            }
        )
    return choices


def fixture_regions(directory: Path = REGION_FIXTURES) -> list[dict]:
    """The rows of fixtures/regions/*.yaml (for the fixture-only catalog of scenarios and tools)."""
    rows: list[dict] = []
    for path in sorted(directory.glob("*.yaml")):
        rows += (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("regions") or []
    return rows


def inside(choices: Iterable[Mapping[str, Any]], region: str) -> set[str]:
    """Codes of `region` and every region below it."""
    return {choice["value"] for choice in choices if choice["value"] == region or region in choice["within"]}
