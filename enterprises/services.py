"""Writes to enterprise data: keyword-only, atomic, validated with full_clean, attributed to a user.

Every write to one enterprise's profile checks the profile version the writer saw
(`expected_version`) and increments it: a stale edit or a double submission gets a clear error
and nothing is written. Resubmitting exactly what is already stored is accepted as a no-op.

The bulk counterpart for many profiles at once (the staff import) is profile_batches.save_profiles:
the same rules in a fixed number of queries per call.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from enterprises import catalog
from enterprises import changes as changelog
from enterprises.models import (
    Enterprise,
    EnterpriseMembership,
    FactValue,
    Project,
    Recognition,
    Source,
    YearlyFigure,
)
from policies.models import FactDefinition

ENTERPRISE_FIELDS = (
    "name",
    "credit_code",
    "district",
    "town",
    "address",
    "registered_region",
    "operating_region",
    "registered_on",
    "legal_form",
    "industry_code",
    "industry_tracks",
    "industry_subtracks",
    "scale",
    "is_foreign_invested",
    "above_scale",
    "above_scale_since",
    "listing_exchange",
    "listed_on",
    "recognitions_declared",
    "projects_declared",
    "source",
)
FIGURE_FIELDS = ("output_value", "revenue", "rd_expense", "employees", "tax_paid", "source")
RECOGNITION_FIELDS = ("level", "certificate_no", "first_time", "grade", "source")
PROJECT_FIELDS = tuple(
    field.name
    for field in Project._meta.concrete_fields
    if field.name not in {"id", "enterprise", "kind", "year", "external_ref"}
)


class StaleEditError(ValidationError):
    """The profile changed since the writer loaded it."""

    def __init__(self) -> None:
        super().__init__(
            _("企业资料已被他人修改（或本次提交已处理过），请刷新页面后重新编辑。本次修改未保存。"),
            code="stale",
        )


def _check_fields(values: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(unknown)}")


def _attribute(instance: Any, actor: User | None) -> None:
    if actor is not None:
        instance._history_user = actor


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The field `name` of `model` (a relation's reverse side or a generic key is no field of its own)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise FieldDoesNotExist(f"{model.__name__}.{name} is not a field of its own")
    return field


def _already_stored(enterprise: Enterprise, changes: Mapping[str, Any]) -> bool:
    try:
        return all(
            _concrete_field(Enterprise, name).to_python(value) == getattr(enterprise, name)
            for name, value in changes.items()
        )
    except ValidationError:
        return False


def _lock(enterprise_id: int, expected_version: int | None) -> Enterprise:
    """The enterprise row, locked for this transaction; StaleEditError when its version moved on."""
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    if expected_version is not None and enterprise.version != expected_version:
        raise StaleEditError()
    return enterprise


def _bump_version(enterprise: Enterprise) -> None:
    Enterprise.objects.filter(pk=enterprise.pk).update(version=F("version") + 1)
    enterprise.version += 1


@transaction.atomic
def create_enterprise(
    *,
    data: Mapping[str, Any],
    actor: User | None = None,
    verification: str = Enterprise.Verification.VERIFIED,
) -> Enterprise:
    """A new enterprise; staff-created ones are verified, a self-registration passes PENDING."""
    _check_fields(data, ENTERPRISE_FIELDS)
    enterprise = Enterprise(**data, verification=verification)
    enterprise.full_clean()
    _attribute(enterprise, actor)
    enterprise.save()
    changelog.record([enterprise.pk], changelog.NEW)
    return enterprise


@transaction.atomic
def update_enterprise(
    *, enterprise_id: int, expected_version: int, changes: Mapping[str, Any], actor: User | None = None
) -> Enterprise:
    _check_fields(changes, ENTERPRISE_FIELDS)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    if enterprise.version != expected_version:
        if _already_stored(enterprise, changes):
            return enterprise  # the same edit submitted twice: nothing to do
        raise StaleEditError()
    for name, value in changes.items():
        setattr(enterprise, name, value)
    enterprise.full_clean()
    enterprise.version += 1
    _attribute(enterprise, actor)
    enterprise.save()
    changelog.record([enterprise.pk], changelog.ENTERPRISE)
    return enterprise


@transaction.atomic
def save_yearly_figure(
    *,
    enterprise_id: int,
    year: int,
    values: Mapping[str, Any],
    expected_version: int | None = None,
    actor: User | None = None,
) -> YearlyFigure:
    """Create or replace the figures of one year (fields left out stay as they are)."""
    _check_fields(values, FIGURE_FIELDS)
    enterprise = _lock(enterprise_id, expected_version)
    figure = YearlyFigure.objects.filter(enterprise=enterprise, year=year).first() or YearlyFigure(
        enterprise=enterprise, year=year
    )
    for name, value in values.items():
        setattr(figure, name, value)
    figure.full_clean()
    _attribute(figure, actor)
    figure.save()
    changelog.record_rows([figure])
    _bump_version(enterprise)
    return figure


@transaction.atomic
def add_recognition(
    *,
    enterprise_id: int,
    kind: str,
    year: int,
    values: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    actor: User | None = None,
) -> Recognition:
    values = values or {}
    _check_fields(values, RECOGNITION_FIELDS)
    enterprise = _lock(enterprise_id, expected_version)
    recognition = Recognition(enterprise=enterprise, kind=kind, year=year, **values)
    recognition.full_clean()
    _attribute(recognition, actor)
    recognition.save()
    changelog.record_rows([recognition])
    _bump_version(enterprise)
    return recognition


@transaction.atomic
def add_project(
    *,
    enterprise_id: int,
    kind: str,
    year: int,
    values: Mapping[str, Any] | None = None,
    external_ref: str = "",
    expected_version: int | None = None,
    actor: User | None = None,
) -> Project:
    """Add a project; with an external_ref (import, demo) the project of that reference is updated instead."""
    values = values or {}
    _check_fields(values, PROJECT_FIELDS)
    enterprise = _lock(enterprise_id, expected_version)
    project = None
    if external_ref:
        project = Project.objects.filter(enterprise=enterprise, external_ref=external_ref).first()
    project = project or Project(enterprise=enterprise, external_ref=external_ref)
    project.kind, project.year = kind, year
    for name, value in values.items():
        setattr(project, name, value)
    project.full_clean()
    _attribute(project, actor)
    project.save()
    changelog.record_rows([project])
    _bump_version(enterprise)
    return project


@transaction.atomic
def delete_related(
    *,
    enterprise_id: int,
    instance: Recognition | Project | YearlyFigure | FactValue,
    expected_version: int | None = None,
    actor: User | None = None,
) -> None:
    """Delete one row of the profile (history keeps it)."""
    enterprise = _lock(enterprise_id, expected_version)
    if instance.enterprise_id != enterprise.pk:
        raise ValueError("the row belongs to another enterprise")
    _attribute(instance, actor)
    changelog.record_rows([instance])
    instance.delete()
    _bump_version(enterprise)


@transaction.atomic
def set_fact_value(
    *,
    enterprise_id: int,
    code: str,
    value: Any,
    year: int | None = None,
    valid_from: datetime.date | None = None,
    source: str = Source.SELF_DECLARED,
    note: str = "",
    expected_version: int | None = None,
    actor: User | None = None,
    declaration: bool = False,
) -> FactValue | None:
    """Store the value of a stored catalog fact; a blank value removes it (back to unknown).

    `declaration`: the enterprise's own answer for a builtin fact, used until the data it is derived
    from is entered (only the self-check registration writes these; facts.py lets derived values win)."""
    definition = FactDefinition.objects.filter(code=code).first()
    if definition is None:
        raise ValidationError(_("未知的事实代码：%(code)s。") % {"code": code}, code="unknown_fact")
    if definition.derived != FactDefinition.Derivation.STORED and not declaration:
        raise ValidationError(
            {"fact": _("“%(label)s”由系统根据企业数据计算，不能直接填写。") % {"label": definition.label}}
        )
    typed = catalog.coerce_fact_value(definition, value)
    enterprise = _lock(enterprise_id, expected_version)
    existing = FactValue.objects.filter(
        enterprise=enterprise, fact=definition, year=year, valid_from=None if year is not None else valid_from
    ).first()
    if typed is None:
        if existing is not None:
            _attribute(existing, actor)
            changelog.record_rows([existing])
            existing.delete()
            _bump_version(enterprise)
        return None
    row = existing or FactValue(enterprise=enterprise, fact=definition, year=year, valid_from=valid_from)
    row.value = catalog.to_json(definition.type, typed)
    row.source = source
    row.note = note
    row.full_clean()
    _attribute(row, actor)
    row.save()
    changelog.record_rows([row])
    _bump_version(enterprise)
    return row


@transaction.atomic
def link_user(
    *, user: User, enterprise_id: int, role: str = EnterpriseMembership.Role.ADMIN, actor: User | None = None
) -> EnterpriseMembership:
    """Make `user` act for the enterprise (a user belongs to one enterprise at most)."""
    membership = EnterpriseMembership.objects.filter(user=user).first() or EnterpriseMembership(user=user)
    membership.enterprise_id = enterprise_id
    membership.role = role
    membership.full_clean()
    _attribute(membership, actor)
    membership.save()
    return membership


# ---------------------------------------------------------------- many profiles at once (the import)
