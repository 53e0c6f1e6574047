"""The condition language as the policy app reads it: thin names over the one rule language
(policies/rules: parse, lint, render), plus the display helpers of the policy pages (money, numbers).

Kept so callers outside the language need not know its modules; the language itself is policies.rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from policies.rules import (
    NUMERIC_TYPES,
    OPS,
    ORDERED_TYPES,
    choice_label,
    choice_pairs,
    describe,
    english,
    fact_codes,
    leaf_text,
    leaves,
    lint,
    unit_text,
)
from policies.rules import label as fact_label
from policies.rules import money_en as format_money_en
from policies.rules.render import shown_yuan

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
    "format_money",
    "format_money_en",
    "format_money_zh",
    "format_number",
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


def display_lang() -> Literal["zh", "en"]:
    """The language catalog labels are shown in: English when active, Chinese otherwise."""
    return "en" if english() else "zh"


def format_number(value: Any) -> str:
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


def format_money_zh(yuan: Any) -> str:
    """Yuan as people read them: 万元, or 亿元 for whole multiples of 1亿 (as the texts print them)."""
    amount = shown_yuan(yuan)  # to the fen, as stored
    if amount == 0:
        return "0 元"
    if amount >= 100_000_000 and amount % 100_000_000 == 0:
        return f"{format_number(amount / 100_000_000)} 亿元"
    return f"{format_number(amount / 10_000)} 万元"


def format_money(yuan: Any) -> str:
    """Money for people in the reader's language: 万元/亿元 in Chinese, yuan in English."""
    return format_money_en(yuan) if display_lang() == "en" else format_money_zh(yuan)
