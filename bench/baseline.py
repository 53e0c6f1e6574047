"""The rule-library baseline: the same conditions as JSON Logic (json-logic-qubit), the same facts as
plain JSON values. JSON Logic has no "unknown": a missing value simply compares false."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from policies.rules.ast import Group, Node

COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_json_logic(node: Node | None) -> dict | None:
    """A compiled condition (policies.rules: the engine's own tree) as JSON Logic; `within` becomes
    `in` over the region's members, as the engine evaluates it (Leaf.test)."""
    if node is None:
        return None
    if isinstance(node, Group):
        children = [to_json_logic(child) for child in node.children]
        if node.op == "all":
            return {"and": children}
        if node.op == "any":
            return {"or": children}
        return {"!": children[0]}
    fact = node.fact
    op, value = node.test
    var = {"var": fact}
    if op in COMPARISONS:
        return {COMPARISONS[op]: [var, _json(value)]}
    if op == "in":
        return {"in": [var, [_json(v) for v in value]]}
    if op == "contains":
        return {"in": [_json(value), {"var": [fact, []]}]}
    if op == "between":
        return {"<=": [_json(value[0]), var, _json(value[1])]}
    if op == "exists":
        return {"!=" if value else "==": [var, None]}
    raise ValueError(f"unknown operator {op!r}")


def to_json_data(columns: dict[str, list], n: int) -> list[dict]:
    return [{code: _json(values[i]) for code, values in columns.items()} for i in range(n)]
