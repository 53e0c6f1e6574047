"""Condition trees: three-valued (Kleene) evaluation of the rule language's AST.

Parsing, the operator table and the authoring rules are the rule language's (policies/rules): the
engine compiles a tree with `policies.rules.parse` — so it accepts exactly what the loader and the
admin accept — and evaluates the typed leaves here. Each leaf is MET, UNMET or UNKNOWN (the fact is
None); all/any/not combine like SQL's TRUE/FALSE/NULL. Encoding the outcomes as UNMET=0 <
UNKNOWN=1 < MET=2 makes `all` the minimum, `any` the maximum and `not` 2 - x, for plain ints and
numpy arrays alike, so both evaluation paths share `fold` and differ only in how a leaf is evaluated
(one value here, a whole column in bulk.py).

Evaluation by operator: eq ne lt lte gt gte compare one value (numbers as Decimal, dates as dates,
texts and region codes by code point); in and between are defined from them (`comparison_truth`);
`within` is `in` over the region's members (Leaf.test); contains asks whether a set holds the
element; exists (true: the fact is known) is never UNKNOWN.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from enum import IntEnum
from typing import Any

import numpy as np

from policies.rules import OPS_BY_KIND, Condition, ConditionError, Group, Leaf, Node, parse
from policies.rules.values import Catalog


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
CompiledCondition = Condition

__all__ = [
    "COMPARISONS",
    "OPS_BY_KIND",
    "OUTCOME_LETTERS",
    "CompiledCondition",
    "ConditionError",
    "Group",
    "Leaf",
    "Node",
    "Outcome",
    "comparison_truth",
    "compile_condition",
    "fold",
    "leaf_outcome",
    "leaves_behind",
]


def compile_condition(tree: Mapping[str, Any] | None, catalog: Catalog) -> Condition:
    """The typed AST of `tree` (policies.rules.parse); ConditionError naming every problem."""
    return parse(tree, catalog)


def comparison_truth(op: str, constant: Any, compare: Callable[[str, Any], Any]) -> Any:
    """Truth of `fact <op> constant` for eq..gte, in and between, built from `compare(name, c)`.

    `compare` answers one COMPARISONS entry for one value (a bool) or a column (a mask); `in` and
    `between` are defined once here in terms of it.
    """
    if op == "between":
        low, high = constant
        return compare("gte", low) & compare("lte", high)
    if op == "in":
        return functools.reduce(operator.or_, (compare("eq", item) for item in constant))
    return compare(op, constant)


def _exists_outcome(required: bool, known: bool) -> Outcome:
    """`exists: true` asks for the figure: unknown is UNKNOWN (ask for it), never UNMET, because the
    enterprise has only not answered yet (nothing is judged unmet for lack of an answer). `exists:
    false` (the fact must not be stated) is decided either way."""
    if required:
        return Outcome.MET if known else Outcome.UNKNOWN
    return Outcome.UNMET if known else Outcome.MET


def leaf_outcome(leaf: Leaf, value: Any) -> Outcome:
    """One leaf over one normalised fact value (None = unknown)."""
    if leaf.op == "exists":
        return _exists_outcome(leaf.value, value is not None)
    if value is None:
        return Outcome.UNKNOWN
    if leaf.op == "contains":
        truth = leaf.value in value
    else:
        truth = comparison_truth(*leaf.test, lambda name, c: COMPARISONS[name](value, c))
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
    else:
        parts = [fold(child, evaluate_leaf, seen) for child in node.children]
        outcomes, partials = [p[0] for p in parts], [p[1] for p in parts]
        # min and max are exact, so plain ones give the same values as numpy's; on one enterprise's
        # scalars they cost a fraction of a ufunc call (numpy looks up its hooks on IntEnum members)
        columns = any(isinstance(value, np.ndarray) for value in (*outcomes, *partials))
        lowest, highest = (np.minimum, np.maximum) if columns else (min, max)
        if node.op == "all":
            outcome = functools.reduce(lowest, outcomes)
            closeness = functools.reduce(operator.add, partials) / len(parts)
        else:
            outcome = functools.reduce(highest, outcomes)
            closeness = functools.reduce(highest, partials)
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
