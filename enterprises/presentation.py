"""How fact values read to people, in the reader's language: money in 万元 (yuan in English), sets as
labels, None as 未知."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from enterprises.catalog import from_json
from enterprises.taxonomy import subtrack_labels
from policies.conditions import choice_label, display_lang, format_money_en, unit_text

TEN_THOUSAND = Decimal(10_000)


def wan_yuan(amount: Decimal) -> str:
    """1234567 -> "123.4567万元" (trailing zeros dropped); in English "1.234567 million yuan"."""
    if display_lang() == "en":
        return format_money_en(amount)
    text = f"{(Decimal(amount) / TEN_THOUSAND):f}"  # exact: stored amounts and limits are compared
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}万元"


def display_value(definition: Any, value: Any) -> str:
    if value is None:
        return _("未知")
    labels = {
        choice["value"]: choice_label(definition, choice["value"]) for choice in definition.choices or []
    }
    if definition.code == "industry_subtracks":
        labels = subtrack_labels()
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if definition.type == "money":
        return wan_yuan(value)
    if isinstance(value, frozenset):
        separator = ", " if display_lang() == "en" else "、"
        return separator.join(sorted(labels.get(item, item) for item in value)) if value else _("无")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = labels.get(value, str(value)) if isinstance(value, str) else f"{value}"
    unit = unit_text(definition.unit)
    return f"{text} {unit}".strip() if unit and definition.type != "money" else text


# ---------------------------------------------------------------- rows of the profile's related tables


def _money_parts(row: Any, names: tuple[str, ...]) -> list[str]:
    model = type(row)._meta
    parts = []
    for name in names:
        value = getattr(row, name)
        if value is not None:
            label = str(model.get_field(name).verbose_name).replace("（元）", "").replace(" (yuan)", "")
            parts.append(f"{label} {wan_yuan(value)}")
    return parts


FIGURE_MONEY = ("output_value", "revenue", "rd_expense", "tax_paid")
PROJECT_MONEY = (
    "total_investment",
    "new_equipment_investment",
    "municipal_funding_granted",
    "rent_total",
    "contract_amount",
    "cost",
    "interest_paid",
    "guarantee_fee_paid",
)


def row_text(table: str, row: Any, catalog: dict) -> str:
    """One row of a profile table as people read it: labels for every code, money in 万元."""
    separator = " · "
    if table == "figures":
        parts = _money_parts(row, FIGURE_MONEY)
        if row.employees is not None:
            parts.append(_("从业人员 %(n)s 人") % {"n": row.employees})
        return _("%(year)s 年") % {"year": row.year} + "：" + (separator.join(parts) or _("未填写"))
    if table == "recognitions":
        definition = catalog.get("recognitions")
        parts = [str(row.year), choice_label(definition, row.kind) if definition else row.kind]
        parts += [row.get_level_display(), row.get_grade_display()]
        if row.first_time:
            parts.append(_("首次获得"))
        return separator.join(part for part in parts if part)
    if table == "projects":
        parts = [str(row.year), row.get_kind_display(), row.title]
        if row.area_m2 is not None:
            parts.append(_("面积 %(area)s 平方米") % {"area": f"{row.area_m2.normalize():f}"})
        parts += _money_parts(row, PROJECT_MONEY)
        return separator.join(part for part in parts if part)
    definition = row.fact
    text = f"{definition.label}：{display_value(definition, from_json(definition.type, row.value))}"
    if row.year:
        text += _("（%(year)s 年度）") % {"year": row.year}
    if row.valid_from:
        text += _("（自 %(date)s 起）") % {"date": row.valid_from.isoformat()}
    return text


# ---------------------------------------------------------------- items (projects, facilities, …)


def item_values(item: Any, facts: dict) -> list[dict[str, str]]:
    """The known values of an item in its facts' order: label and display (money in 万元, with units)."""
    rows = []
    for code, definition in facts.items():
        value = from_json(definition.type, (item.values or {}).get(code))
        if value is not None:
            rows.append(
                {"code": code, "label": definition.label, "display": display_value(definition, value)}
            )
    return rows


def item_text(item: Any, kind_label: str, facts: dict) -> str:
    """One item as a line people read: kind, title and its known values."""
    parts = [f"{kind_label}：{item.title}"]
    parts += [f"{row['label']} {row['display']}" for row in item_values(item, facts)]
    return " · ".join(parts)
