"""Background re-evaluation benchmark: `make bench-background` (or `python bench/background.py --help`).

With a real `celery worker` on Redis and the enterprises of the benchmark database (bench/run.py
sets them up: 100,000 generated enterprises with their results stored):
  1. save → result: an enterprise's yearly figures are saved through enterprises.services (one
     commit); the time until the re-evaluated result of a benefit reading them is readable, p50/p95
     over --samples saves (target p95 ≤ 300 ms), and where it went (measure_saves: commit, enqueue,
     coalescing delay, worker pick-up, evaluation, write, visible);
  2. cap edit: a benefit reading a common fact (default: the first benefit in force with a cap that
     reads output_value, by global key) gets a new cap through policies.services.save_benefit; the time until its
     job has updated every enterprise's result (target ≤ 30 s), and how many results changed.
Not a test: nothing here asserts. The cap is put back afterwards (a second job, not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COMMON_FACT = "output_value"  # read by many benefits and present for most generated enterprises


def start_worker(args, queue: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "CELERY_BROKER_URL": args.broker,
        "CELERY_QUEUE": queue,
        "MATCHING_TODAY": args.as_of,
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    log = open(ROOT / "test-artifacts" / f"bench-{queue}.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            f"--concurrency={args.concurrency}",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait(predicate, timeout: float, interval: float = 0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit("timed out: is the worker running? see test-artifacts/bench-*.log")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


PARTS = ("commit", "enqueue", "coalescing delay", "worker pick-up", "evaluation", "write", "visible")


def measure_saves(args, voucher) -> tuple[list[float], dict[str, list[float]]]:
    """Save → readable latencies, and where each went (seconds per part, PARTS):
    commit: the save's transaction and commit, enqueue excluded; enqueue: the drain task sent to
    the broker (timed around apply_async, in this process); coalescing delay: the countdown it was
    sent with; worker pick-up: from the task's due time to the drain's job record (JobRun.started_at:
    the marks read, the enterprise locked); evaluation: from there to the results' evaluated_at
    (facts read, benefits evaluated); write: from there to the job's finished_at (results and
    changes written); visible: from there until this process read the result (the drain's commit,
    and the 5 ms polling step). The clocks are this machine's (database and processes share it)."""
    from django.utils import timezone

    from enterprises import services as enterprise_services
    from enterprises.models import YearlyFigure
    from matching import tasks
    from matching.models import JobRun, MatchResult

    sent: list[tuple[float, float, float | None]] = []  # (start, end, countdown) of each enqueue
    send = tasks.drain_enterprises.apply_async

    def timed_send(*a, **options):
        start = time.time()
        try:
            return send(*a, **options)
        finally:
            sent.append((start, time.time(), options.get("countdown")))

    tasks.drain_enterprises.apply_async = timed_send
    year = dt.date.fromisoformat(args.as_of).year - 1
    figures = dict(
        YearlyFigure.objects.filter(year=year, output_value__isnull=False).values_list(
            "enterprise_id", "output_value"
        )
    )
    # enterprises the voucher's document applies to: an out-of-scope pair has no row to rewrite
    in_scope = set(MatchResult.objects.filter(benefit=voucher).values_list("enterprise_id", flat=True))
    chosen = random.Random(args.seed).sample(sorted(set(figures) & in_scope), args.samples)
    latencies = []
    parts: dict[str, list[float]] = {part: [] for part in PARTS}
    for enterprise_id in chosen:
        old = figures[enterprise_id]
        new = old + Decimal("1000")  # output_value is read by the voucher: its result is rewritten
        sent.clear()
        jobs_before = (
            JobRun.objects.filter(kind="enterprise_data").order_by("-pk").values_list("pk", flat=True).first()
            or 0
        )
        started = time.time()
        enterprise_services.save_yearly_figure(
            enterprise_id=enterprise_id, year=year, values={"output_value": new}
        )
        saved = time.perf_counter()
        committed_at = timezone.now()
        result = wait(
            lambda eid=enterprise_id, at=committed_at: (
                MatchResult.objects.filter(enterprise_id=eid, benefit_id=voucher.pk, evaluated_at__gte=at)
                .values_list("evaluated_at", flat=True)
                .first()
            ),
            timeout=30,
        )
        readable = time.time()
        latencies.append(time.perf_counter() - saved)
        job = wait(
            lambda after=jobs_before: (
                JobRun.objects.filter(kind="enterprise_data", pk__gt=after, finished_at__isnull=False)
                .values_list("started_at", "finished_at")
                .first()
            ),
            timeout=30,
        )
        if sent:
            enqueue_start, enqueue_end, countdown = sent[0]
            due = enqueue_end + (countdown or 0)
            for part, seconds in zip(
                PARTS,
                (
                    enqueue_start - started,
                    enqueue_end - enqueue_start,
                    countdown or 0,
                    job[0].timestamp() - due,
                    result.timestamp() - job[0].timestamp(),
                    job[1].timestamp() - result.timestamp(),
                    readable - job[1].timestamp(),
                ),
                strict=True,
            ):
                parts[part].append(seconds)
        enterprise_services.save_yearly_figure(
            enterprise_id=enterprise_id, year=year, values={"output_value": old}
        )
        time.sleep(args.pause)  # let the put-back drain run before the next sample
    tasks.drain_enterprises.apply_async = send
    return latencies, parts


