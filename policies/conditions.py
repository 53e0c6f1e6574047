"""The condition language: a JSON tree of all / any / not over comparisons of catalog facts.

    {"all": [...]} | {"any": [...]} | {"not": {...}} | {"fact": code, "op": op, "value": v, "quote": words}

Pure functions (no ORM): `catalog` is any mapping code -> object with code, type, unit, label_zh, label_en
and choices (list of {value, label_zh, label_en}) — FactDefinition rows or plain stand-ins in tests.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, Literal

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policies.wording import SYMBOLS, UNITS_EN
from policies.wording import money_en as format_money_en

OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "between", "exists", "within")
GROUPS = ("all", "any", "not")
NUMERIC_TYPES = ("int", "decimal", "money")
ORDERED_TYPES = (*NUMERIC_TYPES, "date")


class Comparison(BaseModel):
    """The shape of a leaf; what the value may be depends on the fact, checked against the catalog."""

    model_config = ConfigDict(extra="forbid")

    fact: str = Field(min_length=1)
    op: Literal[OPS]  # type: ignore[valid-type]
    value: Any
    quote: str = Field(min_length=1)
    clause: str | None = None  # the clause of the document the quote comes from (default: the benefit's)


# --- validation --------------------------------------------------------------------------------------------


def validate_condition(tree: Any, catalog: Mapping[str, Any]) -> list[str]:
    """Every problem in `tree`, each naming its path (e.g. condition.all[1]) and the fact; [] when valid."""
    errors: list[str] = []
    _check_node(tree, "condition", catalog, errors)
    return errors


def _check_node(node: Any, path: str, catalog: Mapping[str, Any], errors: list[str]) -> None:
    if not isinstance(node, dict):
        errors.append(_("%(path)s：应为 {all|any|not: …} 或比较 {fact, op, value, quote}，实际是 %(type)s")
                      % {"path": path, "type": type(node).__name__})  # fmt: skip
        return
    groups = [key for key in GROUPS if key in node]
    if groups:
        if len(node) != 1:
            errors.append(_("%(path)s：组合节点只能有一个键（all、any 或 not），实际有 %(keys)s")
                          % {"path": path, "keys": ", ".join(sorted(map(str, node)))})  # fmt: skip
            return
        key = groups[0]
        children = node[key]
        if key == "not":
            _check_node(children, f"{path}.not", catalog, errors)
        elif not isinstance(children, list) or not children:
            errors.append(_("%(path)s.%(key)s：应为非空列表") % {"path": path, "key": key})
        else:
            for index, child in enumerate(children):
                _check_node(child, f"{path}.{key}[{index}]", catalog, errors)
        return
    try:
        leaf = Comparison.model_validate(node)
    except ValidationError as exc:
        fact = node.get("fact")
        where = f"{path} ({fact})" if isinstance(fact, str) else path
        for problem in exc.errors():
            field = ".".join(str(part) for part in problem["loc"])
            errors.append(f"{where}.{field}: {_describe_pydantic(problem)}")
        return
    where = f"{path} ({leaf.fact})"
    fact = catalog.get(leaf.fact)
    if fact is None:
        errors.append(
            _("%(where)s：未知事实 %(fact)s（不在事实目录中）") % {"where": where, "fact": leaf.fact}
        )
        return
    problem = _check_value(leaf.op, leaf.value, fact)
    if problem:
        errors.append(f"{where}: {problem}")


def _describe_pydantic(problem: dict) -> str:
    kind = problem["type"]
    if kind == "missing":
        return _("缺少此项")
    if kind == "extra_forbidden":
        return _("不认识的键")
    if kind == "literal_error":
        return _("不支持的运算符 %(op)r，可用：%(ops)s") % {"op": problem.get("input"), "ops": ", ".join(OPS)}
    if kind in ("string_type", "string_too_short"):
        return _("应为非空文字")
    return problem["msg"]


def _choices(fact: Any) -> list[str]:
    return [choice["value"] for choice in (getattr(fact, "choices", None) or [])]


def _scalar_problem(value: Any, fact: Any) -> str | None:
    """Why `value` cannot be compared with `fact` (None when it can)."""
    kind = fact.type
    if kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in ("decimal", "money"):
        ok = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    elif kind in ("str", "enum", "set"):
        ok = isinstance(value, str) and bool(value)
    elif kind == "date":
        ok = isinstance(value, str) and _parse_date(value) is not None
    else:
        return _("事实类型 %(type)s 未知") % {"type": kind}
    if not ok:
        expected = {"date": _("YYYY-MM-DD 格式的日期"), "set": _("一个可选值"), "enum": _("一个可选值")}.get(
            kind, kind
        )
        return _("值 %(value)r 与事实类型 %(type)s 不符（应为 %(expected)s）") % {
            "value": value, "type": kind, "expected": expected,
        }  # fmt: skip
    choices = _choices(fact)
    if kind in ("enum", "set") and choices and value not in choices:
        return _("值 %(value)r 不在可选值中（%(choices)s）") % {"value": value, "choices": ", ".join(choices)}
    return None


def _check_value(op: str, value: Any, fact: Any) -> str | None:
    kind = fact.type
    if op == "exists":
        return None if isinstance(value, bool) else _("exists 的值应为 true 或 false")
    if kind == "region" or op == "within":
        if kind != "region":
            return _("within 只能用于地区事实，%(code)s 的类型是 %(type)s") % {
                "code": fact.code,
                "type": kind,
            }
        if op not in ("eq", "ne", "in", "within"):
            return _("地区事实只能用 within、eq、ne、in 或 exists，不能用 %(op)s") % {"op": op}
        codes = set(_choices(fact))
        for item in value if op == "in" and isinstance(value, list) and value else [value]:
            if not isinstance(item, str) or item not in codes:
                return _("未知的地区代码 %(value)r") % {"value": item}
        return None
    if op == "contains":
        if kind != "set":
            return _("contains 只能用于多选（set）事实，%(code)s 的类型是 %(type)s") % {
                "code": fact.code,
                "type": kind,
            }
        return _scalar_problem(value, fact)
    if kind == "set":
        return _("多选（set）事实只能用 contains 或 exists，不能用 %(op)s") % {"op": op}
    if op in ("lt", "lte", "gt", "gte", "between") and kind not in ORDERED_TYPES:
        return _("%(op)s 只能用于数值或日期事实，%(code)s 的类型是 %(type)s") % {
            "op": op,
            "code": fact.code,
            "type": kind,
        }
    if op == "in":
        if kind == "bool":
            return _("是/否事实请用 eq，不要用 in")
        if not isinstance(value, list) or not value:
            return _("in 的值应为非空列表")
        return next((problem for item in value if (problem := _scalar_problem(item, fact))), None)
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            return _("between 的值应为 [下限, 上限]")
        problem = _scalar_problem(value[0], fact) or _scalar_problem(value[1], fact)
        if problem:
            return problem
        low, high = (_parse_date(v) for v in value) if kind == "date" else value
        if low > high:
            return _("between 的下限 %(low)s 大于上限 %(high)s") % {"low": value[0], "high": value[1]}
        return None
    return _scalar_problem(value, fact)


def _parse_date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# --- reading -----------------------------------------------------------------------------------------------


def leaves(tree: Any) -> list[dict]:
    """The comparisons of `tree`, depth-first in document order (matching numbers leaf outcomes this way)."""
    return list(_iter_leaves(tree))


def _iter_leaves(node: Any) -> Iterator[dict]:
    if not isinstance(node, dict):
        return
    if "not" in node:
        yield from _iter_leaves(node["not"])
    elif "all" in node or "any" in node:
        for child in node.get("all") or node.get("any") or []:
            yield from _iter_leaves(child)
    elif "fact" in node:
        yield node


def fact_codes(tree: Any) -> set[str]:
    return {leaf["fact"] for leaf in leaves(tree)}


# --- rendering ---------------------------------------------------------------------------------------------


def display_lang() -> Literal["zh", "en"]:
    """The language catalog labels are shown in: English when active, Chinese otherwise."""
    return "en" if (get_language() or "").startswith("en") else "zh"


def fact_label(fact: Any) -> str:
    """A catalog fact's name in the reader's language (label_en when English, never empty)."""
    if display_lang() == "en" and getattr(fact, "label_en", ""):
        return fact.label_en
    return fact.label_zh or fact.code


def choice_label(fact: Any, value: Any) -> str:
    """The label of one choice of an enum/set fact in the reader's language; the value if unknown."""
    lang = display_lang()
    for choice in getattr(fact, "choices", None) or []:
        if choice.get("value") == value:
            return (lang == "en" and choice.get("label_en")) or choice.get("label_zh") or str(value)
    return str(value)


