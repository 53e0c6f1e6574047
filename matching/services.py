"""Writes of the matching app: evaluating and storing results. Keyword-only, typed, atomic.

Every entry point stores verdicts the same way (storage.store): a result is written only when its
fingerprint (facts read, benefit version, validity, engine version) differs from the stored one,
and a MatchChange is recorded when a stored result's status or amount changes. Background jobs
(jobs.py) call the same functions chunk by chunk.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from enterprises import source_hashes
from enterprises.facts import facts_table
from enterprises.models import Enterprise
from matching import selectors
from matching.engine import (
    BenefitSpec,
    FactColumns,
    TableVerdicts,
    Verdict,
    evaluate_table,
    explain,
    input_digests,
)
from matching.engine.conditions import CompiledCondition
from matching.engine.fingerprint import hash64, mix64, plan_signature
from matching.engine.spec import IN_FORCE, validity_on
from matching.models import JobRun
from matching.storage import (
    STORED_TABLES,
    StoredDigests,
    Written,
    benefits_with_results,
    store,
    write_digests,
)


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
    broken: dict[int, str] = field(default_factory=dict)  # benefits skipped: their rule does not compile


def lock_enterprises(
    *,
    enterprise_ids: list[int] | QuerySet | None = None,
    first_id: int | None = None,
    last_id: int | None = None,
    skip_locked: bool = False,
    limit: int | None = None,
) -> list[int]:
    """Lock the rows of the enterprises about to be evaluated until the transaction ends; returns
    the ids of those that exist (and, with `skip_locked`, are not being edited or evaluated), in order,
    at most `limit` of them.

    Every evaluation holds these locks from reading the facts to storing the results, and every
    enterprise write locks its row first (enterprises.services): an edit commits either before the
    facts are read or after the results are stored (and then marks the enterprise again), so stale
    results never overwrite fresh ones and two evaluations of one enterprise never record the same
    change twice. FOR NO KEY UPDATE does not block inserting related rows. SQLite has one writer at
    a time and needs no row locks.
    """
    enterprises = Enterprise.objects.order_by("pk")
    if isinstance(enterprise_ids, list | tuple) and _consecutive(enterprise_ids):
        # a chunk of consecutive ids (the usual one) as a range: the same rows, planned far faster
        enterprises = enterprises.filter(pk__gte=enterprise_ids[0], pk__lte=enterprise_ids[-1])
    elif enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=enterprise_ids)
    if first_id is not None:
        enterprises = enterprises.filter(pk__gte=first_id)
    if last_id is not None:
        enterprises = enterprises.filter(pk__lte=last_id)
    if connection.features.has_select_for_update:
        enterprises = enterprises.select_for_update(no_key=True, skip_locked=skip_locked)
    return list(enterprises.values_list("pk", flat=True)[:limit])


def _consecutive(ids: Sequence[int]) -> bool:
    """Whether `ids` is exactly first, first + 1, …, last (then a range selects the same rows)."""
    return bool(ids) and ids[-1] - ids[0] + 1 == len(ids) and all(b - a == 1 for a, b in pairwise(ids))


@transaction.atomic
def evaluate_enterprise(*, enterprise_id: int, as_of: dt.date, cause: str = "manual") -> list[Verdict]:
    """Explain every benefit in force for one enterprise and store what changed (the results of
    benefits out of force are removed). Returns the verdicts of the benefits in force."""
    enterprises = Enterprise.objects.all()
    if connection.features.has_select_for_update:  # locked as lock_enterprises does, in the same query
        enterprises = enterprises.select_for_update(no_key=True)
    enterprise = enterprises.get(pk=enterprise_id)
    policies = selectors.policy_set()
    validity = {spec.benefit_id: validity_on(spec, as_of) for spec in policies.specs}
    in_force = [spec for spec in policies.specs if validity[spec.benefit_id] == IN_FORCE]
    verdicts = selectors.verdicts_for(enterprise, as_of, specs=in_force, policies=policies)
    # the specs are read from the database: every spec has its row (pk)
    out_of_force = {pk: reason for pk, reason in validity.items() if reason != IN_FORCE and pk is not None}
    store(
        [TableVerdicts.of_verdict(v) for v in verdicts],
        [enterprise_id],
        out_of_force,
        as_of=as_of,
        cause=cause,
    )
    return verdicts


@dataclass(frozen=True)
class Plan:
    """What evaluating some benefits on a date needs, for any chunk of enterprises (inherited by
    forked workers)."""

    benefits: int  # how many benefits were asked for
    in_force: list[BenefitSpec]
    out_of_force: dict[int, str]  # benefit id -> reason, only for benefits with stored results
    codes: list[str]  # the facts the benefits in force read
    catalog: dict
    as_of: dt.date
    cause: str
    broken: dict[int, str]  # benefits left out: their rule does not compile against the catalog
    compiled: Mapping[int, CompiledCondition] = field(default_factory=dict)  # benefit id -> condition
    regions: Mapping[tuple[str, str], str] | None = None  # enterprises.facts.region_codes()
    # every benefit in force (not some): plan_signature, from which chunks take input digests
    signature: int | None = None
    # the same, with what turns rows into facts (policy data, date, code): for source hashes (PostgreSQL)
    source_signature: int | None = None


def plan_evaluation(*, as_of: dt.date, benefit_ids: list[int] | None = None, cause: str) -> Plan:
    """Benefits (default: all) split by their validity on `as_of`."""
    policies = selectors.policy_set()  # read and compiled once per process while unchanged
    specs = policies.select(benefit_ids)
    validity = {spec.benefit_id: validity_on(spec, as_of) for spec in specs}
    in_force, broken = policies.usable([spec for spec in specs if validity[spec.benefit_id] == IN_FORCE])
    signature = plan_signature(in_force, IN_FORCE, policies.regions) if benefit_ids is None else None
    out_of_force = {pk: reason for pk, reason in validity.items() if reason != IN_FORCE}
    # only benefits that left force since they were stored have rows to remove (usually none)
    stale = benefits_with_results([pk for pk in out_of_force if pk is not None])
    return Plan(
        benefits=len(specs),
        in_force=in_force,
        out_of_force={pk: out_of_force[pk] for pk in sorted(stale)},
        codes=policies.facts_read(in_force),
        catalog=policies.catalog,
        as_of=as_of,
        cause=cause,
        broken=broken,
        compiled={spec.row_id: policies.compiled[spec.row_id] for spec in in_force},
        regions=policies.regions,
        signature=signature,
        source_signature=_source_signature(signature, policies.version, as_of),
    )


def _source_signature(signature: int | None, policy_version: str | None, as_of: dt.date) -> int | None:
    """What a source hash means for this plan: the rows give the same facts only with the same policy
    data (catalog, formulas, regions: selectors.policy_version), date and deriving code."""
    if signature is None or policy_version is None or not source_hashes.available():
        return None
    return hash64(f"{signature}|{policy_version}|{as_of.isoformat()}|{source_hashes.code_text()}")


def evaluate_locked(plan: Plan, enterprise_ids: list[int]) -> Written:
    """Evaluate and store one chunk of enterprises (ordered ids) whose rows the caller locked in
    the current transaction (lock_enterprises): facts_table once, evaluate_table per benefit."""
    if not enterprise_ids:
        return Written()
    if len(enterprise_ids) == 1:
        return _evaluate_one_locked(plan, enterprise_ids[0])
    # A full run skips what is as last stored, in two steps: the rows the facts come from (source
    # hashes, computed by PostgreSQL: not even the facts are read), then the facts (input digests:
    # not evaluated). An enterprise whose rows changed but not its facts gets its new source hash.
    sources = None
    if plan.source_signature is not None:
        enterprise_ids, sources = _rows_changed(plan.source_signature, enterprise_ids)
        if not enterprise_ids:
            return Written()
    # ids: a chunk is read as an id range; the catalog and region codes are the plan's (no query)
    table = facts_table(enterprise_ids, plan.as_of, plan.codes, catalog=plan.catalog, regions=plan.regions)
    columns = FactColumns(table.columns, len(table.enterprise_ids), plan.catalog, table.items)
    ids = np.asarray(table.enterprise_ids, dtype=np.int64)
    if sources is not None:  # the same enterprises but those deleted meanwhile, by id
        sources = sources[np.searchsorted(np.asarray(enterprise_ids, dtype=np.int64), ids)]
    digests = None
    if plan.signature is not None:
        digests = input_digests(columns, plan.codes, plan.signature)
        same = StoredDigests.read(ids).same_digest(digests)
        if sources is not None and same.any():
            write_digests(ids=ids[same], digests=digests[same], sources=sources[same])
        fresh = np.flatnonzero(~same)
        if not len(fresh):
            return Written()
    evaluated = [
        evaluate_table(spec, columns, plan.as_of, plan.compiled.get(spec.row_id)) for spec in plan.in_force
    ]
    if digests is not None and len(fresh) < len(ids):
        ids, digests = ids[fresh], digests[fresh]
        sources = None if sources is None else sources[fresh]
        evaluated = [result.take(fresh) for result in evaluated]
    return store(
        evaluated,
        ids,
        plan.out_of_force,
        as_of=plan.as_of,
        cause=plan.cause,
        digests=digests,
        sources=sources,
    )


def _rows_changed(signature: int, enterprise_ids: list[int]) -> tuple[list[int], np.ndarray]:
    """Those of the enterprises whose source hash (with the plan's source signature) differs from
    the stored one, and their new hashes."""
    found = source_hashes.source_hashes(enterprise_ids)
    hashes = mix64(found[:, 1].view(np.uint64) ^ np.uint64(signature)).view(np.int64)
    moved = ~StoredDigests.read(found[:, 0]).same_source(hashes)
    return found[moved, 0].tolist(), hashes[moved]


def _evaluate_one_locked(plan: Plan, enterprise_id: int) -> Written:
    """evaluate_locked of one enterprise (a save's drain): the plan's facts read as for a chunk,
    then explained, as evaluate_enterprise does, instead of numpy over a single row (which costs
    more than it saves). The two paths give the same status, score, amount, leaf outcomes and
    fingerprint (matching/tests/test_two_paths_db.py), so the stored rows are the same whichever
    path wrote them."""
    table = facts_table([enterprise_id], plan.as_of, plan.codes, catalog=plan.catalog, regions=plan.regions)
    if not table.enterprise_ids:
        return Written()
    values = {code: column[0] for code, column in table.columns.items()}
    items = {kind: rows.sheets_of(0) for kind, rows in table.items.items()}
    verdicts = [
        explain(
            spec,
            values,
            as_of=plan.as_of,
            catalog=plan.catalog,
            items=items.get(spec.per_item or "", []),
            compiled=plan.compiled.get(spec.row_id),
        )
        for spec in plan.in_force
    ]
    return store(
        [TableVerdicts.of_verdict(v) for v in verdicts],
        table.enterprise_ids,
        plan.out_of_force,
        as_of=plan.as_of,
        cause=plan.cause,
    )


# A restarting database, a dropped connection, a deadlock: worth retrying the whole task later.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class Failure:
    """An enterprise the engine could not evaluate (a poison input), and why."""

    enterprise_id: int
    error: str


def evaluate_isolating(plan: Plan, enterprise_ids: list[int]) -> tuple[Written, list[Failure]]:
    """evaluate_locked, except that an enterprise whose data the engine rejects is left out and
    reported instead of failing its whole chunk: a failing set is split in halves, each in a
    savepoint, down to the enterprises that fail alone. Transient errors are raised (retry)."""
    try:
        with transaction.atomic():
            return evaluate_locked(plan, enterprise_ids), []
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - anything else is this data's fault: isolate it
        if len(enterprise_ids) == 1:
            return Written(), [Failure(enterprise_ids[0], f"{exc.__class__.__name__}: {exc}"[:1000])]
    middle = len(enterprise_ids) // 2
    total, failures = Written(), []
    for half in (enterprise_ids[:middle], enterprise_ids[middle:]):
        written, failed = evaluate_isolating(plan, half)
        total.add(written)
        failures += failed
    return total, failures


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
    """Evaluate benefits (default: all) for enterprises (default: all) set-wise, in this process.

    One chunk of enterprises per transaction (locked, facts_table once, evaluate_table per benefit,
    storage.store). With jobs > 1 (PostgreSQL, outside a transaction) chunks run in that many
    forked processes. Background jobs use jobs.schedule_job instead (chunks as Celery tasks).
    """
    plan = plan_evaluation(as_of=as_of, benefit_ids=benefit_ids, cause=cause)
    enterprises = Enterprise.objects.order_by("pk")
    if enterprise_ids is not None:
        enterprises = enterprises.filter(pk__in=enterprise_ids)
    ids = list(enterprises.values_list("pk", flat=True))
    chunks = [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]
    run = MatchRun(enterprises=len(ids), benefits=plan.benefits, broken=plan.broken)
    job = JobRun.objects.create(kind="match", total=len(ids), worker=f"{socket.gethostname()}:{cause}")
    try:
        for done, written in _run_chunks(plan, chunks, jobs):
            run.evaluated += done * len(plan.in_force)
            run.written += written.written
            run.removed += written.removed
            run.changes += written.changes
            JobRun.objects.filter(pk=job.pk).update(items=F("items") + done)
            if progress is not None:
                progress(done)
    except Exception as exc:
        JobRun.objects.filter(pk=job.pk).update(
            status=JobRun.Status.FAILED, finished_at=timezone.now(), error=repr(exc)[:2000]
        )
        raise
    JobRun.objects.filter(pk=job.pk).update(
        status=JobRun.Status.FAILED if plan.broken else JobRun.Status.SUCCEEDED,
        finished_at=timezone.now(),
        failures=len(plan.broken),
        error="\n".join(plan.broken.values())[:20000],
    )
    if run.written > 10_000:
        analyze_results()
    return run


def analyze_results(*, tables: Sequence[str] = STORED_TABLES) -> None:
    """Fresh planner statistics after a large write (default: of every table a run writes), or the
    next reads may be misjudged: a cap edit's filter of the out-of-scope records by key took 82 s at
    1,000,000 on a table never analyzed, 60 s once it was (bench/README.md)."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


_PLAN: Plan | None = None  # the plan of the current parallel run, inherited by forked workers


def _run_chunks(plan: Plan, chunks: list[list[int]], jobs: int) -> Iterator[tuple[int, Written]]:
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
    assert _PLAN is not None  # set by _run_chunks before the workers fork
    return _evaluate_chunk(_PLAN, chunk)


@transaction.atomic
def _evaluate_chunk(plan: Plan, chunk: list[int]) -> tuple[int, Written]:
    ids = lock_enterprises(enterprise_ids=chunk)
    return len(ids), evaluate_locked(plan, ids)


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
