"""How fact values and profile rows read to people, in the reader's language: the fact-type registry
(policies.facttypes.value_text: money in 万元 or yuan by policies.money, sets as labels, None as 未知)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from enterprises.taxonomy import subtrack_labels
from policies import facttypes
from policies.conditions import choice_label
from policies.i18n import display_lang
from policies.money import wan


def display_value(definition: Any, value: Any) -> str:
    """A fact value in words: the fact-type registry's value_text (policies.facttypes), except the
    sub-tracks, whose labels are the taxonomy's rather than the catalog's choices."""
    if definition.code == "industry_subtracks" and value:
        labels = subtrack_labels()
        return (", " if display_lang() == "en" else "、").join(
            sorted(labels.get(item, item) for item in value)
        )
    return facttypes.value_text(definition, value)


# ---------------------------------------------------------------- rows of the profile's related tables


def _money_parts(row: Any, names: tuple[str, ...]) -> list[str]:
    model = type(row)._meta
    parts = []
    for name in names:
        value = getattr(row, name)
        if value is not None:
            label = str(model.get_field(name).verbose_name).replace("（元）", "").replace(" (yuan)", "")
            parts.append(f"{label} {wan(value)}")
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
    text = f"{definition.label}：{display_value(definition, facttypes.from_json(definition.type, row.value))}"
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
        value = facttypes.from_json(definition.type, (item.values or {}).get(code))
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
