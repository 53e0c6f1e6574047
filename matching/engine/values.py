"""Fact kinds and value normalisation, shared by the per-enterprise and the bulk path.

The catalog types (bool, int, decimal, money, str, enum, set, date) collapse into five kinds that
decide which operators apply and how values compare. Numbers are compared as Decimal so that
5000 (int), 5000.0 (float), "5000" and Decimal("5000.00") are all the same number.
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


KIND_OF_TYPE: dict[str, Kind] = {
    "bool": Kind.BOOL,
    "int": Kind.NUMBER,
    "decimal": Kind.NUMBER,
    "money": Kind.NUMBER,
    "str": Kind.TEXT,
    "enum": Kind.TEXT,
    "set": Kind.SET,
    "region": Kind.TEXT,  # a region code; `within` is compiled to the codes inside the region
    "date": Kind.DATE,
}


class FactInfo(Protocol):
    """What the engine needs from a catalog entry (policies.models.FactDefinition satisfies it)."""

    code: str
    type: str
    unit: str
    label_zh: str
    choices: Sequence[Mapping[str, str]]


@dataclass(frozen=True)
class CatalogFact:
    """A plain catalog entry for code that has no database (tests, fixture loaders)."""

    code: str
    type: str
    label_zh: str = ""
    unit: str = ""
    choices: tuple[Mapping[str, str], ...] = field(default=())
    label_en: str = ""  # shown when English is active (render.label); label_zh otherwise
    item_kind: str = ""  # a fact of each item of this kind (not of the enterprise)


Catalog = Mapping[str, FactInfo]


class FactValueError(ValueError):
    """A fact value (or a condition constant) that does not fit its catalog type."""


def kind_of(info: FactInfo) -> Kind:
    try:
        return KIND_OF_TYPE[info.type]
    except KeyError:
        raise FactValueError(f"fact {info.code!r} has unknown type {info.type!r}") from None


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
    """The comparable Python value for a fact of this kind; None (unknown) stays None."""
    if value is None:
        return None
    if kind is Kind.NUMBER:
        return to_decimal(value)
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        raise FactValueError(f"{value!r} is not a boolean")
    if kind is Kind.TEXT:
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
