"""Background re-evaluation benchmark: `make bench-background` (or `python bench/background.py --help`).

With a real `celery worker` on Redis and the enterprises of the benchmark database (bench/run.py
sets them up: 100,000 generated enterprises with their results stored):
  1. save → result: an enterprise's yearly figures are saved through enterprises.services (one
     commit); the time until the re-evaluated result of a benefit reading them is readable, p50/p95
     over --samples saves (target p95 ≤ 1 s; the drain waits 0.5 s to coalesce bursts);
  2. cap edit: a benefit reading a common fact (default: the municipal smart-evaluation voucher, which
     reads output_value) gets a new cap through policies.services.save_benefit; the time until its
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
VOUCHER = "sh-2022-high-end-manufacturing/１２/smart-eval-voucher-municipal"


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


def measure_saves(args, voucher) -> list[float]:
    from django.utils import timezone

    from enterprises import services as enterprise_services
    from enterprises.models import YearlyFigure
    from matching.models import MatchResult

    year = dt.date.fromisoformat(args.as_of).year - 1
    figures = dict(
        YearlyFigure.objects.filter(year=year, output_value__isnull=False).values_list(
            "enterprise_id", "output_value"
        )
    )
    chosen = random.Random(args.seed).sample(sorted(figures), args.samples)
    latencies = []
    for enterprise_id in chosen:
        old = figures[enterprise_id]
        new = old + Decimal("1000")  # output_value is read by the voucher: its result is rewritten
        enterprise_services.save_yearly_figure(
            enterprise_id=enterprise_id, year=year, values={"output_value": new}
        )
        committed_at = timezone.now()
        saved = time.perf_counter()
        wait(
            lambda eid=enterprise_id, at=committed_at: MatchResult.objects.filter(
                enterprise_id=eid, benefit_id=voucher.pk, evaluated_at__gte=at
            ).exists(),
            timeout=30,
        )
        latencies.append(time.perf_counter() - saved)
        enterprise_services.save_yearly_figure(
            enterprise_id=enterprise_id, year=year, values={"output_value": old}
        )
        time.sleep(args.pause)  # let the put-back drain run before the next sample
    return latencies


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
    parser.add_argument("--benefit", default=VOUCHER, help="the benefit whose cap is edited")
    parser.add_argument("--seed", type=int, default=1)
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

    voucher = benefit(args.benefit)
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
        latencies = measure_saves(args, voucher)
        cap = measure_cap_edit(args, voucher)
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)

    print(f"background benchmark: {enterprises:,} enterprises, worker concurrency {args.concurrency}")
    print(
        f"1. save → result readable ({len(latencies)} saves): p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms   target p95 ≤ 1000 ms"
    )
    print(
        f"2. cap edit of {args.benefit}: {cap['seconds']:.1f} s until all {cap['enterprises']:,} enterprises "
        f"were re-evaluated ({cap['chunks']} chunks, {cap['changes']:,} results changed, job {cap['status']})"
        "   target ≤ 30 s"
    )


if __name__ == "__main__":
    main()