def choice_pairs(fact: Any) -> list[tuple[str, str]]:
    """(value, label) of every choice, for form fields and filters."""
    return [
        (choice["value"], choice_label(fact, choice["value"]))
        for choice in getattr(fact, "choices", None) or []
    ]


def unit_text(unit: str) -> str:
    return UNITS_EN.get(unit, unit) if display_lang() == "en" else unit


def format_number(value: Any) -> str:
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


def format_money_zh(yuan: Any) -> str:
    """Yuan as people read them: 万元, or 亿元 for whole multiples of 1亿 (as the texts print them)."""
    amount = Decimal(str(yuan))
    if amount == 0:
        return "0 元"
    if amount >= 100_000_000 and amount % 100_000_000 == 0:
        return f"{format_number(amount / 100_000_000)} 亿元"
    return f"{format_number(amount / 10_000)} 万元"


def format_money(yuan: Any) -> str:
    """Money for people in the reader's language: 万元/亿元 in Chinese, yuan in English."""
    return format_money_en(yuan) if display_lang() == "en" else format_money_zh(yuan)


def _quantity(value: Any, fact: Any, lang: str) -> str:
    if fact.type == "money":
        return format_money_zh(value) if lang == "zh" else format_money_en(value)
    if fact.type in ("enum", "set"):
        return _choice_label(fact, value, lang)
    if fact.type == "str":
        return f"“{value}”"
    if fact.type == "bool":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    text = format_number(value) if fact.type in NUMERIC_TYPES else str(value)
    unit = fact.unit or ""
    if lang == "en":
        unit = UNITS_EN.get(unit, unit)
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def _choice_label(fact: Any, value: Any, lang: str) -> str:
    for choice in getattr(fact, "choices", None) or []:
        if choice.get("value") == value:
            return choice.get(f"label_{lang}") or str(value)
    return str(value)


