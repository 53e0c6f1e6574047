"""Chinese wording of values and conditions ("新租赁自用工业厂房面积 ≥ 5000 平方米"); money in 万元.

The engine stays free of Django, so these strings are plain Chinese; the structured fields next to
every rendered text (fact, op, value) let a presentation layer word them in another language.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from matching.engine.conditions import Leaf
from matching.engine.values import FactInfo, Kind, kind_of

TEN_THOUSAND = Decimal(10000)
SYMBOLS = {"eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥"}
SOURCE_LABELS = {
    "self_declared": "企业自报",
    "staff": "工作人员核定",
    "register": "登记信息",
    "derived": "系统推算",
}


def plain_number(number: Decimal) -> str:
    """5000 not 5E+3, 0.3 not 0.30."""
    return format(number.normalize(), "f")


def wan(yuan: Decimal) -> str:
    """Yuan shown in 万元: 10000000 → "1000 万元"."""
    return f"{plain_number(Decimal(yuan) / TEN_THOUSAND)} 万元"


def label(info: FactInfo) -> str:
    return info.label_zh or info.code


def _choice_label(info: FactInfo, value: str) -> str:
    for choice in info.choices or ():
        if choice.get("value") == value:
            return choice.get("label_zh") or value
    return value


def scalar_text(info: FactInfo, value: Any) -> str:
    """One value of this fact in words (a condition constant or a known fact value)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _choice_label(info, value)
    if info.type == "money":
        return wan(value)
    number = plain_number(Decimal(value))
    if not info.unit:
        return number
    return f"{number}{info.unit}" if info.unit == "%" else f"{number} {info.unit}"


def value_text(info: FactInfo, value: Any) -> str:
    """An enterprise's value of this fact; None is 未知, an empty set 无."""
    if value is None:
        return "未知"
    if kind_of(info) is Kind.SET:
        return "、".join(sorted(_choice_label(info, item) for item in value)) or "无"
    return scalar_text(info, value)


def requirement_text(leaf: Leaf, info: FactInfo) -> str:
    """What the leaf requires, e.g. "新租赁自用工业厂房面积 ≥ 5000 平方米"."""
    name = label(info)
    if leaf.op == "exists":
        return f"已提供{name}" if leaf.value else f"未提供{name}"
    if leaf.op == "contains":
        return f"{name}包含“{_choice_label(info, leaf.value)}”"
    if leaf.op == "in":
        return f"{name}为{'、'.join(scalar_text(info, item) for item in leaf.value)}之一"
    if leaf.op == "between":
        low, high = leaf.value
        return f"{name}在 {scalar_text(info, low)} 至 {scalar_text(info, high)} 之间（含）"
    if leaf.kind is Kind.BOOL:
        wanted = leaf.value if leaf.op == "eq" else not leaf.value
        return f"{name}：{'是' if wanted else '否'}"
    if leaf.kind is Kind.TEXT and leaf.op in ("eq", "ne"):
        return f"{name}{'为' if leaf.op == 'eq' else '不为'}{scalar_text(info, leaf.value)}"
    return f"{name} {SYMBOLS[leaf.op]} {scalar_text(info, leaf.value)}"


def source_text(source: str | None) -> str:
    return SOURCE_LABELS.get(source or "", source or "")
