"""How fact values read to people, in the reader's language: money in 万元 (yuan in English), sets as
labels, None as 未知."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from enterprises.taxonomy import subtrack_labels
from policies.conditions import choice_label, display_lang, format_money_en, unit_text

TEN_THOUSAND = Decimal(10_000)


def wan_yuan(amount: Decimal) -> str:
    """1234567 -> "123.4567万元" (trailing zeros dropped); in English "1.234567 million yuan"."""
    if display_lang() == "en":
        return format_money_en(amount)
    text = f"{(Decimal(amount) / TEN_THOUSAND):f}"  # exact: stored amounts and limits are compared
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}万元"


def display_value(definition: Any, value: Any) -> str:
    if value is None:
        return _("未知")
    labels = {
        choice["value"]: choice_label(definition, choice["value"]) for choice in definition.choices or []
    }
    if definition.code == "industry_subtracks":
        labels = subtrack_labels()
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if definition.type == "money":
        return wan_yuan(value)
    if isinstance(value, frozenset):
        separator = ", " if display_lang() == "en" else "、"
        return separator.join(sorted(labels.get(item, item) for item in value)) if value else _("无")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = labels.get(value, str(value)) if isinstance(value, str) else f"{value}"
    unit = unit_text(definition.unit)
    return f"{text} {unit}".strip() if unit and definition.type != "money" else text
