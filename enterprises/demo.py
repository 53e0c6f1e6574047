"""Load fixtures/demo/enterprises.yaml: upsert by credit code, all-or-nothing, idempotent.

Rows are saved only when something changed, so loading twice writes nothing (and adds no history).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from enterprises import catalog, changes
from enterprises.models import Enterprise, FactValue, Item, Project, Recognition, YearlyFigure
from enterprises.services import ENTERPRISE_FIELDS
from policies.models import FactDefinition

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo" / "enterprises.yaml"
DEMO_USER = ("enterprise", "enterprise-demo-2026")
IGNORED_KEYS = {"edge"}


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    first: Enterprise | None = None


def _typed(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """YAML numbers into Decimals for decimal fields (through str: 99999999.99 stays exact)."""
    typed = {}
    for name, value in values.items():
        field = model._meta.get_field(name)
        if isinstance(field, models.DecimalField) and value is not None:
            value = Decimal(str(value))
        typed[name] = value
    return typed


def _upsert(instance: models.Model, values: dict[str, Any]) -> bool:
    """Apply values; validate and save when new or changed. Returns whether it wrote."""
    changed = instance._state.adding
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    if changed:
        created = instance._state.adding
        instance.full_clean()
        instance.save()
        changes.record_rows([instance], created=created)  # re-evaluated like any other write
    return changed


def _load_entry(entry: dict[str, Any], facts: dict[str, FactDefinition]) -> tuple[Enterprise, bool, bool]:
    entry = {key: value for key, value in entry.items() if key not in IGNORED_KEYS}
    related = {key: entry.pop(key, []) for key in ("figures", "recognitions", "projects", "facts", "items")}
    unknown = set(entry) - set(ENTERPRISE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown keys: {', '.join(sorted(unknown))}")
    enterprise = Enterprise.objects.filter(credit_code=entry["credit_code"]).first()
    created = enterprise is None
    enterprise = enterprise or Enterprise()
    values = {**{name: Enterprise._meta.get_field(name).get_default() for name in ENTERPRISE_FIELDS}, **entry}
    for name in ("industry_tracks", "industry_subtracks"):
        values[name] = sorted(set(values[name] or []))
    wrote = _upsert(enterprise, _typed(Enterprise, values))

    for row in related["figures"]:
        row = _typed(YearlyFigure, dict(row))
        year = row.pop("year")
        figure = YearlyFigure.objects.filter(enterprise=enterprise, year=year).first()
        wrote |= _upsert(figure or YearlyFigure(enterprise=enterprise, year=year), row)
    for row in related["recognitions"]:
        row = dict(row)
        kind, year = row.pop("kind"), row.pop("year")
        recognition = Recognition.objects.filter(enterprise=enterprise, kind=kind, year=year).first()
        wrote |= _upsert(recognition or Recognition(enterprise=enterprise, kind=kind, year=year), row)
    for row in related["projects"]:
        row = dict(row)
        reference = f"demo:{row.pop('ref')}"
        project = Project.objects.filter(enterprise=enterprise, external_ref=reference).first()
        wrote |= _upsert(
            project or Project(enterprise=enterprise, external_ref=reference), _typed(Project, row)
        )
    for row in related["facts"]:
        definition = facts.get(row["code"])
        if definition is None:
            raise ValidationError(f"fact {row['code']!r} is not in the catalog (run load_policies first)")
        year, valid_from = row.get("year"), row.get("valid_from")
        value = catalog.to_json(definition.type, catalog.coerce_fact_value(definition, row["value"]))
        stored = FactValue.objects.filter(
            enterprise=enterprise, fact=definition, year=year, valid_from=valid_from
        ).first()
        wrote |= _upsert(
            stored or FactValue(enterprise=enterprise, fact=definition, year=year, valid_from=valid_from),
            {"value": value, "source": row.get("source", "self_declared"), "note": row.get("note", "")},
        )
    for row in related["items"]:
        wrote |= _upsert_item(enterprise, dict(row), facts)
    if wrote and not created:
        Enterprise.objects.filter(pk=enterprise.pk).update(version=models.F("version") + 1)
    return enterprise, created, wrote


def _upsert_item(enterprise: Enterprise, row: dict[str, Any], facts: dict[str, FactDefinition]) -> bool:
    """One item ({ref, kind, title, values: {fact code: value}, source}), upserted by its demo reference;
    its values are typed and stored as the catalog's item facts of its kind."""
    reference, kind = f"demo:{row.pop('ref')}", row.pop("kind")
    values = {}
    for code, raw in (row.pop("values", None) or {}).items():
        definition = facts.get(code)
        if definition is None or definition.item_kind != kind:
            raise ValidationError(f"item {reference}: {code!r} is not a fact of item kind {kind!r}")
        values[code] = catalog.to_json(definition.type, catalog.coerce_fact_value(definition, raw))
    item = Item.objects.filter(enterprise=enterprise, external_ref=reference).first()
    return _upsert(
        item or Item(enterprise=enterprise, external_ref=reference),
        {
            "kind": kind,
            "title": row.pop("title"),
            "values": values,
            "source": row.pop("source", "self_declared"),
        },
    )


@transaction.atomic
def load_demo_file(path: Path = DEMO_FILE) -> LoadReport:
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    facts = {row.code: row for row in FactDefinition.objects.all()}
    if "recognitions" not in facts or "industry_tracks" not in facts:
        raise ValidationError("the fact catalog is not loaded: run `manage.py load_policies` first")
    report = LoadReport()
    for number, entry in enumerate(entries, start=1):
        try:
            enterprise, created, wrote = _load_entry(entry, facts)
        except ValidationError as error:
            name = entry.get("name", "?")
            raise ValidationError(
                f"{path.name} 第{number}家企业（{name}）：{'; '.join(error.messages)}"
            ) from error
        report.first = report.first or enterprise
        if created:
            report.created += 1
        elif wrote:
            report.updated += 1
        else:
            report.unchanged += 1
    return report
