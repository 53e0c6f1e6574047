"""What changed in policy data, recorded by this app's services in the writing transaction.

A benefit, clause, document or catalog fact saved (policies/services.py: the admin, the loader and
every other writer go through it) upserts one `PolicyChange` per kind and key and bumps the
`policy` validator counter (generations.py); after commit the drain is asked for by name
("matching.drain_policies": matching maps the rows to the benefits to re-evaluate). A deleted row
only bumps the counter: its results go with it (cascade), there is nothing to re-evaluate.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from policies import generations
from policies.aftercommit import COALESCE_SECONDS, TaskAfterCommit, after_commit_once
from policies.models import Benefit, Clause, FactDefinition, PolicyChange, PolicyDocument

DRAIN_POLICIES = TaskAfterCommit("matching.drain_policies", countdown=COALESCE_SECONDS)
POLICY = "policy"  # the validator scope of everything below

KINDS: dict[type[models.Model], str] = {
    Benefit: PolicyChange.Kind.BENEFIT,
    Clause: PolicyChange.Kind.CLAUSE,
    PolicyDocument: PolicyChange.Kind.DOCUMENT,
    FactDefinition: PolicyChange.Kind.FACT,
}


def record(kind: str, key: str | int) -> None:
    """Mark a policy row (benefit, clause, document by id, catalog fact by code) for re-evaluation."""
    PolicyChange.objects.bulk_create(
        [PolicyChange(kind=kind, key=str(key), marked_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["kind", "key"],
        update_fields=["marked_at"],
    )
    generations.bump([POLICY])
    after_commit_once(DRAIN_POLICIES)


def record_saved(instance: models.Model) -> None:
    """`instance` was written (created or changed): record it if results may read it."""
    kind = KINDS.get(type(instance))
    if kind is not None:
        record(kind, instance.code if isinstance(instance, FactDefinition) else instance.pk)


def record_deleted(instance: models.Model) -> None:
    if type(instance) in KINDS:
        bump_policy()


def bump_policy() -> None:
    """Policy data shown in pages changed without anything to re-evaluate (a region renamed, a row
    deleted): only the validators move."""
    generations.bump([POLICY])
