"""Background re-evaluation (the writes behind tasks.py): draining marked changes, chunked jobs over
every enterprise, the daily calendar job, the staff re-run, and the periodic sweep.

Exactly once in effect: a chunk's results, its change records and its `done` state commit in one
transaction, so a worker killed mid-chunk leaves nothing behind and the redelivered task redoes the
chunk; a redelivered task for a done chunk does nothing. Enterprise drains delete the marks they
evaluated in the same transaction as the results.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from enterprises import changes as enterprise_changes
from enterprises.models import Enterprise, EnterpriseChange, FactValue
from matching import dependencies, notifications, selectors, services, storage
from matching.engine.spec import IN_FORCE, validity_key, validity_on
from matching.models import (
    JobChunk,
    JobRun,
    MatchChange,
    WebhookDelivery,
    WorkerHeartbeat,
)
from matching.services import Failure
from matching.storage import Written
from policies import changes as policy_changes
from policies.aftercommit import send
from policies.models import Benefit, PolicyChange

CHUNK_SIZE = 2000  # enterprises per chunk task of a job over every enterprise
DRAIN_BATCH = 1000  # enterprises per transaction of an enterprise drain
REPUBLISH_AFTER = dt.timedelta(minutes=15)  # a chunk still pending this long after publishing is sent again
# A chunk a worker started (attempts > 0) whose row lock nobody holds any more (its worker died: the
# lock goes with the connection) is sent again by the next minute's tick, once this long after its
# last publication; at most CRASH_RETRIES times this way, then only every REPUBLISH_AFTER.
CRASHED_AFTER = dt.timedelta(seconds=30)
CRASH_RETRIES = 5
SWEEP_AFTER = dt.timedelta(minutes=1)  # marks older than this get a drain even if their enqueue was lost
KEEP_RECORDS = dt.timedelta(days=90)  # finished job records and delivered webhooks are kept this long
Cause = MatchChange.Cause


def today() -> dt.date:
    """The evaluation date: today in Asia/Shanghai. MATCHING_TODAY=YYYY-MM-DD pins it (tests, demos)."""
    pinned = os.environ.get("MATCHING_TODAY", "")
    return dt.date.fromisoformat(pinned) if pinned else timezone.localdate()


def _pause_inside_chunk() -> None:
    """Tests only: MATCHING_TEST_CHUNK_DELAY seconds inside each chunk's transaction, so that a test
    can kill a worker in the middle of one."""
    delay = float(os.environ.get("MATCHING_TEST_CHUNK_DELAY", "0") or 0)
    if delay:
        time.sleep(delay)


def _worker(label: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{label}"


def _failure_lines(failures: list[Failure], broken: dict[int, str]) -> str:
    lines = [f"扶持项目 {pk}: {error}" for pk, error in broken.items()]
    lines += [f"企业 {failure.enterprise_id}: {failure.error}" for failure in failures]
    return "\n".join(lines)


# ---------------------------------------------------------------- enterprise data changed


@dataclass
class DrainResult:
    enterprises: int = 0  # evaluated
    failures: int = 0
    written: Written = field(default_factory=Written)
    more: bool = False  # marks remain: drain again


def drain_enterprise_changes(*, as_of: dt.date | None = None, batch: int | None = None) -> DrainResult:
    """Evaluate up to `batch` marked enterprises, each only for the benefits reading what changed,
    and remove their marks, in one transaction."""
    as_of = as_of or today()
    result = DrainResult()
    with transaction.atomic():
        # marks of deleted enterprises go; concurrent drains take different enterprises
        EnterpriseChange.objects.filter(
            ~Exists(Enterprise.objects.filter(pk=OuterRef("enterprise_id")))
        ).delete()
        locked = services.lock_enterprises(
            enterprise_ids=EnterpriseChange.objects.values("enterprise_id"),
            skip_locked=True,
            limit=batch or DRAIN_BATCH,
        )
        if not locked:
            result.more = EnterpriseChange.objects.exists()  # all being edited right now
            return result
        # read the marks after locking: every enterprise write marks while holding the row lock
        marks = list(
            EnterpriseChange.objects.filter(enterprise_id__in=locked).values_list(
                "pk", "enterprise_id", "source", "marked_at"
            )
        )
        groups = _group_by_benefits(marks, set(locked))
        if groups:
            _evaluate_groups(groups, as_of, result)
        _delete_marks_read(marks)  # a mark re-made meanwhile (by a write that did not lock) stays
        if result.written.changes:
            notifications.changes_recorded()
    result.more = EnterpriseChange.objects.exists()
    return result


def _evaluate_groups(
    groups: dict[frozenset[int] | None, list[int]], as_of: dt.date, result: DrainResult
) -> None:
    enterprises = sum(map(len, groups.values()))
    job = JobRun.objects.create(
        kind="enterprise_data",
        total=enterprises,
        params={"as_of": as_of.isoformat(), "cause": Cause.ENTERPRISE_DATA},
        worker=_worker("drain"),
    )
    failures: list[Failure] = []
    broken: dict[int, str] = {}
    benefits: dict[int, int] = {}  # enterprise -> benefits in force evaluated, for the job record
    for benefit_ids, ids in groups.items():
        plan = services.plan_evaluation(
            as_of=as_of,
            benefit_ids=None if benefit_ids is None else sorted(benefit_ids),
            cause=Cause.ENTERPRISE_DATA,
        )
        written, failed = services.evaluate_isolating(plan, sorted(ids))
        result.written.add(written)
        failures += failed
        broken.update(plan.broken)
        benefits.update(dict.fromkeys(ids, len(plan.in_force)))
    job.params["benefits_per_enterprise"] = {str(pk): n for pk, n in sorted(benefits.items())[:100]}
    result.enterprises, result.failures = enterprises, len(failures)
    _finish(job, items=enterprises, failures=failures, broken=broken)


def _delete_marks_read(marks: list[tuple]) -> None:
    """Delete the marks whose (id, marked_at) are still those read."""
    table = EnterpriseChange._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(marks), 1000):
            part = marks[start : start + 1000]
            pairs = ", ".join(["(%s, %s)"] * len(part))
            params = [
                value
                for pk, _enterprise, _source, marked_at in part
                for value in (pk, connection.ops.adapt_datetimefield_value(marked_at))
            ]
            cursor.execute(f"DELETE FROM {table} WHERE (id, marked_at) IN (VALUES {pairs})", params)


def _group_by_benefits(marks: list[tuple], locked: set[int]) -> dict[frozenset[int] | None, list[int]]:
    """Locked enterprises grouped by the benefits their marks ask to re-evaluate (None: every one);
    an enterprise whose change no benefit reads is not evaluated."""
    sources: dict[int, set[str]] = defaultdict(set)
    for _pk, enterprise_id, source, _marked_at in marks:
        if enterprise_id in locked:
            sources[enterprise_id].add(source)
    if not sources:
        return {}
    policies = selectors.policy_set()  # kept per process while the policy data is unchanged
    index = policies.index
    fact_codes = {fact.pk: code for code, fact in policies.catalog.items()}
    groups: dict[frozenset[int] | None, list[int]] = defaultdict(list)
    for enterprise_id, changed in sources.items():
        codes = [dependencies.codes_fed_by(source, fact_codes) for source in changed]
        if any(c is None for c in codes):
            groups[None].append(enterprise_id)
            continue
        benefit_ids = index.reading(frozenset().union(*codes))
        if benefit_ids:
            groups[benefit_ids].append(enterprise_id)
    return groups


# ---------------------------------------------------------------- policy changed


def drain_policy_changes(*, as_of: dt.date | None = None, chunk_size: int | None = None) -> JobRun | None:
    """Turn marked policy rows into one chunked job over every enterprise for the benefits they
    touch; the marks go in the transaction that creates the job."""
    as_of = as_of or today()
    with transaction.atomic():
        marks = list(
            PolicyChange.objects.select_for_update(skip_locked=True).values_list("pk", "kind", "key")
        )
        if not marks:
            return None
        benefit_ids = _benefits_touched(marks)
        job = None
        if benefit_ids:
            job = schedule_job(
                kind="policy",
                as_of=as_of,
                benefit_ids=sorted(benefit_ids),
                cause=Cause.POLICY,
                chunk_size=chunk_size,
            )
        PolicyChange.objects.filter(pk__in=[pk for pk, _kind, _key in marks]).delete()
    return job


def _benefits_touched(marks: list[tuple]) -> set[int]:
    keys: dict[str, list[str]] = defaultdict(list)
    for _pk, kind, key in marks:
        keys[kind].append(key)
    touched = Q(pk__in=[int(key) for key in keys["benefit"]])
    touched |= Q(clause_id__in=[int(key) for key in keys["clause"]])
    touched |= Q(clause__document_id__in=[int(key) for key in keys["document"]])
    benefit_ids = set(Benefit.objects.filter(touched).values_list("pk", flat=True))
    if keys["fact"]:
        policies = selectors.policy_set()
        broken = policies.broken
        benefit_ids |= policies.index.reading(keys["fact"])
        # a catalog edit may have broken a rule (or mended it): let the job report it
        benefit_ids |= set(broken)
    return benefit_ids


# ---------------------------------------------------------------- chunked jobs over every enterprise


@transaction.atomic
def schedule_job(
    *,
    kind: str,
    as_of: dt.date,
    benefit_ids: list[int] | None,
    cause: str,
    chunk_size: int | None = None,
) -> JobRun:
    """A job evaluating `benefit_ids` (None: all) for every enterprise, one task per chunk of
    `chunk_size` enterprises, published after commit."""
    chunk_size = chunk_size or CHUNK_SIZE
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    job = JobRun.objects.create(
        kind=kind,
        total=len(ids),
        params={"as_of": as_of.isoformat(), "benefit_ids": benefit_ids, "cause": cause},
        worker=_worker("schedule"),
    )
    JobChunk.objects.bulk_create(
        JobChunk(job=job, first_id=part[0], last_id=part[-1], size=len(part))
        for part in (ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size))
    )
    if not ids:
        JobRun.objects.filter(pk=job.pk).update(status=JobRun.Status.SUCCEEDED, finished_at=timezone.now())
    transaction.on_commit(lambda: publish_chunks(job_id=job.pk), robust=True)
    return job


def publish_chunks(*, job_id: int | None = None, chunk_ids: list[int] | None = None) -> int:
    """Send a task for each pending chunk of a job (or the given chunks). In the embedded mode each
    runs right here, in order."""
    chunks = JobChunk.objects.filter(state=JobChunk.State.PENDING).order_by("pk")
    chunks = chunks.filter(job_id=job_id) if job_id is not None else chunks.filter(pk__in=chunk_ids or [])
    pks = list(chunks.values_list("pk", flat=True))
    JobChunk.objects.filter(pk__in=pks).update(published_at=timezone.now())
    for pk in pks:
        send("matching.run_chunk", [pk])  # tasks.py imports this module: by name
    return len(pks)


def run_chunk(*, chunk_id: int) -> int:
    """Evaluate one chunk of a job and mark it done; the number of enterprises evaluated (0 when
    the chunk is done already or another worker is running it)."""
    # counted outside the chunk's transaction, so that a killed attempt still shows
    JobChunk.objects.filter(pk=chunk_id, state=JobChunk.State.PENDING).update(attempts=F("attempts") + 1)
    with transaction.atomic():
        chunk = (
            JobChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=chunk_id, state=JobChunk.State.PENDING)
            .order_by()
            .first()
        )
        if chunk is None:
            return 0
        params = JobRun.objects.values_list("params", flat=True).get(pk=chunk.job_id)
        plan = services.plan_evaluation(
            as_of=dt.date.fromisoformat(params["as_of"]),
            benefit_ids=params["benefit_ids"],
            cause=params["cause"],
        )
        ids = services.lock_enterprises(first_id=chunk.first_id, last_id=chunk.last_id)
        written, failures = services.evaluate_isolating(plan, ids)
        _pause_inside_chunk()
        chunk.state, chunk.finished_at = JobChunk.State.DONE, timezone.now()
        chunk.failures, chunk.error = len(failures), _failure_lines(failures, {})[:10000]
        chunk.save(update_fields=["state", "finished_at", "failures", "error"])
        job = JobRun.objects.select_for_update().get(pk=chunk.job_id)  # chunks close one at a time
        last = not JobChunk.objects.filter(job_id=job.pk, state=JobChunk.State.PENDING).exists()
        _finish(job, items=len(ids), failures=failures, broken=plan.broken if last else {}, done=last)
        if written.changes:
            notifications.changes_recorded()
    # per chunk the result rows only: every stored table took 2.9 s at 1,000,000 (the result rows
    # 0.8 s), against about 1.3 s for a cold chunk; a whole run analyzes them all (services)
    if written.written > 10_000:
        services.analyze_results(tables=(storage.RESULTS,))
    return len(ids)


def _finish(
    job: JobRun, *, items: int, failures: list[Failure], broken: dict[int, str], done: bool = True
) -> None:
    """Add a chunk's figures to its job; close the job (failed when anything failed) when `done`."""
    job.items += items
    job.failures += len(failures) + len(broken)
    lines = _failure_lines(failures, broken)
    if lines:
        job.error = f"{job.error}\n{lines}".strip()[:20000]
    if done:
        job.status = JobRun.Status.FAILED if job.failures else JobRun.Status.SUCCEEDED
        job.finished_at = timezone.now()
    job.save(update_fields=["items", "failures", "error", "status", "finished_at", "params"])


