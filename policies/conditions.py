"""The condition language as the policy app reads it: thin names over the one rule language
(policies/rules: parse, lint, render). Money is policies.money; whether English is active,
policies.i18n.

Kept so callers outside the language need not know its modules; the language itself is policies.rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policies.rules import (
    NUMERIC_TYPES,
    OPS,
    ORDERED_TYPES,
    choice_label,
    choice_pairs,
    describe,
    display_lang,
    fact_codes,
    leaf_text,
    leaves,
    lint,
    unit_text,
)
from policies.rules import label as fact_label

__all__ = [
    "NUMERIC_TYPES",
    "OPS",
    "ORDERED_TYPES",
    "choice_label",
    "choice_pairs",
    "describe",
    "display_lang",
    "fact_codes",
    "fact_label",
    "leaves",
    "render_en",
    "render_zh",
    "unit_text",
    "validate_condition",
]


def validate_condition(tree: Any, catalog: Mapping[str, Any]) -> list[str]:
    """Every problem in `tree`, each naming its path (e.g. condition.all[1]) and the fact; [] when valid."""
    return lint(tree, catalog)


def render_zh(leaf: dict, catalog: Mapping[str, Any]) -> str:
    """One comparison in Chinese, e.g. "新租赁自用工业厂房面积 ≥ 5000 平方米"."""
    return leaf_text(leaf, catalog, "zh")


def render_en(leaf: dict, catalog: Mapping[str, Any]) -> str:
    return leaf_text(leaf, catalog, "en")
