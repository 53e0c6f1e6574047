"""The one wording of the rule language, in the reader's language through gettext: a condition
"新租赁自用工业厂房面积 ≥ 5000 平方米" / "Newly leased self-use factory area ≥ 5000 m²", values,
labels and money (policies.money: 万元 in Chinese; yuan or million yuan in English).

Every page, the API, the engine's reasons and the review snapshots word a condition here, so one
condition reads the same everywhere. Nothing is worded ahead of use: call these when reading, in the
language of whoever reads (`language(lang)` of policies.i18n fixes one).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from policies import money as _money
from policies.i18n import english, gettext, language, pgettext
from policies.rules.ast import Condition, Group, Leaf, Node
from policies.rules.parse import parse, parse_leaf
from policies.rules.values import Catalog, FactInfo, Kind, kind_of

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


# --- numbers -----------------------------------------------------------------------------------


def plain_number(number: Any) -> str:
    """5000 not 5E+3, 0.3 not 0.30."""
    return format(Decimal(str(number)).normalize(), "f")


def shown_number(number: Any) -> Decimal:
    """A computed quantity as shown: at most two decimals (3333.333… m² reads 3333.33 m²)."""
    value = Decimal(str(number))
    exponent = value.as_tuple().exponent  # an int, or "n" / "N" / "F" when not finite
    if isinstance(exponent, int) and exponent < -2:
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return value


# --- labels and values ----------------------------------------------------------------------------------------


def label(info: FactInfo) -> str:
    """A fact's name in the reader's language (label_en when English is active; never empty)."""
    if english():
        label_en: str = getattr(info, "label_en", "")  # not every catalog entry has one
        if label_en:
            return label_en
    return info.label_zh or info.code


def choice_label(info: FactInfo, value: Any) -> str:
    """The label of one choice (enum, set or region) in the reader's language; the value if unknown."""
    for choice in getattr(info, "choices", None) or ():
        if choice.get("value") == value:
            return (english() and choice.get("label_en")) or choice.get("label_zh") or str(value)
    return str(value)


def choice_pairs(info: FactInfo) -> list[tuple[str, str]]:
    """(value, label) of every choice, for form fields and filters."""
    return [(choice["value"], choice_label(info, choice["value"])) for choice in info.choices or ()]


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
        return _money.wan(value)
    number = plain_number(shown_number(value))
    unit = unit_text(info.unit or "")
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


# --- conditions ------------------------------------------------------------------------------------------------


def requirement(leaf: Leaf, info: FactInfo) -> str:
    """What the leaf requires, e.g. "新租赁自用工业厂房面积 ≥ 5000 平方米", "注册地位于闵行区"."""
    name = label(info)
    if leaf.op == "exists":
        wording = gettext("已提供%(name)s") if leaf.value else gettext("未提供%(name)s")
        return wording % {"name": name}
    if leaf.op == "contains":
        return gettext("%(name)s包含“%(value)s”") % {"name": name, "value": choice_label(info, leaf.value)}
    if leaf.op == "within":
        return gettext("%(name)s位于%(region)s") % {"name": name, "region": choice_label(info, leaf.value)}
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
    if leaf.kind in (Kind.TEXT, Kind.REGION) and leaf.op in ("eq", "ne"):
        wording = gettext("%(name)s为%(value)s") if leaf.op == "eq" else gettext("%(name)s不为%(value)s")
        return wording % {"name": name, "value": scalar_text(info, leaf.value)}
    return f"{name} {SYMBOLS[leaf.op]} {scalar_text(info, leaf.value)}"


def leaf_text(leaf: Mapping[str, Any], catalog: Catalog, lang: str | None = None) -> str:
    """One comparison as written (JSON) in words, in `lang` ("zh", "en"; None: the active language)."""
    parsed = parse_leaf(leaf, catalog)
    with language(lang):
        return requirement(parsed, catalog[parsed.fact])


def describe(tree: Any, catalog: Catalog, lang: str | None = None) -> dict[str, Any] | None:
    """A condition (a tree as written, or a parsed Condition) as nested {kind, text, quote, clause,
    children} for templates (kind: all, any, not, leaf); None when there is no condition."""
    condition = tree if isinstance(tree, Condition) else parse(tree, catalog)
    if condition.root is None:
        return None
    with language(lang):
        return _describe(condition.root, catalog)


def _describe(node: Node, catalog: Catalog) -> dict[str, Any]:
    if isinstance(node, Group):
        return {"kind": node.op, "children": [_describe(child, catalog) for child in node.children]}
    return {
        "kind": "leaf",
        "text": requirement(node, catalog[node.fact]),
        "quote": node.quote,
        "clause": node.clause,
    }