# ---------------------------------------------------------------- the calendar and the staff re-run


@dataclass
class CalendarRun:
    job: JobRun | None
    benefits: list[int]  # benefits re-evaluated for every enterprise (None in the job = all)
    enterprises_marked: int


@transaction.atomic
def run_calendar(*, as_of: dt.date | None = None) -> CalendarRun:
    """The daily job (00:05 Asia/Shanghai): re-evaluate the benefits whose validity (the document's
    dates or the benefit's own window) starts or ends today, or that are stored in the wrong state
    because a day was missed; on 1 January every benefit (the facts move to a new year); and mark
    the enterprises whose facts move with the date (registration anniversaries, listings, stored
    facts valid from today)."""
    as_of = as_of or today()
    yesterday = as_of - dt.timedelta(days=1)
    if (as_of.month, as_of.day) == (1, 1):
        benefit_ids = None
    else:
        stored = storage.benefits_with_results(Benefit.objects.values_list("pk", flat=True))
        benefit_ids = sorted(
            spec.benefit_id
            for spec in selectors.benefit_specs()
            # validity (a text in force, expired, superseded) or a dated value (a cap corrected
            # from today) moves on this day
            if validity_key(spec, as_of) != validity_key(spec, yesterday)
            or (validity_on(spec, as_of) == IN_FORCE) != (spec.benefit_id in stored)
        )
    job = None
    if benefit_ids is None or benefit_ids:
        job = schedule_job(kind="date", as_of=as_of, benefit_ids=benefit_ids, cause=Cause.DATE)
    marked = _mark_date_dependent_enterprises(as_of)
    return CalendarRun(job=job, benefits=benefit_ids or [], enterprises_marked=marked)


