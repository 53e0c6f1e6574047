"""Words shared by the policy pages (policies.conditions) and the engine's reasons
(matching.engine.render): the comparison symbols, the catalog's units in English and the one English
money rule. Plain Python: the engine imports it and stays free of Django."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
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
TEN_THOUSAND = Decimal(10_000)


def shown_yuan(yuan: Any) -> Decimal:
    """An amount as shown to people: to the whole yuan (to the fen below one yuan), so a computed
    amount never reads "1666.666666666666666666666667 万元". Stored amounts stay exact."""
    amount = Decimal(str(yuan))
    if not amount.is_finite():
        return amount
    step = Decimal(1) if abs(amount) >= 1 else Decimal("0.01")
    return amount.quantize(step, rounding=ROUND_HALF_UP)


def money_zh(yuan: Any) -> str:
    """12000000 → "1200 万元"; 16666666.67 → "1666.6667 万元" (whole yuan, trailing zeros dropped)."""
    amount = shown_yuan(yuan) / TEN_THOUSAND
    return f"{format(amount.normalize(), 'f') if amount else '0'} 万元"


def money_en(yuan: Any) -> str:
    """500000 → "500,000 yuan"; 12000000 → "12 million yuan" (to the whole yuan, see shown_yuan)."""
    amount = shown_yuan(yuan)
    if abs(amount) >= MILLION:
        return f"{(amount / MILLION).normalize():,f} million yuan"
    return f"{amount.normalize():,f} yuan"
