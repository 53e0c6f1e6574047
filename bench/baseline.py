"""The rule-library baseline: the same conditions as JSON Logic (json-logic-qubit), the same facts as
plain JSON values. JSON Logic has no "unknown": a missing value simply compares false."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

COMPARISONS = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def to_json_logic(tree: dict | None) -> dict | None:
    if tree is None:
        return None
    if "all" in tree:
        return {"and": [to_json_logic(child) for child in tree["all"]]}
    if "any" in tree:
        return {"or": [to_json_logic(child) for child in tree["any"]]}
    if "not" in tree:
        return {"!": to_json_logic(tree["not"])}
    fact, op, value = tree["fact"], tree["op"], _json(tree.get("value"))
    var = {"var": fact}
    if op in COMPARISONS:
        return {COMPARISONS[op]: [var, value]}
    if op == "in":
        return {"in": [var, [_json(v) for v in value]]}
    if op == "contains":
        return {"in": [value, {"var": [fact, []]}]}
    if op == "between":
        return {"<=": [_json(value[0]), var, _json(value[1])]}
    if op == "exists":
        return {"!=" if value else "==": [var, None]}
    raise ValueError(f"unknown operator {op!r}")


def to_json_data(columns: dict[str, list], n: int) -> list[dict]:
    return [{code: _json(values[i]) for code, values in columns.items()} for i in range(n)]
