"""Writes to policy data. Every save validates (full_clean), skips rows whose content did not change
(so an idempotent reload writes no history), records why in the history (change reason), and
records what changed for re-evaluation and HTTP validators (changes.py), in the same transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from policies import amount_rules, changes
from policies.models import (
    Benefit,
    Clause,
    ExclusionGroup,
    FactDefinition,
    Heading,
    ItemKind,
    PolicyDocument,
    Region,
)
from policies.rules import NUMERIC_TYPES, fact_codes, lint

CREATED, UPDATED, UNCHANGED = "created", "updated", "unchanged"

# Derived or bookkeeping fields: never a reason to write a row.
_NOT_COMPARED = {"id", "version", "fact_codes"}


def _field_values(instance: models.Model) -> dict:
    values = {}
    for field in instance._meta.concrete_fields:
        if field.name in _NOT_COMPARED:
            continue
        value = field.value_from_object(instance)
        # "1000", 1000 and Decimal("1000.00") are one amount; compare them as the database stores them.
        values[field.name] = field.to_python(value) if value is not None else None
    return values


def _give_reason(instance: Any, reason: str) -> None:
    """The reason simple_history records for the next version of `instance` (any model with history;
    it reads an attribute the model does not declare)."""
    instance._change_reason = reason


def _save(instance: models.Model, *, reason: str) -> str:
    """Validate and write `instance` unless the database already holds exactly these values."""
    stored = type(instance)._default_manager.filter(pk=instance.pk).first() if instance.pk else None
    if stored is not None and _comparable(stored) == _comparable(instance):
        return UNCHANGED
    instance.full_clean()
    _give_reason(instance, reason)
    instance.save()
    changes.record_saved(instance)  # what matching re-evaluates, and the `policy` validator
    return CREATED if stored is None else UPDATED


def _comparable(instance: models.Model) -> dict:
    values = _field_values(instance)
    if isinstance(instance, Benefit):
        values.update(instance.content())
        values["fact_codes"] = instance.fact_codes
    return values


@transaction.atomic
def save_fact_definition(*, fact: FactDefinition, reason: str = "") -> str:
    """Save a catalog entry; refuse a change that would break the conditions already reading it."""
    problems = conditions_broken_by(fact)
    if problems:
        raise ValidationError({"type": problems})
    return _save(fact, reason=reason)


def conditions_broken_by(fact: FactDefinition) -> list[str]:
    """What would stop validating if `fact` (edited, unsaved) replaced the stored definition."""
    from policies.selectors import benefits_reading_fact, catalog

    stored = FactDefinition.objects.filter(pk=fact.pk).first() if fact.pk else None
    if stored is None:
        return []
    readers = benefits_reading_fact(stored.code)
    if stored.code != fact.code and readers:
        return [_("已有扶持项目使用 %(code)s，不能改代码") % {"code": stored.code}]
    facts = {**catalog(), fact.code: fact}
    problems = []
    for benefit in readers:
        errors = lint(benefit.condition, facts)
        if benefit.base_fact == fact.code and fact.type not in NUMERIC_TYPES:
            errors.append(_("计算基数 %(code)s 必须是数值事实") % {"code": fact.code})
        problems += [f"{benefit.global_key}: {error}" for error in errors]
    return problems


@transaction.atomic
def save_document(*, document: PolicyDocument, reason: str = "") -> str:
    return _save(document, reason=reason)


@transaction.atomic
def save_heading(*, heading: Heading, reason: str = "") -> str:
    return _save(heading, reason=reason)


@transaction.atomic
def save_clause(*, clause: Clause, reason: str = "") -> str:
    return _save(clause, reason=reason)


@transaction.atomic
def save_item_kind(*, kind: ItemKind, reason: str = "") -> str:
    return _save(kind, reason=reason)


@transaction.atomic
def save_exclusion_group(*, group: ExclusionGroup, reason: str = "") -> str:
    return _save(group, reason=reason)


@transaction.atomic
def save_region(*, region: Region, values: dict) -> str:
    """Create or update one region of the tree; unchanged values write nothing."""
    if region.pk and all(getattr(region, name) == value for name, value in values.items()):
        return UNCHANGED
    created = region.pk is None
    for name, value in values.items():
        setattr(region, name, value)
    region.full_clean()
    region.save()
    # region names show in the reasons (their wording): cached pages are revalidated; no result changes
    changes.bump_policy()
    return CREATED if created else UPDATED


@transaction.atomic
def save_benefit(*, benefit: Benefit, reason: str = "") -> str:
    """Save a benefit; its version moves by one whenever its content (amounts, conditions, …) changes."""
    rule = _parsed_rule(benefit)
    benefit.fact_codes = sorted(
        fact_codes(benefit.condition)
        | ({benefit.base_fact} if benefit.base_fact else set())
        | (rule.fact_codes if rule is not None else set())
    )
    stored = Benefit.objects.filter(pk=benefit.pk).first() if benefit.pk else None
    if stored is not None:
        benefit.version = stored.version + (1 if stored.content() != benefit.content() else 0)
    return _save(benefit, reason=reason)


@transaction.atomic
def delete_object(*, instance: models.Model, reason: str = "") -> None:
    """Delete a row; its history (with `reason`) keeps what it said.

    Rows other apps still point at (e.g. a benefit with applications) are refused with a clear
    error instead of a ProtectedError: the text can be superseded, but the audit trail stays whole.
    """
    _give_reason(instance, reason)
    try:
        instance.delete()
    except ProtectedError as exc:
        kinds = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        raise ValidationError(
            _("无法删除 %(obj)s：仍被 %(kinds)s 引用。")
            % {"obj": instance, "kinds": "、".join(map(str, kinds))}
        ) from exc
    changes.record_deleted(instance)


def _parsed_rule(benefit: Benefit) -> amount_rules.AmountRuleSpec | None:
    """The benefit's amount rule, or None when it has none or it is malformed (full_clean reports that)."""
    try:
        return amount_rules.parse(benefit.amount_rule)
    except ValueError:
        return None
