"""Parse and lint the condition language: a JSON tree → the typed AST of policies.rules.ast.

    {"all": [...]} | {"any": [...]} | {"not": {...}}
    | {"fact": code, "op": op, "value": v, "quote": words, "clause": number (optional)}

One checker does both: `lint` returns every problem (each naming its path and fact), `parse` returns
the AST or raises ConditionError with the same problems. So whatever the loader, the admin and the
API accept is exactly what the engine compiles.

Operators by fact type (anything else is refused):
- int, decimal, money, date: eq ne lt lte gt gte (one value), in (non-empty list), between
  ([low, high], low <= high, inclusive)
- str, enum: eq ne in; bool: eq ne (a bool `in` is refused: use eq)
- set: contains (one element)
- region: eq ne in (known region codes), within (one known region code: the fact's region is it or
  lies inside it)
- every type: exists (true: the fact must be stated, unknown asks for it; false: it must not be stated)
Authoring rules: `quote` is required and not blank; all/any lists are not empty; a group has one key;
values fit the fact's type (numbers as numbers, dates as YYYY-MM-DD, choices among the choices).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic_core import ErrorDetails

from policies.i18n import gettext as _
from policies.rules.ast import EMPTY, Condition, Group, Leaf, Node
from policies.rules.values import (
    NUMERIC_TYPES,
    ORDERED_TYPES,
    Catalog,
    FactInfo,
    FactValueError,
    Kind,
    choice_values,
    kind_of,
    region_members,
    to_decimal,
)

OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "between", "exists", "within")
GROUPS = ("all", "any", "not")
_ORDERED_OPS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "exists"})
OPS_BY_KIND: dict[Kind, frozenset[str]] = {
    Kind.NUMBER: _ORDERED_OPS,
    Kind.DATE: _ORDERED_OPS,
    Kind.TEXT: frozenset({"eq", "ne", "in", "exists"}),
    Kind.BOOL: frozenset({"eq", "ne", "exists"}),
    Kind.SET: frozenset({"contains", "exists"}),
    Kind.REGION: frozenset({"eq", "ne", "in", "within", "exists"}),
}
ALL_OPS = frozenset().union(*OPS_BY_KIND.values())

Words = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


class Comparison(BaseModel):
    """The shape of a leaf; what the value may be depends on the fact, checked against the catalog."""

    model_config = ConfigDict(extra="forbid", title="Comparison")

    fact: str = Field(min_length=1, description="A fact code of the catalog (fixtures/facts/*.yaml).")
    op: Literal[OPS]  # type: ignore[valid-type]
    value: Any = Field(
        description="One value; a non-empty list for in; [low, high] for between; true/false for exists; "
        "a region code for within."
    )
    quote: Words = Field(description="The words of the clause this comparison rests on.")
    clause: Words | None = Field(
        default=None,
        description="The number, as printed, of the clause of the same document the quote comes from "
        "(absent: the benefit's own clause).",
    )


class ConditionError(ValueError):
    """A condition tree that is not in the language; `problems` lists each, naming its path."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# --- the public entry points -------------------------------------------------------------------------------


def lint(tree: Any, catalog: Catalog) -> list[str]:
    """Every problem of `tree`, each naming its path (e.g. condition.all[1]) and the fact; [] when valid.
    None (no condition) is valid."""
    return _Checker(catalog).run(tree)[1]


def parse(tree: Any, catalog: Catalog) -> Condition:
    """The typed AST of `tree` (None: no condition); ConditionError listing every problem otherwise."""
    condition, problems = _Checker(catalog).run(tree)
    if problems:
        raise ConditionError(problems)
    return condition


def parse_leaf(leaf: Mapping[str, Any], catalog: Catalog) -> Leaf:
    """One comparison on its own (e.g. a stored reason worded again); ConditionError if invalid."""
    condition = parse(dict(leaf) if isinstance(leaf, Mapping) else leaf, catalog)
    if not isinstance(condition.root, Leaf):
        raise ConditionError([_("应为一个比较 {fact, op, value, quote}")])
    return condition.root


# --- reading a tree as written (no catalog) ----------------------------------------------------------------


