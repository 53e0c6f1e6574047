"""Wording of values and conditions in the reader's language: "新租赁自用工业厂房面积 ≥ 5000 平方米",
or "Newly leased self-use factory area ≥ 5000 m²" when English is active (see i18n.py).

Nothing here is computed ahead of use: `Reason`, `Gap` and `WhatIf` word themselves when read, so
one verdict reads in the language of whoever looks at it. Money is 万元 in Chinese and yuan (or
million yuan) in English, by the one rule of policies.wording.money_en.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from matching.engine.conditions import Leaf
from matching.engine.i18n import english, gettext, pgettext
from matching.engine.values import FactInfo, Kind, kind_of
from policies.wording import SYMBOLS, UNITS_EN, money_en, money_zh

TEN_THOUSAND = Decimal(10000)


def source_labels() -> dict[str, str]:
    """Where a fact value comes from, worded (the codes are stored; words are chosen when read)."""
    return {
        "self_declared": gettext("企业自报"),
        "staff": gettext("工作人员核定"),
        "register": gettext("登记信息"),
        "derived": gettext("系统推算"),
    }


def plain_number(number: Decimal) -> str:
    """5000 not 5E+3, 0.3 not 0.30."""
    return format(number.normalize(), "f")


def shown_number(number: Decimal) -> Decimal:
    """A computed quantity as shown: at most two decimals (3333.333… m² reads 3333.33 m²)."""
    if number.is_finite() and number.as_tuple().exponent < -2:
        return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return number


def wan(yuan: Decimal) -> str:
    """Money as people read it: 10000000 → "1000 万元" in Chinese, "10 million yuan" in English."""
    if english():
        return money_en(yuan)
    return money_zh(yuan)


def label(info: FactInfo) -> str:
    if english() and getattr(info, "label_en", ""):
        return info.label_en
    return info.label_zh or info.code


def choice_label(info: FactInfo, value: str) -> str:
    for choice in info.choices or ():
        if choice.get("value") == value:
            return (english() and choice.get("label_en")) or choice.get("label_zh") or value
    return value


def unit_text(unit: str) -> str:
    return UNITS_EN.get(unit, unit) if english() else unit


def yes_no(value: bool) -> str:
    return gettext("是") if value else gettext("否")


def _list(items: list[str]) -> str:
    return (", " if english() else "、").join(items)


def scalar_text(info: FactInfo, value: Any) -> str:
    """One value of this fact in words (a condition constant or a known fact value)."""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return choice_label(info, value)
    if info.type == "money":
        return wan(value)
    number = plain_number(shown_number(Decimal(value)))
    unit = unit_text(info.unit)
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def value_text(info: FactInfo, value: Any) -> str:
    """An enterprise's value of this fact; None is 未知, an empty set 无."""
    if value is None:
        return gettext("未知")
    if kind_of(info) is Kind.SET:
        return _list(sorted(choice_label(info, item) for item in value)) or pgettext("none of a set", "无")
    return scalar_text(info, value)


def requirement_text(leaf: Leaf, info: FactInfo) -> str:
    """What the leaf requires, e.g. "新租赁自用工业厂房面积 ≥ 5000 平方米"."""
    name = label(info)
    if leaf.op == "exists":
        wording = gettext("已提供%(name)s") if leaf.value else gettext("未提供%(name)s")
        return wording % {"name": name}
    if leaf.op == "contains":
        return gettext("%(name)s包含“%(value)s”") % {"name": name, "value": choice_label(info, leaf.value)}
    if leaf.op == "in":
        values = _list([scalar_text(info, item) for item in leaf.value])
        return gettext("%(name)s为%(values)s之一") % {"name": name, "values": values}
    if leaf.op == "between":
        low, high = leaf.value
        return gettext("%(name)s在 %(low)s 至 %(high)s 之间（含）") % {
            "name": name,
            "low": scalar_text(info, low),
            "high": scalar_text(info, high),
        }
    if leaf.kind is Kind.BOOL:
        wanted = leaf.value if leaf.op == "eq" else not leaf.value
        return gettext("%(name)s：%(answer)s") % {"name": name, "answer": yes_no(wanted)}
    if leaf.kind is Kind.TEXT and leaf.op in ("eq", "ne"):
        wording = gettext("%(name)s为%(value)s") if leaf.op == "eq" else gettext("%(name)s不为%(value)s")
        return wording % {"name": name, "value": scalar_text(info, leaf.value)}
    return f"{name} {SYMBOLS[leaf.op]} {scalar_text(info, leaf.value)}"


def source_text(source: str | None) -> str:
    return source_labels().get(source or "", source or "")
