"""Writes of the matching app. Keyword-only, typed, atomic.

Both entry points store verdicts the same way (`_store`): a result is written only when its
fingerprint (facts read, benefit version, validity, engine version) differs from the stored one,
and a MatchChange is recorded when a stored result's status or amount changes.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from enterprises.facts import facts_table
from enterprises.models import Enterprise
from matching import selectors
from matching.engine import (
    ENGINE_VERSION,
    Amount,
    BenefitSpec,
    FactColumns,
    TableVerdicts,
    Verdict,
    evaluate_table,
)
from matching.engine.conditions import compile_condition
from matching.engine.spec import IN_FORCE, validity_on
from matching.engine.verdict import input_codes
from matching.models import JobRun, MatchChange, MatchResult, MatchStatus

RESULT_FIELDS = [
    "status", "score", "amount", "amount_basis", "leaf_outcomes", "fingerprint",
    "benefit_version", "engine_version", "as_of", "evaluated_at",
]  # fmt: skip
WRITE_BATCH = 2000


@transaction.atomic
def record_ping(*, source: str) -> JobRun:
    """A trivial job proving a worker can reach the database (used by /healthz tests and set-up)."""
    return JobRun.objects.create(
        kind="ping",
        status=JobRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        items=1,
        worker=f"{socket.gethostname()}:{source}",
    )


@dataclass
class MatchRun:
    """What an evaluation did."""

    enterprises: int = 0
    benefits: int = 0
    evaluated: int = 0  # (enterprise, benefit) pairs evaluated
    written: int = 0  # results inserted or rewritten (fingerprint changed)
    removed: int = 0  # results deleted because their benefit is not in force
    changes: int = 0  # MatchChange rows recorded


@dataclass
class _Evaluated:
    """One benefit's verdicts for the enterprises of a chunk, in the chunk's order."""

    spec: BenefitSpec
    statuses: Sequence[str]
    scores: Sequence[int]
    amounts: Sequence[Amount]
    leaf_outcomes: Sequence[str]
    fingerprints: np.ndarray

    @classmethod
    def from_table(cls, table: TableVerdicts) -> _Evaluated:
        return cls(
            table.spec,
            table.status_slugs(),
            table.score.tolist(),
            table.amounts,
            table.leaf_outcomes,
            table.fingerprints,
        )

    @classmethod
    def from_verdict(cls, verdict: Verdict) -> _Evaluated:
        return cls(
            verdict.spec,
            [verdict.status.slug],
            [verdict.score],
            [verdict.amount],
            [verdict.leaf_outcomes],
            np.array([verdict.fingerprint], dtype=np.int64),
        )


@transaction.atomic
def evaluate_enterprise(*, enterprise_id: int, as_of: dt.date, cause: str = "manual") -> list[Verdict]:
    """Explain every benefit for one enterprise and store what changed; returns the verdicts."""
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    verdicts = selectors.verdicts_for(enterprise, as_of)
    in_force = [_Evaluated.from_verdict(v) for v in verdicts if v.validity == IN_FORCE]
    out_of_force = {v.spec.benefit_id: v.validity for v in verdicts if v.validity != IN_FORCE}
    _store(in_force, [enterprise_id], out_of_force, as_of=as_of, cause=cause, run=MatchRun())
    return verdicts


def evaluate_benefits(
    *,
    as_of: dt.date,
    benefit_ids: list[int] | None = None,
    enterprise_ids: list[int] | None = None,
    chunk_size: int = 5000,
    cause: str = "bulk",
    progress: Callable[[int], None] | None = None,
) -> MatchRun:
    """Evaluate benefits (default: all) for enterprises (default: all) set-wise, one chunk of
    enterprises per transaction: facts_table once per chunk, evaluate_table per benefit."""
    specs = selectors.benefit_specs(benefit_ids)
    catalog = selectors.catalog()
    validity = {spec.benefit_id: validity_on(spec, as_of) for spec in specs}
    in_force = [spec for spec in specs if validity[spec.benefit_id] == IN_FORCE]
    out_of_force = {pk: reason for pk, reason in validity.items() if reason != IN_FORCE}
    codes = sorted(
        {
            code
            for spec in in_force
            for code in input_codes(spec, compile_condition(spec.condition, catalog), catalog)
        }
    )
    enterprises = Enterprise.objects.order_by("pk")
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=enterprise_ids)
    ids = list(enterprises.values_list("pk", flat=True))
    run = MatchRun(enterprises=len(ids), benefits=len(specs))
    job = JobRun.objects.create(kind="match", worker=f"{socket.gethostname()}:{cause}")
    try:
        for start in range(0, len(ids), chunk_size):
            chunk = ids[start : start + chunk_size]
            with transaction.atomic():
                table = facts_table(Enterprise.objects.filter(pk__in=chunk), as_of, codes)
                columns = FactColumns(table.columns, len(table.enterprise_ids), catalog)
                evaluated = [_Evaluated.from_table(evaluate_table(spec, columns, as_of)) for spec in in_force]
                _store(evaluated, table.enterprise_ids, out_of_force, as_of=as_of, cause=cause, run=run)
            if progress is not None:
                progress(len(chunk))
    except Exception as exc:
        JobRun.objects.filter(pk=job.pk).update(
            status=JobRun.Status.FAILED,
            finished_at=timezone.now(),
            items=run.evaluated,
            error=repr(exc)[:2000],
        )
        raise
    JobRun.objects.filter(pk=job.pk).update(
        status=JobRun.Status.SUCCEEDED, finished_at=timezone.now(), items=run.evaluated
    )
    return run


def evaluate_benefit_for_all(
    *, benefit_id: int, as_of: dt.date, chunk_size: int = 5000, cause: str = "benefit_changed", progress=None
) -> MatchRun:
    return evaluate_benefits(
        as_of=as_of, benefit_ids=[benefit_id], chunk_size=chunk_size, cause=cause, progress=progress
    )


def _store(
    evaluated: list[_Evaluated],
    enterprise_ids: Sequence[int],
    out_of_force: dict[int, str],
    *,
    as_of: dt.date,
    cause: str,
    run: MatchRun,
) -> None:
    """Write the results whose fingerprint changed, delete those of benefits not in force, record changes."""
    ids = list(enterprise_ids)
    existing = {
        (enterprise, benefit): (pk, fingerprint)
        for pk, enterprise, benefit, fingerprint in MatchResult.objects.filter(
            enterprise_id__in=ids, benefit_id__in=[e.spec.benefit_id for e in evaluated]
        ).values_list("pk", "enterprise_id", "benefit_id", "fingerprint")
    }
    now = timezone.now()
    to_write: list[MatchResult] = []
    rewritten: dict[int, MatchResult] = {}  # pk of the stored row -> its replacement
    for result in evaluated:
        benefit_id = result.spec.benefit_id
        stored = [existing.get((enterprise, benefit_id)) for enterprise in ids]
        present = np.fromiter((row is not None for row in stored), dtype=bool, count=len(ids))
        old = np.fromiter((row[1] if row else 0 for row in stored), dtype=np.int64, count=len(ids))
        for i in np.flatnonzero(~present | (old != result.fingerprints)).tolist():
            amount = result.amounts[i]
            row = MatchResult(
                enterprise_id=ids[i],
                benefit_id=benefit_id,
                status=result.statuses[i],
                score=result.scores[i],
                amount=amount.value,
                amount_basis=amount.basis.value,
                leaf_outcomes=result.leaf_outcomes[i],
                fingerprint=int(result.fingerprints[i]),
                benefit_version=result.spec.version,
                engine_version=ENGINE_VERSION,
                as_of=as_of,
                evaluated_at=now,
            )
            to_write.append(row)
            if stored[i] is not None:
                rewritten[stored[i][0]] = row
    run.evaluated += len(ids) * len(evaluated)

    changes: list[MatchChange] = []
    for pk, status, amount in _previous(list(rewritten)):
        new = rewritten[pk]
        if status != new.status or _differs(amount, new.amount):
            changes.append(
                _change(
                    new.enterprise_id, new.benefit_id, status, amount, new.status, new.amount, cause, as_of
                )
            )
    stale = MatchResult.objects.filter(enterprise_id__in=ids, benefit_id__in=list(out_of_force))
    for enterprise, benefit, status, amount in stale.values_list(
        "enterprise_id", "benefit_id", "status", "amount"
    ):
        reason = f"{cause}: {out_of_force[benefit]}"
        changes.append(
            _change(enterprise, benefit, status, amount, MatchStatus.NOT_IN_FORCE, None, reason, as_of)
        )
    run.removed += stale.delete()[0]

    MatchResult.objects.bulk_create(
        to_write,
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["enterprise", "benefit"],
        update_fields=RESULT_FIELDS,
    )
    MatchChange.objects.bulk_create(changes, batch_size=WRITE_BATCH)
    run.written += len(to_write)
    run.changes += len(changes)


def _previous(pks: list[int]) -> list[tuple[int, str, Decimal | None]]:
    rows: list[tuple[int, str, Decimal | None]] = []
    for start in range(0, len(pks), 10_000):
        batch = pks[start : start + 10_000]
        rows += MatchResult.objects.filter(pk__in=batch).values_list("pk", "status", "amount")
    return rows


def _differs(old: Decimal | None, new: Decimal | None) -> bool:
    return (old is None) != (new is None) or (old is not None and old != new)


def _change(
    enterprise_id, benefit_id, old_status, old_amount, new_status, new_amount, cause, as_of
) -> MatchChange:
    return MatchChange(
        enterprise_id=enterprise_id,
        benefit_id=benefit_id,
        old_status=old_status,
        old_amount=old_amount,
        new_status=new_status,
        new_amount=new_amount,
        cause=cause[:200],
        as_of=as_of,
    )
