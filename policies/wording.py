"""Words shared by the policy pages (policies.conditions) and the engine's reasons
(matching.engine.render): the comparison symbols, the catalog's units in English and the one English
money rule. Plain Python: the engine imports it and stays free of Django."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

SYMBOLS = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}
# The catalog's Chinese units in English ("" : the number reads alone, e.g. a launch ordinal).
UNITS_EN = {
    "平方米": "m²",
    "元": "yuan",
    "美元": "USD",
    "人": "people",
    "年": "years",
    "场": "events",
    "家": "",
    "发": "",
    "%": "%",
}
MILLION = Decimal(1_000_000)


def money_en(yuan: Any) -> str:
    """500000 → "500,000 yuan"; 12000000 → "12 million yuan" (exact, no rounding)."""
    amount = Decimal(str(yuan))
    if abs(amount) >= MILLION:
        return f"{(amount / MILLION).normalize():,f} million yuan"
    return f"{amount.normalize():,f} yuan"
