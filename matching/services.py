"""Writes of the matching app. Keyword-only, typed, atomic.

Both entry points store verdicts the same way (storage.store): a result is written only when its
fingerprint (facts read, benefit version, validity, engine version) differs from the stored one,
and a MatchChange is recorded when a stored result's status or amount changes.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from enterprises.facts import facts_table
from enterprises.models import Enterprise
from matching import selectors
from matching.engine import BenefitSpec, FactColumns, TableVerdicts, Verdict, evaluate_table, facts_read
from matching.engine.spec import IN_FORCE, validity_on
from matching.models import JobRun, MatchResult
from matching.storage import Written, store
from policies.models import Benefit


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


@transaction.atomic
def evaluate_enterprise(*, enterprise_id: int, as_of: dt.date, cause: str = "manual") -> list[Verdict]:
    """Explain every benefit in force for one enterprise and store what changed (the results of
    benefits out of force are removed). Returns the verdicts of the benefits in force."""
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    specs = selectors.benefit_specs()
    validity = {spec.benefit_id: validity_on(spec, as_of) for spec in specs}
    in_force = [spec for spec in specs if validity[spec.benefit_id] == IN_FORCE]
    verdicts = selectors.verdicts_for(enterprise, as_of, specs=in_force)
    out_of_force = {pk: reason for pk, reason in validity.items() if reason != IN_FORCE}
    store(
        [TableVerdicts.of_verdict(v) for v in verdicts],
        [enterprise_id],
        out_of_force,
        as_of=as_of,
        cause=cause,
    )
    return verdicts


@dataclass(frozen=True)
class _Plan:
    """What every chunk of a bulk run needs (inherited by forked workers)."""

    in_force: list[BenefitSpec]
    out_of_force: dict[int, str]
    codes: list[str]
    catalog: dict
    as_of: dt.date
    cause: str


def evaluate_benefits(
    *,
    as_of: dt.date,
    benefit_ids: list[int] | None = None,
    enterprise_ids: list[int] | None = None,
    chunk_size: int = 5000,
    jobs: int = 1,
    cause: str = "bulk",
    progress: Callable[[int], None] | None = None,
) -> MatchRun:
    """Evaluate benefits (default: all) for enterprises (default: all) set-wise.

    One chunk of enterprises per transaction: facts_table once, evaluate_table per benefit, then
    storage.store. With jobs > 1 (PostgreSQL, outside a transaction) chunks run in that many
    forked processes.
    """
    specs = selectors.benefit_specs(benefit_ids)
    catalog = selectors.catalog()
    validity = {spec.benefit_id: validity_on(spec, as_of) for spec in specs}
    in_force = [spec for spec in specs if validity[spec.benefit_id] == IN_FORCE]
    out_of_force = {pk: reason for pk, reason in validity.items() if reason != IN_FORCE}
    # only benefits that left force since they were stored have rows to remove (usually none)
    stale = Benefit.objects.filter(pk__in=list(out_of_force)).filter(
        Exists(MatchResult.objects.filter(benefit_id=OuterRef("pk")))
    )
    plan = _Plan(
        in_force=in_force,
        out_of_force={pk: out_of_force[pk] for pk in stale.values_list("pk", flat=True)},
        codes=facts_read(in_force, catalog),
        catalog=catalog,
        as_of=as_of,
        cause=cause,
    )
    enterprises = Enterprise.objects.order_by("pk")
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=enterprise_ids)
    ids = list(enterprises.values_list("pk", flat=True))
    chunks = [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]
    run = MatchRun(enterprises=len(ids), benefits=len(specs))
    job = JobRun.objects.create(kind="match", worker=f"{socket.gethostname()}:{cause}")
    try:
        for done, written in _run_chunks(plan, chunks, jobs):
            run.evaluated += done * len(in_force)
            run.written += written.written
            run.removed += written.removed
            run.changes += written.changes
            if progress is not None:
                progress(done)
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
    if connection.vendor == "postgresql" and run.written > 10_000:
        with connection.cursor() as cursor:  # fresh statistics, or the planner may misjudge the next reads
            cursor.execute("ANALYZE matching_matchresult")
    return run


_PLAN: _Plan | None = None  # the plan of the current parallel run, inherited by forked workers


def _run_chunks(plan: _Plan, chunks: list[list[int]], jobs: int) -> Iterator[tuple[int, Written]]:
    global _PLAN
    parallel = jobs > 1 and len(chunks) > 1 and connection.vendor == "postgresql"
    if not parallel or connection.in_atomic_block:  # workers could not see uncommitted rows
        for chunk in chunks:
            yield _evaluate_chunk(plan, chunk)
        return
    connections.close_all()  # forked workers must open their own connections
    _PLAN = plan
    try:
        with multiprocessing.get_context("fork").Pool(jobs, initializer=connections.close_all) as pool:
            yield from pool.imap_unordered(_evaluate_chunk_in_worker, chunks)
    finally:
        _PLAN = None


def _evaluate_chunk_in_worker(chunk: list[int]) -> tuple[int, Written]:
    return _evaluate_chunk(_PLAN, chunk)


@transaction.atomic
def _evaluate_chunk(plan: _Plan, chunk: list[int]) -> tuple[int, Written]:
    table = facts_table(Enterprise.objects.filter(pk__in=chunk), plan.as_of, plan.codes)
    columns = FactColumns(table.columns, len(table.enterprise_ids), plan.catalog)
    evaluated = [evaluate_table(spec, columns, plan.as_of) for spec in plan.in_force]
    written = store(evaluated, table.enterprise_ids, plan.out_of_force, as_of=plan.as_of, cause=plan.cause)
    return len(table.enterprise_ids), written


def evaluate_benefit_for_all(
    *,
    benefit_id: int,
    as_of: dt.date,
    chunk_size: int = 5000,
    jobs: int = 1,
    cause: str = "benefit_changed",
    progress: Callable[[int], None] | None = None,
) -> MatchRun:
    return evaluate_benefits(
        as_of=as_of,
        benefit_ids=[benefit_id],
        chunk_size=chunk_size,
        jobs=jobs,
        cause=cause,
        progress=progress,
    )