def render_zh(leaf: dict, catalog: Mapping[str, Any]) -> str:
    """One comparison in plain Chinese, e.g. "新租赁自用工业厂房面积 ≥ 5000 平方米"."""
    return _render_leaf(leaf, catalog, "zh")


def render_en(leaf: dict, catalog: Mapping[str, Any]) -> str:
    return _render_leaf(leaf, catalog, "en")


def _render_leaf(leaf: dict, catalog: Mapping[str, Any], lang: str) -> str:
    fact = catalog.get(leaf["fact"])
    if fact is None:
        return f"{leaf['fact']} {leaf['op']} {leaf['value']}"
    zh = lang == "zh"
    label = fact.label_zh if zh else fact.label_en
    op, value = leaf["op"], leaf["value"]
    if op == "exists":
        known = bool(value)
        return (
            f"{label}：{'已知' if known else '未知'}" if zh else f"{label}: {'known' if known else 'unknown'}"
        )
    if op == "contains":
        return (
            f"{label}包含：{_quantity(value, fact, lang)}"
            if zh
            else f"{label} include: {_quantity(value, fact, lang)}"
        )
    if op == "within":
        region = _choice_label(fact, value, lang)
        return f"{label}位于{region}" if zh else f"{label} in {region}"
    if op == "in":
        items = [_quantity(item, fact, lang) for item in value]
        if zh:
            return (
                f"{label}：{'、'.join(items[:-1])}或{items[-1]}" if len(items) > 1 else f"{label}：{items[0]}"
            )
        return f"{label}: one of {', '.join(items)}"
    if op == "between":
        low, high = (_quantity(item, fact, lang) for item in value)
        return f"{label}在 {low} 至 {high} 之间" if zh else f"{label} between {low} and {high}"
    if fact.type == "bool" and op in ("eq", "ne"):
        holds = bool(value) == (op == "eq")
        return f"{label}：{'是' if holds else '否'}" if zh else f"{label}: {'yes' if holds else 'no'}"
    if fact.type in ("enum", "str") and op in ("eq", "ne"):
        quantity = _quantity(value, fact, lang)
        if zh:
            return f"{label}：{quantity}" if op == "eq" else f"{label}：不是{quantity}"
        return f"{label}: {quantity}" if op == "eq" else f"{label}: not {quantity}"
    return f"{label} {SYMBOLS[op]} {_quantity(value, fact, lang)}"


def describe(tree: Any, catalog: Mapping[str, Any], lang: str = "zh") -> dict | None:
    """The tree as nested {kind, text, quote, children} for templates (kind: all, any, not, leaf)."""
    if tree is None:
        return None
    if "not" in tree:
        return {"kind": "not", "children": [describe(tree["not"], catalog, lang)]}
    for key in ("all", "any"):
        if key in tree:
            return {"kind": key, "children": [describe(child, catalog, lang) for child in tree[key]]}
    return {"kind": "leaf", "text": _render_leaf(tree, catalog, lang), "quote": tree.get("quote", "")}
