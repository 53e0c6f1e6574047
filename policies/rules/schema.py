"""A JSON Schema of the condition language, so editors validate a fixture's `condition:` as it is typed
(`manage.py export_rule_schema` writes it to fixtures/policies/condition.schema.json).

The schema checks the shape (groups, leaf keys, operators, quote and clause as non-blank words, the
value's shape per operator); what depends on the fact catalog (a known fact, the operator allowed for
its type, choices, region codes, low <= high) is left to `policies.rules.lint`.
"""

from __future__ import annotations

import json
import typing
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from policies.rules.parse import Comparison as _Shape

SCHEMA_ID = "condition.schema.json"

_VALUE_BY_OP: dict[str, dict[str, typing.Any]] = {
    "exists": {"type": "boolean"},
    "in": {"type": "array", "minItems": 1, "items": {"type": ["string", "number", "boolean"]}},
    "between": {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": ["string", "number"]}},
    "contains": {"type": "string", "minLength": 1},
    "within": {"type": "string", "minLength": 1},
    "eq": {"type": ["string", "number", "boolean"]},
    "ne": {"type": ["string", "number", "boolean"]},
    **{op: {"type": ["string", "number"]} for op in ("lt", "lte", "gt", "gte")},
}


class Comparison(_Shape):
    model_config = ConfigDict(
        extra="forbid",
        title="Comparison",
        json_schema_extra={
            "allOf": [
                {"if": {"properties": {"op": {"const": op}}}, "then": {"properties": {"value": shape}}}
                for op, shape in _VALUE_BY_OP.items()
            ]
        },
    )


class AllGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", title="All", populate_by_name=True)
    all: list[Node] = Field(min_length=1, description="Every condition holds.")


class AnyGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Any", populate_by_name=True)
    any: list[Node] = Field(min_length=1, description="At least one condition holds.")


class NotGroup(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Not", populate_by_name=True)
    not_: Node = Field(alias="not", description="The condition does not hold.")


Node = Annotated[Comparison | AllGroup | AnyGroup | NotGroup, Field(title="Condition")]
for _model in (AllGroup, AnyGroup, NotGroup):
    _model.model_rebuild()


def cap_group_schema() -> dict[str, typing.Any]:
    """The JSON Schema of one entry of a policy file's `cap_groups` (policies.rules.caps.CapGroup):
    key, name, period (year | total), limit (above 0), clause, quote."""
    from policies.rules.caps import CapGroup

    schema = TypeAdapter(CapGroup).json_schema(by_alias=True)
    schema["properties"]["limit"] = {"type": "number", "exclusiveMinimum": 0, "title": "Limit (yuan)"}
    schema["description"] = (
        "A per-enterprise cap over benefits of one document (同一企业每年累计不超过X万元); "
        "benefits name it by cap_group."
    )
    return schema


def condition_schema() -> dict[str, typing.Any]:
    """The JSON Schema (draft 2020-12) of one condition tree, or null (no condition); its `$defs`
    also hold `CapGroup`, an entry of a policy file's `cap_groups`."""
    schema = TypeAdapter(Node | None).json_schema(by_alias=True)
    schema.setdefault("$defs", {})["CapGroup"] = cap_group_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Condition",
        "description": "A benefit's condition: all / any / not over comparisons of catalog facts "
        "(fixtures/policies/README.md).",
        **schema,
    }


def condition_schema_text() -> str:
    """The schema as the committed file holds it (sorted keys, two-space indent, final newline)."""
    return json.dumps(condition_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
