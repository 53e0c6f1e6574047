"""The fact catalog as the enterprises app reads it (rows of policies.FactDefinition), and the
typed codec for values of stored facts.

Python value types by fact type (binding for matching): bool -> bool; int -> int; decimal/money ->
Decimal; str/enum -> str; set -> frozenset[str]; date -> datetime.date. None means unknown.
In JSON (FactValue.value): bool, int, decimal as a string ("1234.5"), str, set as a sorted list,
date as "YYYY-MM-DD".
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from policies.models import FactDefinition

Type = FactDefinition.Type

TRUE_WORDS = {"true", "1", "yes", "y", "是", "有", "√"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "无", "×"}


def load_catalog(codes: Iterable[str] | None = None) -> dict[str, FactDefinition]:
    """code -> FactDefinition, in code order: the policies app's catalog (region facts carry the tree)."""
    from policies.selectors import catalog

    facts = catalog()
    wanted = sorted(facts) if codes is None else sorted(set(codes) & set(facts))
    return {code: facts[code] for code in wanted}


def catalog_choice_values(code: str) -> set[str] | None:
    """The allowed values of an enum/set fact; None when the catalog does not define the fact."""
    row = FactDefinition.objects.filter(code=code).only("choices").first()
    if row is None:
        return None
    return {choice["value"] for choice in row.choices or []}


# The largest amount a money column holds (16 digits, 2 of them decimals): 100 万亿元. Every number a
# person types is bounded by it, so 1e30 万元 is refused with a message instead of failing a write.
LARGEST_NUMBER = Decimal(10) ** 14


def too_large(definition: FactDefinition) -> str:
    if definition.type == Type.MONEY:
        return _("金额过大，应小于 100 万亿元（10000000000 万元）。")
    return _("数值过大，应小于 100000000000000。")


def _invalid(definition: FactDefinition, message: str) -> ValidationError:
    return ValidationError(
        _("“%(label)s”：%(message)s")
        % {"label": definition.label, "code": definition.code, "message": message},
        code="invalid_fact_value",
    )


def coerce_fact_value(definition: FactDefinition, raw: Any) -> Any:
    """A typed Python value for `definition` from user input (Python values or text); None for blank.

    Raises ValidationError naming the fact when the input does not fit its type or choices.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = definition.type
    text = raw.strip() if isinstance(raw, str) else None
    if kind == Type.BOOL:
        if isinstance(raw, bool):
            return raw
        if text is not None and text.lower() in TRUE_WORDS:
            return True
        if text is not None and text.lower() in FALSE_WORDS:
            return False
        raise _invalid(definition, _("应为“是”或“否”。"))
    if kind == Type.INT:
        if isinstance(raw, bool):
            raise _invalid(definition, _("应为整数。"))
        try:
            number = Decimal(text if text is not None else str(raw))
        except (InvalidOperation, ValueError):
            raise _invalid(definition, _("应为整数。")) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise _invalid(definition, _("应为整数。"))
        if abs(number) >= LARGEST_NUMBER:
            raise _invalid(definition, too_large(definition))
        return int(number)
    if kind in (Type.DECIMAL, Type.MONEY):
        if isinstance(raw, bool):
            raise _invalid(definition, _("应为数值。"))
        try:
            number = Decimal(text.replace(",", "") if text is not None else str(raw))
        except (InvalidOperation, ValueError):
            raise _invalid(definition, _("应为数值。")) from None
        if not number.is_finite():
            raise _invalid(definition, _("应为数值。"))
        if abs(number) >= LARGEST_NUMBER:
            raise _invalid(definition, too_large(definition))
        return number
    if kind == Type.DATE:
        if isinstance(raw, datetime.datetime):
            return raw.date()
        if isinstance(raw, datetime.date):
            return raw
        try:
            return datetime.date.fromisoformat(text or str(raw))
        except ValueError:
            raise _invalid(definition, _("应为日期（YYYY-MM-DD）。")) from None
    allowed = definition.choice_values()
    if kind == Type.SET:
        if isinstance(raw, str):
            items = [part.strip() for part in raw.replace("；", ";").replace(",", ";").split(";")]
        else:
            items = [str(item).strip() for item in raw]
        values = frozenset(item for item in items if item)
        unknown = sorted(values - set(allowed)) if allowed else []
        if unknown:
            raise _invalid(definition, _("不在可选值中：%(values)s。") % {"values": "、".join(unknown)})
        return values
    value = text if text is not None else str(raw)
    if kind == Type.ENUM and allowed and value not in allowed:
        raise _invalid(definition, _("“%(value)s”不在可选值中。") % {"value": value})
    return value


def to_json(fact_type: str, value: Any) -> Any:
    """The JSON form of a typed value (see the module docstring)."""
    if value is None:
        return None
    if fact_type in (Type.DECIMAL, Type.MONEY):
        return str(value)
    if fact_type == Type.SET:
        return sorted(value)
    if fact_type == Type.DATE:
        return value.isoformat()
    return value


def from_json(fact_type: str, stored: Any) -> Any:
    """The typed value of a JSON value written by to_json; None when it no longer fits the type."""
    if stored is None:
        return None
    try:
        if fact_type == Type.BOOL:
            return stored if isinstance(stored, bool) else None
        if fact_type == Type.INT:
            return stored if isinstance(stored, int) and not isinstance(stored, bool) else None
        if fact_type in (Type.DECIMAL, Type.MONEY):
            return None if isinstance(stored, bool) else Decimal(str(stored))
        if fact_type == Type.SET:
            return frozenset(str(item) for item in stored) if isinstance(stored, list) else None
        if fact_type == Type.DATE:
            return datetime.date.fromisoformat(stored)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return stored if isinstance(stored, str) else None
