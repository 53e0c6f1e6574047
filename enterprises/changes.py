"""What changed in enterprise data, recorded by this app's writers in the writing transaction.

Every write path — the single-row services (services.py, items.py), the bulk import
(profile_batches.save_profiles), the COPY writer (copy_write.insert_rows), the demo loader, the admin — calls
`record` (or `record_rows`) with the enterprises and the *source* that changed: one upserted
`EnterpriseChange` row per enterprise and source, however many edits. After commit the drain is
asked for by name ("matching.drain_enterprises", policies/aftercommit.py: this app does not import
matching). What a source means for the benefits (which facts it feeds, which benefits read them)
is matching's knowledge (matching/dependencies.py); the record only says what changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import models
from django.utils import timezone

from enterprises.models import (
    Enterprise,
    EnterpriseChange,
    FactValue,
    Item,
    Project,
    Recognition,
    YearlyFigure,
)
from policies import generations
from policies.aftercommit import COALESCE_SECONDS, TaskAfterCommit, after_commit_once

# Sources.
NEW = "new"  # a new enterprise: every benefit, whatever it reads
ENTERPRISE = "enterprise"  # the enterprise row itself
FACT_PREFIX = "fact:"  # a stored fact, by FactDefinition id: "fact:17"
ITEMS = "items"  # an item (project, facility…): its kind's per-item benefits
# The related tables, by the names enterprises.facts uses in DerivationGroup.reads.
TABLE_SOURCES: dict[type[models.Model], str] = {
    YearlyFigure: "figures",
    Recognition: "recognitions",
    Project: "projects",
}
RECORDED_MODELS: tuple[type[models.Model], ...] = (Enterprise, *TABLE_SOURCES, FactValue, Item)

DRAIN_ENTERPRISES = TaskAfterCommit("matching.drain_enterprises", countdown=COALESCE_SECONDS)


def source_of(row: models.Model, *, created: bool = False) -> str:
    """The source a written or deleted row records."""
    if isinstance(row, Enterprise):
        return NEW if created else ENTERPRISE
    if isinstance(row, FactValue):
        return f"{FACT_PREFIX}{row.fact_id}"
    if isinstance(row, Item):
        return ITEMS
    return TABLE_SOURCES[type(row)]


def record(enterprise_ids: Iterable[int], source: str) -> None:
    """Mark enterprises for re-evaluation of what `source` feeds (inside the writing transaction)."""
    ids = sorted({int(pk) for pk in enterprise_ids})
    if not ids:
        return
    now = timezone.now()
    EnterpriseChange.objects.bulk_create(
        [EnterpriseChange(enterprise_id=pk, source=source, marked_at=now) for pk in ids],
        # marked again: the newer time (a drain deletes only the marks it read, time included)
        update_conflicts=True,
        unique_fields=["enterprise_id", "source"],
        update_fields=["marked_at"],
        batch_size=2000,
    )
    after_commit_once(DRAIN_ENTERPRISES)


def record_rows(rows: Iterable[models.Model], *, created: bool = False) -> None:
    """Rows of RECORDED_MODELS written (or deleted): one statement per source."""
    by_source: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if isinstance(row, RECORDED_MODELS):
            by_source[source_of(row, created=created)].add(
                row.pk if isinstance(row, Enterprise) else row.enterprise_id
            )
    for source, ids in by_source.items():
        record(ids, source)


def record_dicts(model: type[models.Model], rows: Iterable[dict]) -> None:
    """Rows inserted as dicts (copy_write.insert_rows): new enterprises, or rows of their tables."""
    if model is Enterprise:
        record([row["id"] for row in rows], NEW)
    elif model is FactValue:
        by_fact: dict[int, list[int]] = defaultdict(list)
        for row in rows:
            by_fact[row["fact_id"]].append(row["enterprise_id"])
        for fact_id, ids in by_fact.items():
            record(ids, f"{FACT_PREFIX}{fact_id}")
    elif model in TABLE_SOURCES or model is Item:
        record([row["enterprise_id"] for row in rows], TABLE_SOURCES.get(model, ITEMS))


def record_deleted_enterprises(enterprise_ids: Iterable[int]) -> None:
    """Enterprises deleted (their results go with them): nothing to evaluate, but a cached page of
    their results must not be served again."""
    generations.bump_results(enterprise_ids)