def leaves(tree: Any) -> list[Mapping[str, Any]]:
    """The comparisons of `tree` as written, depth-first in document order (the order of parsed leaves)."""
    return list(_iter_leaves(tree))


def _iter_leaves(node: Any) -> Iterator[Mapping[str, Any]]:
    if not isinstance(node, Mapping):
        return
    if "not" in node:
        yield from _iter_leaves(node["not"])
    elif "all" in node or "any" in node:
        children = node.get("all") if "all" in node else node.get("any")
        for child in children if isinstance(children, list) else []:
            yield from _iter_leaves(child)
    elif "fact" in node:
        yield node


def fact_codes(tree: Any) -> set[str]:
    return {leaf["fact"] for leaf in leaves(tree)}


# --- the checker ---------------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.leaves: list[Leaf] = []
        self.problems: list[str] = []

    def run(self, tree: Any) -> tuple[Condition, list[str]]:
        if tree is None:
            return EMPTY, []
        root = self.node(tree, "condition")
        if self.problems:
            return EMPTY, self.problems
        return Condition(root=root, leaves=tuple(self.leaves)), []

    def node(self, node: Any, path: str) -> Node | None:
        if not isinstance(node, Mapping):
            self.problems.append(
                _("%(path)s：应为 {all|any|not: …} 或比较 {fact, op, value, quote}，实际是 %(type)s")
                % {"path": path, "type": type(node).__name__}
            )
            return None
        groups = [key for key in GROUPS if key in node]
        if groups:
            return self.group(node, groups[0], path)
        return self.leaf(node, path)

    def group(self, node: Mapping[str, Any], key: str, path: str) -> Group | None:
        if len(node) != 1:
            self.problems.append(
                _("%(path)s：组合节点只能有一个键（all、any 或 not），实际有 %(keys)s")
                % {"path": path, "keys": ", ".join(sorted(map(str, node)))}
            )
            return None
        children = node[key]
        if key == "not":
            child = self.node(children, f"{path}.not")
            return Group("not", (child,), path) if child is not None else None
        if not isinstance(children, list) or not children:
            self.problems.append(_("%(path)s.%(key)s：应为非空列表") % {"path": path, "key": key})
            return None
        nodes = [self.node(child, f"{path}.{key}[{index}]") for index, child in enumerate(children)]
        valid = tuple(node for node in nodes if node is not None)
        return Group(key, valid, path) if len(valid) == len(nodes) else None

    def leaf(self, node: Mapping[str, Any], path: str) -> Leaf | None:
        try:
            shape = Comparison.model_validate(dict(node))
        except ValidationError as exc:
            fact = node.get("fact")
            where = f"{path} ({fact})" if isinstance(fact, str) else path
            for problem in exc.errors():
                field = ".".join(str(part) for part in problem["loc"])
                self.problems.append(f"{where}.{field}: {_describe_pydantic(problem)}")
            return None
        where = f"{path} ({shape.fact})"
        info = self.catalog.get(shape.fact)
        if info is None:
            self.problems.append(
                _("%(where)s：未知事实 %(fact)s（不在事实目录中）") % {"where": where, "fact": shape.fact}
            )
            return None
        try:
            kind = kind_of(info)
            value, members = _constant(shape.op, shape.value, info, kind)
        except FactValueError as exc:
            self.problems.append(f"{where}: {exc}")
            return None
        leaf = Leaf(
            index=len(self.leaves), path=path, fact=shape.fact, op=shape.op, value=value, kind=kind,
            quote=shape.quote, clause=shape.clause, members=members, source=dict(node),
        )  # fmt: skip
        self.leaves.append(leaf)
        return leaf


def _describe_pydantic(problem: ErrorDetails) -> str:
    kind = problem["type"]
    if kind == "missing":
        return _("缺少此项")
    if kind == "extra_forbidden":
        return _("不认识的键")
    if kind == "literal_error":
        return _("不支持的运算符 %(op)r，可用：%(ops)s") % {"op": problem.get("input"), "ops": ", ".join(OPS)}
    if kind in ("string_type", "string_too_short", "string_pattern_mismatch"):
        return _("应为非空文字")
    return problem["msg"]