def _mark_date_dependent_enterprises(as_of: dt.date) -> int:
    anniversary = Q(registered_on__month=as_of.month, registered_on__day=as_of.day)
    if (as_of.month, as_of.day) == (3, 1) and not _is_leap(as_of.year):
        anniversary |= Q(registered_on__month=2, registered_on__day=29)
    enterprise_ids = list(
        Enterprise.objects.filter(anniversary | Q(listed_on=as_of)).values_list("pk", flat=True)
    )
    enterprise_changes.record(enterprise_ids, dependencies.ENTERPRISE)
    starting = FactValue.objects.filter(valid_from=as_of).values_list("enterprise_id", "fact_id").distinct()
    by_fact: dict[int, list[int]] = defaultdict(list)
    for enterprise_id, fact_id in starting:
        by_fact[fact_id].append(enterprise_id)
    for fact_id, ids in by_fact.items():
        enterprise_changes.record(ids, f"{dependencies.FACT_PREFIX}{fact_id}")
    return len(enterprise_ids) + sum(map(len, by_fact.values()))


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def schedule_rerun(*, as_of: dt.date | None = None) -> JobRun:
    """Staff "re-run everything": every benefit for every enterprise, with progress on the JobRun."""
    return schedule_job(kind="rerun", as_of=as_of or today(), benefit_ids=None, cause=Cause.RERUN)