def capped_benefit_reading(fact: str, as_of: str):
    """The first benefit by global key that is in force on `as_of`, has a cap and reads `fact`."""
    from policies.models import Benefit

    on = dt.date.fromisoformat(as_of)
    candidates = [
        b
        for b in Benefit.objects.select_related("clause__document").exclude(cap=None)
        if fact in b.fact_codes and b.validity_on(on)[0]
    ]
    if not candidates:
        raise SystemExit(f"no benefit in force with a cap reads {fact}: pass --benefit")
    return min(candidates, key=lambda b: b.global_key)


def finished_policy_job(known: set[int]):
    """The policy job started by the last benefit save, once it has finished (None before)."""
    from matching.models import JobRun

    return (
        JobRun.objects.filter(kind="policy", status__in=["succeeded", "failed"]).exclude(pk__in=known).first()
    )


def measure_cap_edit(args, voucher) -> dict:
    from matching.models import JobRun, MatchChange
    from policies import services as policy_services

    known = set(JobRun.objects.filter(kind="policy").values_list("pk", flat=True))
    changes_before = MatchChange.objects.count()
    original = voucher.cap
    voucher.cap = (original * Decimal("0.8")).quantize(Decimal("0.01"))
    started = time.perf_counter()
    policy_services.save_benefit(benefit=voucher, reason="bench: cap edit")
    job = wait(lambda: finished_policy_job(known), timeout=600, interval=0.05)
    seconds = time.perf_counter() - started
    result = {
        "seconds": seconds,
        "status": job.status,
        "enterprises": job.items,
        "chunks": job.chunks.count(),
        "changes": MatchChange.objects.count() - changes_before,
    }
    known.add(job.pk)
    voucher.cap = original
    policy_services.save_benefit(benefit=voucher, reason="bench: cap restored")
    wait(lambda: finished_policy_job(known), timeout=600, interval=0.1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--as-of", default="2025-06-01")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--samples", type=int, default=100, help="saves timed one by one")
    parser.add_argument("--pause", type=float, default=0.7, help="seconds between saves")
    parser.add_argument(
        "--benefit",
        help=f"the benefit whose cap is edited (global key; default: one with a cap reading {COMMON_FACT})",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cap-edit", action="store_true", help="measure the saves only")
    parser.add_argument(
        "--always-coalesce",
        action="store_true",
        help="every drain waits the coalescing window (as before the leading edge), for comparison",
    )
    args = parser.parse_args()

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        CELERY_BROKER_URL=args.broker, CELERY_QUEUE=queue, MATCHING_TODAY=args.as_of, LOG_LEVEL="WARNING"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_DEV", "1")  # the benchmark process itself: embedded settings, its own URLs
    import django

    django.setup()
    from enterprises.models import Enterprise
    from matching.models import JobRun, MatchResult
    from matching.tests.background_support import benefit

    voucher = benefit(args.benefit) if args.benefit else capped_benefit_reading(COMMON_FACT, args.as_of)
    args.benefit = voucher.global_key
    if args.always_coalesce:
        from enterprises import changes
        from policies import aftercommit

        changes.DRAIN_ENTERPRISES._countdown = lambda: aftercommit.COALESCE_SECONDS
    enterprises = Enterprise.objects.count()
    if not MatchResult.objects.filter(benefit=voucher).exists():
        raise SystemExit("no stored results: run `make bench` (bench/run.py) on this database first")
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    worker = start_worker(args, queue)
    try:
        from matching import tasks

        tasks.ping.delay("bench")
        wait(
            lambda: JobRun.objects.filter(kind="ping", worker__endswith=":bench").exists(),
            timeout=60,
            interval=0.1,
        )
        latencies, parts = measure_saves(args, voucher)
        cap = measure_cap_edit(args, voucher) if not args.no_cap_edit else None
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)

    print(f"background benchmark: {enterprises:,} enterprises, worker concurrency {args.concurrency}")
    print(
        f"1. save → result readable ({len(latencies)} saves): p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms   target p95 ≤ 300 ms"
    )
    print("   where it went (median / p95 ms of each part, over the saves):")
    for part, values in parts.items():
        if values:
            print(
                f"     {part:<17} {statistics.median(values) * 1000:7.1f} / {percentile(values, 0.95) * 1000:7.1f}"
            )
    if cap is None:
        return
    print(
        f"2. cap edit of {args.benefit}: {cap['seconds']:.1f} s until all {cap['enterprises']:,} enterprises "
        f"were re-evaluated ({cap['chunks']} chunks, {cap['changes']:,} results changed, job {cap['status']})"
        "   target ≤ 30 s"
    )


if __name__ == "__main__":
    main()
