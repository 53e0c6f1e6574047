"""Writes of many profiles at once (the staff import, `profile_files.apply_import`): the rules of the
single-row services (services.py) — the same fields, validation, history, versions and change
records — in a fixed number of queries per call instead of several per row.

`clean_enterprise` is `full_clean` without a query (the catalog's values read once, `CatalogRules`);
`save_profiles` writes a batch of `ProfileWrite`s in one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from enterprises import catalog, taxonomy
from enterprises import changes as changelog
from enterprises.models import (
    Enterprise,
    FactValue,
    Project,
    Source,
    YearlyFigure,
)
from enterprises.services import (
    ENTERPRISE_FIELDS,
    FIGURE_FIELDS,
    PROJECT_FIELDS,
    _attribute,
    _check_fields,
    _concrete_field,
)
from policies.models import FactDefinition

BULK_BATCH = 500  # rows per INSERT / UPDATE statement of save_profiles
IN_BATCH = 900  # values per IN (...) list (under SQLite's oldest limit on query parameters)


@dataclass(frozen=True)
class CatalogRules:
    """The catalog values Enterprise.clean reads (two queries per call), loaded once for many rows."""

    tracks: frozenset[str] | None  # None: the catalog is not loaded
    subtracks: frozenset[str]

    @classmethod
    def load(cls) -> CatalogRules:
        tracks = catalog.catalog_choice_values("industry_tracks")
        subtracks = catalog.catalog_choice_values("industry_subtracks") or set(taxonomy.SUBTRACK_LABELS)
        return cls(tracks=None if tracks is None else frozenset(tracks), subtracks=frozenset(subtracks))


def clean_enterprise(enterprise: Enterprise, *, rules: CatalogRules, exclude: Collection[str] = ()) -> None:
    """`enterprise.full_clean(exclude=exclude, validate_unique=False)` without a query: the same field
    validators, Enterprise.clean's rules read with the catalog values of `rules`, the model's
    constraints; the same messages, the same normalisation (sorted track lists). Unique credit codes
    are the caller's to check, for many rows in one query (test_profile_files.py holds this to full_clean).
    """
    errors: dict[str, list[ValidationError]] = {}
    excluded = set(exclude)
    try:
        enterprise.clean_fields(exclude=excluded)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        enterprise.check_rules(tracks=rules.tracks, subtracks=rules.subtracks)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    excluded |= {name for name in errors if name != NON_FIELD_ERRORS}
    try:
        enterprise.validate_constraints(exclude=excluded)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


@dataclass
class ProfileWrite:
    """What save_profiles writes for one enterprise.

    `enterprise`: a new, unsaved Enterprise, or a stored one the caller read with select_for_update
    in the current transaction (the lock stands in for expected_version). `changes`: Enterprise
    fields to set. `figures`: year -> yearly figure values (fields left out stay as they are).
    `projects`: external_ref -> project values with kind and year (the project of that reference
    is updated, else created). `facts`: (code, year or None for undated) -> the value of a stored
    catalog fact, written with `fact_source` and an empty note; a blank value removes it.
    """

    enterprise: Enterprise
    changes: dict[str, Any] = field(default_factory=dict)
    figures: dict[int, dict[str, Any]] = field(default_factory=dict)
    projects: dict[str, dict[str, Any]] = field(default_factory=dict)
    facts: dict[tuple[str, int | None], Any] = field(default_factory=dict)
    fact_source: str = Source.SELF_DECLARED


@dataclass
class SavedProfiles:
    created: list[Enterprise] = field(default_factory=list)
    changed: list[Enterprise] = field(default_factory=list)  # stored, data changed: version + 1
    unchanged: list[Enterprise] = field(default_factory=list)  # stored, nothing to write


@dataclass
class _Rows:
    """Related rows of one model to write: new ones, and changed ones with the fields that changed."""

    created: list[models.Model] = field(default_factory=list)
    updated: list[models.Model] = field(default_factory=list)
    fields: set[str] = field(default_factory=set)


@transaction.atomic
def save_profiles(
    *, profiles: Sequence[ProfileWrite], actor: User | None = None, rules: CatalogRules | None = None
) -> SavedProfiles:
    """Create or update many profiles by the rules of the single-row services, in a number of queries
    that does not grow with the number of profiles.

    For each profile, what create_enterprise / update_enterprise, save_yearly_figure, add_project
    (with an external_ref) and set_fact_value would do, validated like their full_clean (without a
    query per row: clean_enterprise; new credit codes checked together; one related row per key by
    construction), all or nothing: ValidationError and nothing written. Differences, all in what is
    recorded rather than in the data:
    - a write that would store what is already stored is skipped: no history row, no change record;
    - a stored enterprise whose data changed (its fields or any related row) gets version + 1 once
      and `updated_at` now; it gets a history row of its own when its own fields changed (related
      rows bump the version without one, as save_yearly_figure & co. do); an unchanged one keeps its
      version, so that nobody editing it meanwhile gets a stale-edit error;
    - history rows are written in bulk (simple_history's bulk helpers, attributed to `actor`), then
      the changes are recorded for re-evaluation (changelog.record_rows: one statement per source,
      the records the single-row services would have written).
    """
    rules = rules or CatalogRules.load()
    now = timezone.now()
    stored = [profile.enterprise for profile in profiles if profile.enterprise.pk is not None]
    new = [profile.enterprise for profile in profiles if profile.enterprise.pk is None]
    if len({enterprise.pk for enterprise in stored}) < len(stored):
        raise ValueError("an enterprise appears twice")
    own_changes: dict[int, list[str]] = {}  # stored enterprise pk -> its fields that change
    for profile in profiles:
        enterprise = profile.enterprise
        _check_fields(profile.changes, ENTERPRISE_FIELDS)
        before = {name: getattr(enterprise, name) for name in ENTERPRISE_FIELDS}
        for name, value in profile.changes.items():
            setattr(enterprise, name, value)
        changed = [name for name in ENTERPRISE_FIELDS if getattr(enterprise, name) != before[name]]
        if enterprise.pk is None or changed:  # what is stored as it is needs no validation to stay
            clean_enterprise(enterprise, rules=rules)
            changed = [name for name in ENTERPRISE_FIELDS if getattr(enterprise, name) != before[name]]
        if enterprise.pk is not None:
            own_changes[enterprise.pk] = changed
    _check_new_credit_codes(new)
    related = _related_rows(profiles, [enterprise.pk for enterprise in stored], now)

    saved = SavedProfiles(created=new)
    updated: list[Enterprise] = []  # own fields changed: a history row each
    bumped: list[Enterprise] = []  # only related rows changed
    for enterprise in stored:
        if own_changes[enterprise.pk]:
            updated.append(enterprise)
        elif enterprise.pk in related.changed:
            bumped.append(enterprise)
        else:
            saved.unchanged.append(enterprise)
            continue
        saved.changed.append(enterprise)
        enterprise.version += 1
        enterprise.updated_at = now
    enterprise_fields = sorted({name for enterprise in updated for name in own_changes[enterprise.pk]})
    enterprise_fields += ["version", "updated_at"]

    if new:
        bulk_create_with_history(new, Enterprise, batch_size=BULK_BATCH, default_user=actor)
    if any(enterprise.pk is None for enterprise in new):  # PostgreSQL and SQLite return them
        raise RuntimeError("the database did not return the ids of the new enterprises")
    _update_with_history(Enterprise, updated, enterprise_fields, actor=actor)
    for chunk in _chunks([enterprise.pk for enterprise in bumped], IN_BATCH):
        Enterprise.objects.filter(pk__in=chunk).update(version=F("version") + 1, updated_at=now)
    for model, rows in related.rows.items():
        if rows.created:  # their enterprise (a new one has its id now) is set when they are prepared
            bulk_create_with_history(rows.created, model, batch_size=BULK_BATCH, default_user=actor)
        _update_with_history(model, rows.updated, sorted(rows.fields), actor=actor)
    for row in related.deleted:  # a blank stored fact: rare, one by one (with its history row)
        _attribute(row, actor)
        row.delete()

    # what changed, for re-evaluation: one statement per source (changes.py)
    changelog.record_rows(new, created=True)
    changelog.record_rows(updated)
    changelog.record_rows(related.deleted)
    for rows in related.rows.values():
        changelog.record_rows([*rows.created, *rows.updated])
    return saved


@dataclass
class _Related:
    rows: dict[type[models.Model], _Rows]
    deleted: list[FactValue]
    changed: set[int]  # ids of stored enterprises with a related row created, changed or deleted


def _related_rows(
    profiles: Sequence[ProfileWrite], stored_ids: list[int], now: datetime.datetime
) -> _Related:
    """The figures, projects and fact values to write, each validated, looked up among the stored
    enterprises' rows (one query per table and IN_BATCH enterprises)."""
    years = {year for profile in profiles for year in profile.figures}
    refs = {ref for profile in profiles for ref in profile.projects}
    codes = {code for profile in profiles for code, _year in profile.facts}
    fact_years = {year for profile in profiles for _code, year in profile.facts}
    definitions = {row.code: row for row in FactDefinition.objects.filter(code__in=codes)} if codes else {}
    figures = _stored_rows(YearlyFigure, stored_ids, years, ("enterprise_id", "year"), year__in=years)
    projects = _stored_rows(
        Project, stored_ids, refs, ("enterprise_id", "external_ref"), external_ref__in=refs
    )
    dated = Q(year__in=[year for year in fact_years if year is not None])
    facts = _stored_rows(
        FactValue,
        stored_ids,
        codes,
        ("enterprise_id", "fact_id", "year"),
        dated | Q(year__isnull=True) if None in fact_years else dated,
        fact_id__in=[definition.pk for definition in definitions.values()],
        valid_from__isnull=True,
    )
    related = _Related(
        rows={YearlyFigure: _Rows(), Project: _Rows(), FactValue: _Rows()}, deleted=[], changed=set()
    )

    def put(enterprise: Enterprise, row: models.Model, changed: list[str], stored: bool) -> None:
        rows = related.rows[type(row)]
        if not stored:
            rows.created.append(row)
        elif changed:
            rows.updated.append(row)
            rows.fields.update(changed)
        else:
            return
        if enterprise.pk is not None:
            related.changed.add(enterprise.pk)

    for profile in profiles:
        enterprise, pk = profile.enterprise, profile.enterprise.pk
        for year, values in profile.figures.items():
            _check_fields(values, FIGURE_FIELDS)
            figure = figures.get((pk, year))
            row = figure or YearlyFigure(enterprise=enterprise, year=year)
            put(enterprise, row, _assign(row, values, exclude=["enterprise"]), figure is not None)
        for ref, values in profile.projects.items():
            if not ref:
                raise ValueError("save_profiles updates projects by their external_ref: it can't be blank")
            _check_fields(
                {name: value for name, value in values.items() if name not in ("kind", "year")},
                PROJECT_FIELDS,
            )
            project = projects.get((pk, ref))
            row = project or Project(enterprise=enterprise, external_ref=ref)
            put(enterprise, row, _assign(row, values, exclude=["enterprise"]), project is not None)
        for (code, fact_year), value in profile.facts.items():
            definition = definitions.get(code)
            if definition is None:
                raise ValidationError(_("未知的事实代码：%(code)s。") % {"code": code}, code="unknown_fact")
            typed = catalog.coerce_fact_value(definition, value)
            fact = facts.get((pk, definition.pk, fact_year))
            if typed is None:
                if fact is not None:
                    related.deleted.append(fact)
                    related.changed.add(pk)
                continue
            row = fact or FactValue(enterprise=enterprise, fact=definition, year=fact_year)
            row.fact = definition  # read by FactValue.clean: no query
            values = {
                "value": catalog.to_json(definition.type, typed),
                "source": profile.fact_source,
                "note": "",
            }
            changed = _assign(row, values, exclude=["enterprise", "fact"])
            if fact is not None and changed:
                row.updated_at = now  # auto_now, which bulk_update does not apply
                changed.append("updated_at")
            put(enterprise, row, changed, fact is not None)
    return related


def _stored_rows(
    model: type[models.Model],
    enterprise_ids: list[int],
    wanted: Collection[Any],
    key: tuple[str, ...],
    *where: Q,
    **filters: Any,
) -> dict[tuple, Any]:
    """The stored rows of `model` of these enterprises matching the filters, by `key` (attnames);
    no query when there is nothing to look for."""
    found: dict[tuple, Any] = {}
    if not enterprise_ids or not wanted:
        return found
    for chunk in _chunks(enterprise_ids, IN_BATCH):
        for row in model._default_manager.filter(*where, enterprise_id__in=chunk, **filters).order_by():
            found[tuple(getattr(row, name) for name in key)] = row
    return found


def _assign(row: models.Model, values: Mapping[str, Any], *, exclude: list[str]) -> list[str]:
    """Set `values` on a related row and full_clean it (its foreign keys excluded: no query; the one
    row per key is the caller's); the names of the fields whose value changed."""
    compared = [
        field.attname
        for field in row._meta.concrete_fields
        if not field.primary_key and not getattr(field, "auto_now", False)
    ]
    before = {name: getattr(row, name) for name in compared}
    for name, value in values.items():
        setattr(row, name, value)
    if row.pk is not None and all(getattr(row, name) == before[name] for name in compared):
        return []  # stored as it is: nothing to validate or write
    # every constraint of these models names the enterprise, excluded: validate_constraints would only
    # build a queryset per constraint to skip it
    row.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    return [name for name in compared if getattr(row, name) != before[name]]


def _update_with_history(
    model: type[models.Model], rows: Sequence[models.Model], fields: Sequence[str], *, actor: User | None
) -> None:
    """simple_history's bulk_update_with_history, with a faster UPDATE on PostgreSQL: one
    UPDATE ... FROM (VALUES ...) per BULK_BATCH rows. bulk_update builds a CASE WHEN per row and
    field, whose Python cost was most of an update import's time (13 of 30 s for 10,000 rows in
    bench/enterprise_import.py); bulk_update elsewhere."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        bulk_update_with_history(rows, model, fields, batch_size=BULK_BATCH, default_user=actor)
        return
    quote = connection.ops.quote_name
    key = model._meta.pk
    assert key is not None  # a concrete model
    columns = [key, *(_concrete_field(model, name) for name in fields)]
    # Field.cast_db_type is Django's (the type of a CAST), missing from django-stubs
    casts = [column.cast_db_type(connection) for column in columns]  # type: ignore[attr-defined]
    values = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
    assignments = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns[1:])
    names = ", ".join(quote(column.column) for column in columns)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for chunk in _chunks(rows, BULK_BATCH):
            cursor.execute(
                f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} "
                f"FROM (VALUES {', '.join([values] * len(chunk))}) AS v ({names}) "
                f"WHERE t.{quote(key.column)} = v.{quote(key.column)}",
                [
                    column.get_db_prep_save(getattr(row, column.attname), connection)
                    for row in chunk
                    for column in columns
                ],
            )
        model.history.bulk_history_create(  # type: ignore[attr-defined]
            rows, batch_size=BULK_BATCH, update=True, default_user=actor, default_change_reason=None
        )


def _check_new_credit_codes(enterprises: list[Enterprise]) -> None:
    """The unique check full_clean makes for each new enterprise, for all of them at once."""
    codes = [enterprise.credit_code for enterprise in enterprises]
    clash = len(set(codes)) < len(codes)
    for chunk in _chunks(codes, IN_BATCH):
        clash = clash or Enterprise.objects.filter(credit_code__in=chunk).exists()
    if clash:
        message = enterprises[0].unique_error_message(Enterprise, ("credit_code",))
        raise ValidationError({"credit_code": [message]})


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
