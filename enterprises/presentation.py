"""How fact values read to people: money in 万元, sets as labels, None as 未知."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from enterprises.taxonomy import SUBTRACK_LABELS

TEN_THOUSAND = Decimal(10_000)


def wan_yuan(amount: Decimal) -> str:
    """1234567 -> "123.4567万元" (trailing zeros dropped)."""
    text = f"{(Decimal(amount) / TEN_THOUSAND):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _("%(amount)s万元") % {"amount": text}


def display_value(definition: Any, value: Any) -> str:
    if value is None:
        return _("未知")
    labels = {choice["value"]: choice["label_zh"] for choice in definition.choices or []}
    if definition.code == "industry_subtracks":
        labels = SUBTRACK_LABELS
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if definition.type == "money":
        return wan_yuan(value)
    if isinstance(value, frozenset):
        return "、".join(sorted(labels.get(item, item) for item in value)) if value else _("无")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = labels.get(value, str(value)) if isinstance(value, str) else f"{value}"
    return f"{text} {definition.unit}".strip() if definition.unit and definition.type != "money" else text