# --- constants by operator and fact type --------------------------------------------------------------------


def _constant(op: str, raw: Any, info: FactInfo, kind: Kind) -> tuple[Any, tuple[str, ...]]:
    """The normalised constant of `info op raw` and, for within, the region's members; FactValueError
    (its message worded for people) when `op` does not apply to the fact or `raw` does not fit it."""
    if op == "exists":
        if not isinstance(raw, bool):
            raise FactValueError(_("exists 的值应为 true 或 false"))
        return raw, ()
    if op not in OPS_BY_KIND[kind]:
        raise FactValueError(_op_problem(op, info, kind))
    if op == "in":
        if not isinstance(raw, (list, tuple)) or not raw:
            raise FactValueError(_("in 的值应为非空列表"))
        return tuple(_scalar(item, info) for item in raw), ()
    if op == "between":
        if not isinstance(raw, (list, tuple)) or len(raw) != 2:
            raise FactValueError(_("between 的值应为 [下限, 上限]"))
        low, high = (_scalar(item, info) for item in raw)
        if low > high:
            raise FactValueError(
                _("between 的下限 %(low)s 大于上限 %(high)s") % {"low": raw[0], "high": raw[1]}
            )
        return (low, high), ()
    value = _scalar(raw, info)
    if op == "within":
        return value, region_members(info, value)
    return value, ()


def _op_problem(op: str, info: FactInfo, kind: Kind) -> str:
    names = {"op": op, "code": info.code, "type": info.type}
    if op == "contains":
        return _("contains 只能用于多选（set）事实，%(code)s 的类型是 %(type)s") % names
    if op == "within":
        return _("within 只能用于地区（region）事实，%(code)s 的类型是 %(type)s") % names
    if kind is Kind.SET:
        return _("多选（set）事实只能用 contains 或 exists，不能用 %(op)s") % names
    if kind is Kind.BOOL and op == "in":
        return _("是/否事实请用 eq，不要用 in")
    if op in ("lt", "lte", "gt", "gte", "between"):
        return _("%(op)s 只能用于数值或日期事实，%(code)s 的类型是 %(type)s") % names
    return _("运算符 %(op)s 不能用于 %(code)s（类型 %(type)s）") % names


def _scalar(value: Any, info: FactInfo) -> Any:
    """One constant of this fact's type, normalised (Decimal, date, str, bool); FactValueError if not."""
    fact_type = info.type
    if fact_type == "bool":
        ok = isinstance(value, bool)
    elif fact_type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif fact_type in ("decimal", "money"):
        ok = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    elif fact_type in ("str", "enum", "set", "region"):
        ok = isinstance(value, str) and bool(value)
    elif fact_type == "date":
        ok = _date(value) is not None
    else:
        raise FactValueError(_("事实类型 %(type)s 未知") % {"type": fact_type})
    if ok and fact_type in NUMERIC_TYPES:
        try:
            return to_decimal(value)
        except FactValueError:
            ok = False
    if not ok:
        expected = {
            "date": _("YYYY-MM-DD 格式的日期"), "set": _("一个可选值"), "enum": _("一个可选值"),
            "region": _("一个地区代码"),
        }.get(fact_type, fact_type)  # fmt: skip
        raise FactValueError(
            _("值 %(value)r 与事实类型 %(type)s 不符（应为 %(expected)s）")
            % {"value": value, "type": fact_type, "expected": expected}
        )
    if fact_type == "date":
        return _date(value)
    choices = choice_values(info)
    if fact_type == "region" and value not in choices:
        raise FactValueError(_("值 %(value)r 不是已知的地区代码") % {"value": value})
    if fact_type in ("enum", "set") and choices and value not in choices:
        raise FactValueError(
            _("值 %(value)r 不在可选值中（%(choices)s）") % {"value": value, "choices": ", ".join(choices)}
        )
    return value


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


__all__ = [
    "ALL_OPS",
    "GROUPS",
    "OPS",
    "OPS_BY_KIND",
    "ORDERED_TYPES",
    "Comparison",
    "ConditionError",
    "fact_codes",
    "leaves",
    "lint",
    "parse",
    "parse_leaf",
]