# ---------------------------------------------------------------- the periodic sweep


@dataclass
class TickReport:
    republished: int = 0  # chunks
    drains: list[str] = field(default_factory=list)
    resent: int = 0  # webhook deliveries


def _crashed_chunks(now: dt.datetime) -> list[int]:
    """Pending chunks a worker started and nobody is running now. A running chunk holds its row lock
    (run_chunk) for as long as it runs, so SKIP LOCKED leaves exactly those out."""
    with transaction.atomic():
        return list(
            JobChunk.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                state=JobChunk.State.PENDING,
                attempts__gt=0,
                attempts__lte=CRASH_RETRIES,
                published_at__lt=now - CRASHED_AFTER,
            )
            .order_by()
            .values_list("pk", flat=True)
        )


def tick(*, worker: str = "") -> TickReport:
    """Every minute (beat): the worker heartbeat for /healthz, and a sweep for work whose task was
    lost (a broker down at commit, a chunk whose message vanished)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name="worker", defaults={"beat_at": now, "worker": worker or _worker("tick")}
    )
    report = TickReport()
    lost = JobChunk.objects.filter(state=JobChunk.State.PENDING).filter(
        Q(published_at__isnull=True, job__started_at__lt=now - SWEEP_AFTER)
        | Q(published_at__lt=now - REPUBLISH_AFTER)
    )
    lost_ids = set(lost.values_list("pk", flat=True)) | set(_crashed_chunks(now))
    report.republished = publish_chunks(chunk_ids=sorted(lost_ids))
    old = now - SWEEP_AFTER
    for model, callback in (
        (EnterpriseChange, enterprise_changes.DRAIN_ENTERPRISES),
        (PolicyChange, policy_changes.DRAIN_POLICIES),
    ):
        if model.objects.filter(marked_at__lt=old).exists():
            callback()
            report.drains.append(callback.task)
    if MatchChange.objects.filter(dispatched=False, created_at__lt=old).exists():
        notifications.DISPATCH_CHANGES()
        report.drains.append(notifications.DISPATCH_CHANGES.task)
    report.resent = notifications.resend_stalled()
    # one record per drain (every save) adds up: keep three months
    JobRun.objects.filter(finished_at__lt=now - KEEP_RECORDS).delete()
    WebhookDelivery.objects.filter(delivered_at__lt=now - KEEP_RECORDS).delete()
    return report
