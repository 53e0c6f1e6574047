"""Fact kinds and value normalisation: the types of the rule language, shared by the parser, the
renderer and both engine paths.

The catalog types (bool, int, decimal, money, str, enum, set, date, region) collapse into six kinds
that decide which operators apply and how values compare. Numbers are compared as Decimal so that
5000 (int), 5000.0 (float), "5000" and Decimal("5000.00") are all the same fact value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, Protocol


class Kind(StrEnum):
    NUMBER = "number"
    DATE = "date"
    TEXT = "text"
    BOOL = "bool"
    SET = "set"
    REGION = "region"  # a region code; compares like a text, and `within` reads the region tree


KIND_OF_TYPE: dict[str, Kind] = {
    "bool": Kind.BOOL,
    "int": Kind.NUMBER,
    "decimal": Kind.NUMBER,
    "money": Kind.NUMBER,
    "str": Kind.TEXT,
    "enum": Kind.TEXT,
    "set": Kind.SET,
    "date": Kind.DATE,
    "region": Kind.REGION,
}
FACT_TYPES = tuple(KIND_OF_TYPE)
NUMERIC_TYPES = ("int", "decimal", "money")
ORDERED_TYPES = (*NUMERIC_TYPES, "date")


class FactInfo(Protocol):
    """What the language needs from a catalog entry (policies.models.FactDefinition satisfies it).

    `choices` are [{value, label_zh, label_en}] for enum and set facts; for a region fact
    [{value: code, label_zh, label_en, within: [ancestor codes, nearest first]}].
    """

    code: str
    type: str
    unit: str
    label_zh: str
    choices: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class CatalogFact:
    """A plain catalog entry for code that has no database (tests, fixture tools)."""

    code: str
    type: str
    label_zh: str = ""
    unit: str = ""
    choices: tuple[Mapping[str, Any], ...] = field(default=())
    label_en: str = ""  # shown when English is active; label_zh otherwise
    item_kind: str = ""  # a fact of each item of this kind (not of the enterprise)
    formula: str = ""  # derived by this formula (policies/formulas.py)


Catalog = Mapping[str, FactInfo]


class FactValueError(ValueError):
    """A fact value (or a condition constant) that does not fit its catalog type."""


def kind_of(info: FactInfo) -> Kind:
    try:
        return KIND_OF_TYPE[info.type]
    except KeyError:
        raise FactValueError(f"fact {info.code!r} has unknown type {info.type!r}") from None


def choice_values(info: FactInfo) -> list[str]:
    return [choice.get("value") for choice in (getattr(info, "choices", None) or ())]


def region_members(info: FactInfo, code: str) -> tuple[str, ...]:
    """The region codes inside `code` by the catalog's region tree: `code` first, then every region
    whose `within` (its ancestors) names it, in catalog order."""
    inside = [
        choice["value"]
        for choice in getattr(info, "choices", None) or ()
        if choice.get("value") != code and code in (choice.get("within") or ())
    ]
    return (code, *inside)


def to_decimal(value: Any) -> Decimal:
    """Decimal(str(x)) for ints, floats and strings; rejects bools, NaN and infinities."""
    if isinstance(value, bool):
        raise FactValueError(f"{value!r} is a boolean, not a number")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise FactValueError(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise FactValueError(f"{value!r} is not a finite number")
    return number


def normalize(kind: Kind, value: Any) -> Any:
    """The comparable Python value of an enterprise's fact of this kind; None (unknown) stays None."""
    if value is None:
        return None
    if kind is Kind.NUMBER:
        return to_decimal(value)
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        raise FactValueError(f"{value!r} is not a boolean")
    if kind in (Kind.TEXT, Kind.REGION):
        if isinstance(value, str):
            return value
        raise FactValueError(f"{value!r} is not a text")
    if kind is Kind.DATE:
        if isinstance(value, dt.datetime):
            raise FactValueError(f"{value!r} is a datetime, not a date")
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise FactValueError(f"{value!r} is not a date")
    # Kind.SET: an empty set means "known to have none", unlike None.
    if isinstance(value, (set, frozenset, list, tuple)) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    raise FactValueError(f"{value!r} is not a set of texts")


def jsonable(value: Any) -> Any:
    """Values as JSON holds them: dates as ISO strings, decimals as strings, tuples as lists, sets as
    sorted lists (conditions and amount rules from YAML, a normalised engine value in a review snapshot)."""
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(item) for item in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
