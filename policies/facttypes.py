"""The fact-type registry, once: how a value of each catalog type (bool, int, decimal, money, str, enum,
set, date, region) is parsed from what a person or a file gives, validated against the catalog entry,
normalised for the engine, stored as JSON, worded for people and labelled. Every reader and writer of
fact values (policies, enterprises, the engine, forms, imports and exports, the API, the templates,
the self-check) goes through these names; nothing else parses or serialises a fact value.

Python value types by fact type (binding for matching): bool -> bool; int -> int; decimal/money ->
Decimal (money in yuan, see policies.money); str/enum/region -> str; set -> frozenset[str];
date -> datetime.date. None means unknown (never 0 or "").
In JSON (FactValue.value, item values, self-check answers, the API): bool, int, decimal as a string
("1234.5"), str, set as a sorted list, date as "YYYY-MM-DD".

  parse_fact_value(info, raw)   person / file input -> typed value (ValidationError naming the fact)
  to_json(type, value)          typed value -> JSON        from_json(type, stored)   JSON -> typed value
  normalize(kind_of(info), v)   any typed or JSON value -> the engine's comparable value (rules.values)
  value_text(info, value)       the value in words, in the reader's language (rules.render)
  label(info)                   the fact's name in the reader's language (rules.render)
  form_value / BOOL_CHOICES     a stored value as a form field shows it (money in 万元)
  parse_bool / parse_number / parse_date   the words and formats accepted for a bool, a number and
                                a date, shared with the importer's register columns
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from policies import money
from policies.rules.render import label, value_text
from policies.rules.values import FACT_TYPES, FactInfo, Kind, choice_values, kind_of, normalize

__all__ = [
    "BOOL_CHOICES",
    "FACT_TYPES",
    "FALSE_WORDS",
    "LARGEST_NUMBER",
    "TRUE_WORDS",
    "Kind",
    "coerce_fact_value",
    "form_value",
    "from_json",
    "kind_of",
    "label",
    "normalize",
    "parse_bool",
    "parse_date",
    "parse_fact_value",
    "parse_number",
    "to_json",
    "too_large",
    "value_text",
]

BOOL, INT, DECIMAL, MONEY, DATE, SET, ENUM = "bool", "int", "decimal", "money", "date", "set", "enum"
TRUE_WORDS = {"true", "1", "yes", "y", "是", "有", "√"}
FALSE_WORDS = {"false", "0", "no", "n", "否", "无", "×"}
# A bool asked in a form: "" unknown, "true", "false" (form_value gives the stored value this way).
BOOL_CHOICES = [("", gettext_lazy("不清楚")), ("true", gettext_lazy("是")), ("false", gettext_lazy("否"))]


# --- the accepted words and formats ---------------------------------------------------------------------


def parse_bool(raw: Any) -> bool | None:
    """True / False for a bool or one of TRUE_WORDS / FALSE_WORDS (any case); None when it is neither."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_number(raw: Any) -> Decimal | None:
    """A finite Decimal for a number or numeric text ("1,200.5", "1，200"); None when it is none
    (booleans are not numbers)."""
    if isinstance(raw, bool):
        return None
    text = raw.strip().replace(",", "").replace("，", "") if isinstance(raw, str) else str(raw)
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def parse_date(raw: Any) -> datetime.date | None:
    """A date for a date, a datetime or "YYYY-MM-DD" ("YYYY/MM/DD" too); None when it is none."""
    if isinstance(raw, datetime.datetime):
        return raw.date()
    if isinstance(raw, datetime.date):
        return raw
    try:
        return datetime.date.fromisoformat(str(raw).strip().replace("/", "-"))
    except ValueError:
        return None


# The largest amount a money column holds (16 digits, 2 of them decimals): 100 万亿元. Every number a
# person types is bounded by it, so 1e30 万元 is refused with a message instead of failing a write.
LARGEST_NUMBER = Decimal(10) ** 14


def too_large(definition: FactInfo) -> str:
    if definition.type == MONEY:
        return _("金额过大，应小于 100 万亿元（10000000000 万元）。")
    return _("数值过大，应小于 100000000000000。")


def _invalid(definition: FactInfo, message: str) -> ValidationError:
    return ValidationError(
        _("“%(label)s”：%(message)s")
        % {"label": label(definition), "code": definition.code, "message": message},
        code="invalid_fact_value",
    )


def parse_fact_value(definition: FactInfo, raw: Any) -> Any:
    """A typed Python value for `definition` from user input (Python values or text); None for blank.

    Raises ValidationError naming the fact when the input does not fit its type or choices.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    kind = definition.type
    text = raw.strip() if isinstance(raw, str) else None
    if kind == BOOL:
        value = parse_bool(raw)
        if value is None:
            raise _invalid(definition, _("应为“是”或“否”。"))
        return value
    if kind == INT:
        number = parse_number(raw)
        if number is None or number != number.to_integral_value():
            raise _invalid(definition, _("应为整数。"))
        if abs(number) >= LARGEST_NUMBER:
            raise _invalid(definition, too_large(definition))
        return int(number)
    if kind in (DECIMAL, MONEY):
        number = parse_number(raw)
        if number is None:
            raise _invalid(definition, _("应为数值。"))
        if abs(number) >= LARGEST_NUMBER:
            raise _invalid(definition, too_large(definition))
        return number
    if kind == DATE:
        day = parse_date(raw)
        if day is None:
            raise _invalid(definition, _("应为日期（YYYY-MM-DD）。"))
        return day
    allowed = choice_values(definition)
    if kind == SET:
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
    if kind == ENUM and allowed and value not in allowed:
        raise _invalid(definition, _("“%(value)s”不在可选值中。") % {"value": value})
    return value


coerce_fact_value = parse_fact_value  # the name the enterprises app has always called


def to_json(fact_type: str, value: Any) -> Any:
    """The JSON form of a typed value (see the module docstring)."""
    if value is None:
        return None
    if fact_type in (DECIMAL, MONEY):
        return str(value)
    if fact_type == SET:
        return sorted(value)
    if fact_type == DATE:
        return value.isoformat()
    return value


def from_json(fact_type: str, stored: Any) -> Any:
    """The typed value of a JSON value written by to_json; None when it no longer fits the type."""
    if stored is None:
        return None
    try:
        if fact_type == BOOL:
            return stored if isinstance(stored, bool) else None
        if fact_type == INT:
            return stored if isinstance(stored, int) and not isinstance(stored, bool) else None
        if fact_type in (DECIMAL, MONEY):
            return None if isinstance(stored, bool) else Decimal(str(stored))
        if fact_type == SET:
            return frozenset(str(item) for item in stored) if isinstance(stored, list) else None
        if fact_type == DATE:
            return datetime.date.fromisoformat(stored)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return stored if isinstance(stored, str) else None


def form_value(definition: FactInfo, stored: Any) -> Any:
    """A stored JSON value as a form field asks it: money in 万元 ("1000"), a bool as "true"/"false"
    (BOOL_CHOICES), a set as its list, anything else as text; None (unknown) stays None."""
    if stored is None:
        return None
    if definition.type == MONEY:
        return money.wan_input(stored)
    if isinstance(stored, bool):
        return "true" if stored else "false"
    return stored if isinstance(stored, list) else str(stored)
