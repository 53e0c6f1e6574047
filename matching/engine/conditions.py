"""Condition trees: compilation, the operator table, and three-valued (Kleene) evaluation.

A tree is `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}` or a leaf
`{"fact", "op", "value", "quote"}` (fixtures/policies/README.md). Each leaf is MET, UNMET or
UNKNOWN (the fact is None); all/any/not combine like SQL's TRUE/FALSE/NULL. Encoding the outcomes
as UNMET=0 < UNKNOWN=1 < MET=2 makes `all` the minimum, `any` the maximum and `not` 2 - x, for
plain ints and numpy arrays alike, so both evaluation paths share `fold` and differ only in how a
leaf is evaluated (one value here, a whole column in bulk.py).

Operators by kind (anything else is a ConditionError):
- number, date, text: eq ne lt lte gt gte (one value), in (list), between ([low, high], inclusive)
  Numbers compare as Decimal, dates as dates, texts by code point.
- bool: eq ne in
- set: contains (the set holds the value)
- every kind: exists (true: the fact is known; false: unknown). exists is never UNKNOWN.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np

from matching.engine.values import Catalog, FactValueError, Kind, kind_of, normalize


class Outcome(IntEnum):
    UNMET = 0
    UNKNOWN = 1
    MET = 2

    @property
    def letter(self) -> str:
        return OUTCOME_LETTERS[self]


# One character per leaf in the compact outcome string stored with a match result.
OUTCOME_LETTERS = "x?v"

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}
_ORDERED_OPS = frozenset(COMPARISONS) | {"in", "between", "exists"}
OPS_BY_KIND: dict[Kind, frozenset[str]] = {
    Kind.NUMBER: _ORDERED_OPS,
    Kind.DATE: _ORDERED_OPS,
    Kind.TEXT: _ORDERED_OPS,
    Kind.BOOL: frozenset({"eq", "ne", "in", "exists"}),
    Kind.SET: frozenset({"contains", "exists"}),
}
REGION_OPS = frozenset({"eq", "ne", "in", "within", "exists"})
ALL_OPS = frozenset().union(*OPS_BY_KIND.values(), REGION_OPS)


class ConditionError(ValueError):
    """A condition tree the engine cannot evaluate; the message names the path."""


@dataclass(frozen=True)
class Leaf:
    index: int  # depth-first position, the order of the compact outcome string
    path: str
    fact: str
    op: str
    value: Any  # normalised: a scalar, a tuple for `in`, (low, high) for `between`, a bool for `exists`
    kind: Kind
    quote: str
    clause: str | None = None  # the clause of the document the quote comes from (None: the benefit's own)


@dataclass(frozen=True)
class Group:
    op: str  # all | any | not
    children: tuple[Node, ...]


Node = Leaf | Group


@dataclass(frozen=True)
class CompiledCondition:
    root: Node | None  # None: no condition beyond the document's applicability
    leaves: tuple[Leaf, ...]

    @property
    def fact_codes(self) -> frozenset[str]:
        return frozenset(leaf.fact for leaf in self.leaves)


def compile_condition(tree: Mapping[str, Any] | None, catalog: Catalog) -> CompiledCondition:
    leaves: list[Leaf] = []
    root = None if tree is None else _compile(tree, catalog, "condition", leaves)
    return CompiledCondition(root=root, leaves=tuple(leaves))


def _compile(tree: Any, catalog: Catalog, path: str, leaves: list[Leaf]) -> Node:
    if not isinstance(tree, Mapping):
        raise ConditionError(f"{path}: expected a mapping, got {tree!r}")
    groups = [key for key in ("all", "any", "not") if key in tree]
    if groups:
        if len(tree) != 1:
            raise ConditionError(f"{path}: a group has exactly one key, got {sorted(tree)}")
        op = groups[0]
        if op == "not":
            return Group("not", (_compile(tree["not"], catalog, f"{path}.not", leaves),))
        items = tree[op]
        if not isinstance(items, list):
            raise ConditionError(f"{path}.{op}: expected a list")
        return Group(
            op, tuple(_compile(item, catalog, f"{path}.{op}[{i}]", leaves) for i, item in enumerate(items))
        )
    leaf = _compile_leaf(tree, catalog, path, len(leaves))
    leaves.append(leaf)
    return leaf


def _compile_leaf(tree: Mapping[str, Any], catalog: Catalog, path: str, index: int) -> Leaf:
    code, op = tree.get("fact"), tree.get("op")
    if code not in catalog:
        raise ConditionError(f"{path}: unknown fact {code!r}")
    kind = kind_of(catalog[code])
    allowed_ops = REGION_OPS if getattr(catalog[code], "type", None) == "region" else OPS_BY_KIND[kind]
    if op not in allowed_ops:
        allowed = " ".join(sorted(allowed_ops))
        raise ConditionError(
            f"{path}: operator {op!r} does not apply to {kind} fact {code!r} (use {allowed})"
        )
    raw = tree.get("value")
    try:
        value = _region_codes(catalog[code], raw) if op == "within" else _constant(kind, op, raw)
    except FactValueError as exc:
        raise ConditionError(f"{path}: value {raw!r} for {code} {op}: {exc}") from None
    return Leaf(
        index=index,
        path=path,
        fact=code,
        op=op,
        value=value,
        kind=kind,
        quote=tree.get("quote") or "",
        clause=tree.get("clause") or None,
    )


def _region_codes(info: Any, region: Any) -> tuple[str, ...]:
    """`within region` as the codes it holds: the region first, then every region below it."""
    if getattr(info, "type", None) != "region":
        raise FactValueError("within applies to region facts only")
    choices = getattr(info, "choices", None) or ()
    if not isinstance(region, str) or region not in {choice["value"] for choice in choices}:
        raise FactValueError(f"unknown region code {region!r}")
    below = [choice["value"] for choice in choices if region in (choice.get("within") or ())]
    return (region, *below)


def _constant(kind: Kind, op: str, raw: Any) -> Any:
    if op == "exists":
        if not isinstance(raw, bool):
            raise FactValueError("exists takes true or false")
        return raw
    if op == "contains":
        return normalize(Kind.TEXT, raw)
    if op == "in":
        if not isinstance(raw, (list, tuple)) or not raw:
            raise FactValueError("in takes a non-empty list")
        return tuple(normalize(kind, item) for item in raw)
    if op == "between":
        if not isinstance(raw, (list, tuple)) or len(raw) != 2:
            raise FactValueError("between takes [low, high]")
        low, high = (normalize(kind, item) for item in raw)
        if None in (low, high) or low > high:
            raise FactValueError("between needs low <= high")
        return (low, high)
    if raw is None:
        raise FactValueError("a comparison needs a value")
    return normalize(kind, raw)


def comparison_truth(op: str, constant: Any, compare: Callable[[str, Any], Any]) -> Any:
    """Truth of `fact <op> constant` for eq..gte, in and between, built from `compare(name, c)`.

    `compare` answers one COMPARISONS entry for one value (a bool) or a column (a mask); `in` and
    `between` are defined once here in terms of it.
    """
    if op == "between":
        low, high = constant
        return compare("gte", low) & compare("lte", high)
    if op in ("in", "within"):  # within: the constant is the region and the codes below it
        return functools.reduce(operator.or_, (compare("eq", item) for item in constant))
    return compare(op, constant)


def leaf_outcome(leaf: Leaf, value: Any) -> Outcome:
    """One leaf over one normalised fact value (None = unknown)."""
    if leaf.op == "exists":
        return Outcome.MET if (value is not None) == leaf.value else Outcome.UNMET
    if value is None:
        return Outcome.UNKNOWN
    if leaf.op == "contains":
        truth = leaf.value in value
    else:
        truth = comparison_truth(leaf.op, leaf.value, lambda name, c: COMPARISONS[name](value, c))
    return Outcome.MET if truth else Outcome.UNMET


def fold(
    node: Node, evaluate_leaf: Callable[[Leaf], Any], seen: dict[int, Any] | None = None
) -> tuple[Any, Any]:
    """(outcome, closeness) of a node; ints/floats for one enterprise, arrays for a column.

    Closeness is the partial credit behind the score: a leaf gives outcome / 2 (0, 0.5 or 1), `all`
    the mean of its children, `any` the best child, `not` its own outcome / 2. It is 1 exactly when
    the outcome is MET and at least 0.5 when the outcome is UNKNOWN (see README). The arithmetic is
    the same sequence of float operations on both paths, so both give identical scores.
    `seen`, when given, receives the outcome of every node keyed by id(node).
    """
    if isinstance(node, Leaf):
        outcome = evaluate_leaf(node)
        closeness = outcome / 2
    elif node.op == "not":
        outcome = 2 - fold(node.children[0], evaluate_leaf, seen)[0]
        closeness = outcome / 2
    elif not node.children:  # an empty all is vacuously MET, an empty any UNMET (SQL's identities)
        outcome = int(Outcome.MET if node.op == "all" else Outcome.UNMET)
        closeness = outcome / 2
    else:
        parts = [fold(child, evaluate_leaf, seen) for child in node.children]
        outcomes, partials = [p[0] for p in parts], [p[1] for p in parts]
        if node.op == "all":
            outcome = functools.reduce(np.minimum, outcomes)
            closeness = functools.reduce(operator.add, partials) / len(parts)
        else:
            outcome = functools.reduce(np.maximum, outcomes)
            closeness = functools.reduce(np.maximum, partials)
    if seen is not None:
        seen[id(node)] = outcome
    return outcome, closeness


def leaves_behind(node: Node, outcomes: Mapping[int, Outcome], target: Outcome) -> list[Leaf]:
    """The leaves that make `node` come out as `target`: descend into children with that outcome.

    For UNKNOWN these are the facts worth asking for; for UNMET the conditions to work on (a `not`
    whose child is met is skipped: there is no threshold to reach).
    """
    if outcomes[id(node)] != target:
        return []
    if isinstance(node, Leaf):
        return [node]
    return [leaf for child in node.children for leaf in leaves_behind(child, outcomes, target)]
