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
    """An amount as shown to people: to the fen, the precision money is stored in, so a computed
    amount never reads "1666.666666666666666666666667 万元" and a stored one reads exactly."""
    amount = Decimal(str(yuan))
    if not amount.is_finite():
        return amount
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money_zh(yuan: Any) -> str:
    """12000000 → "1200 万元"; 16666666.666… → "1666.666667 万元" (to the fen, trailing zeros dropped)."""
    amount = shown_yuan(yuan) / TEN_THOUSAND
    return f"{format(amount.normalize(), 'f') if amount else '0'} 万元"


def money_en(yuan: Any) -> str:
    """500000 → "500,000 yuan"; 12000000 → "12 million yuan" (to the fen, see shown_yuan)."""
    amount = shown_yuan(yuan)
    if abs(amount) >= MILLION:
        return f"{(amount / MILLION).normalize():,f} million yuan"
    return f"{amount.normalize():,f} yuan"
