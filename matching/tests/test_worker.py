"""Background re-evaluation with a real Redis broker and a real `celery worker` subprocess.

The data is set up in the embedded mode (tasks run in this process); then `publishing_to(worker)`
points this process's Celery app at the broker and the worker's queue, so that commits enqueue
onto Redis as in production, and the worker does the work.
"""

import datetime as dt
import re
import signal
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Count, F

from enterprises import services as enterprise_services
from enterprises.models import Enterprise, EnterpriseChange, Project
from matching import jobs, webhook_signing
from matching.models import (
    JobChunk,
    JobRun,
    MatchChange,
    MatchResult,
    WebhookDelivery,
    WebhookSubscription,
    WorkerHeartbeat,
)
from matching.tests.background_support import AS_OF, LEASE_CAP, LEASE_KEY, Receiver, benefit, new_lessee
from policies import services as policy_services
from policies.loader import catalog_paths, default_paths, load_files
from policies.models import Benefit
from tests.support import wait_for

SECRET_A, SECRET_B = webhook_signing.new_secret(), webhook_signing.new_secret()

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
NEW_CAP = Decimal("8000000.00")


@pytest.fixture
def policies(transactional_db, monkeypatch):
    """The catalog and the 2024 Minhang text, committed; evaluation dates pinned to 2025-06-01."""
    monkeypatch.setenv("MATCHING_TODAY", AS_OF.isoformat())
    paths = [*catalog_paths(), *(path for path in default_paths() if path.name.startswith("000"))]
    _, errors = load_files(paths)
    assert not errors


@pytest.fixture
def start_worker(celery_worker_factory):
    def start(**env: str):
        return celery_worker_factory(
            **{"MATCHING_TODAY": AS_OF.isoformat(), "CELERY_VISIBILITY_TIMEOUT": "5", **env}
        )

    return start


@contextmanager
def publishing_to(worker):
    """Make this process enqueue onto the worker's queue on Redis instead of running tasks itself."""
    from portal.celery import app

    keys = ("task_always_eager", "broker_url", "task_default_queue")
    saved = {key: app.conf[key] for key in keys}
    app._after_fork()  # drop the pooled connections made for the old broker URL
    app.conf.update(task_always_eager=False, broker_url=worker.broker_url, task_default_queue=worker.queue)
    try:
        yield
    finally:
        app.conf.update(saved)
        app._after_fork()


def drop_lease(enterprise: Enterprise) -> None:
    enterprise_services.delete_related(
        enterprise_id=enterprise.pk, instance=Project.objects.get(enterprise=enterprise)
    )


def lessees(count: int, start: int = 0) -> list[Enterprise]:
    return [new_lessee(start + n) for n in range(count)]


def lease_amounts(enterprises) -> set:
    lease = benefit(LEASE_KEY)
    return set(
        MatchResult.objects.filter(benefit=lease, enterprise__in=enterprises).values_list("amount", flat=True)
    )


def forget_set_up_changes() -> None:
    """The set-up commits an enterprise and its lease separately: a change already. Start clean."""
    MatchChange.objects.all().delete()


def settled(what: str, worker, predicate, timeout: float = 90):
    return wait_for(predicate, timeout=timeout, what=f"{what}; worker log:\n{worker.log()[-4000:]}")


def test_saving_an_enterprise_updates_its_results_through_the_worker(
    policies, start_worker, client, settings
):
    enterprise = new_lessee(1)
    forget_set_up_changes()
    lease = benefit(LEASE_KEY)
    assert MatchResult.objects.get(enterprise=enterprise, benefit=lease).status == "pending_recognition"
    worker = start_worker()
    with publishing_to(worker):
        drop_lease(enterprise)
        assert EnterpriseChange.objects.filter(enterprise_id=enterprise.pk).exists()
        result = settled(
            "the worker to re-evaluate the enterprise",
            worker,
            lambda: MatchResult.objects.filter(
                enterprise=enterprise, benefit=lease, status="not_eligible"
            ).first(),
        )
        assert (
            result.leaf_outcomes == "vvxx"
        )  # in 闵行区; no lease at all in a declared-complete project list
        change = MatchChange.objects.get(enterprise=enterprise, benefit=lease)
        assert (change.old_status, change.new_status, change.cause) == (
            "pending_recognition",
            "not_eligible",
            "enterprise_data",
        )
        job = JobRun.objects.filter(kind="enterprise_data").latest("pk")
        assert job.status == "succeeded" and ":drain" in job.worker
        assert not EnterpriseChange.objects.exists()

        # the periodic tick writes the heartbeat that /healthz reports
        from matching import tasks

        tasks.tick.delay()
        settled("the heartbeat", worker, lambda: WorkerHeartbeat.objects.filter(name="worker").exists())
        settings.CELERY_BROKER_URL = worker.broker_url
        body = client.get("/healthz").json()
        assert body["worker"] == "ok" and 0 <= body["worker_heartbeat_age_s"] < 60, body


def test_a_burst_of_edits_is_evaluated_at_its_start_and_once_after(policies, start_worker, monkeypatch):
    # a window of 2 s instead of 0.5: the three saves fit in it on a loaded machine too (the suite
    # runs on every core), and the drains after the first still wait for its end
    from enterprises.changes import DRAIN_ENTERPRISES

    monkeypatch.setattr(DRAIN_ENTERPRISES, "countdown", 2.0)
    enterprise = new_lessee(2)
    forget_set_up_changes()
    worker = start_worker()
    before = JobRun.objects.filter(kind="enterprise_data").count()
    with publishing_to(worker):
        started = time.monotonic()
        for town in ("虹桥镇", "七宝镇"):  # three saves, three commits, three drains enqueued
            enterprise_services.update_enterprise(
                enterprise_id=enterprise.pk,
                expected_version=Enterprise.objects.get(pk=enterprise.pk).version,
                changes={"town": town},
            )
        drop_lease(enterprise)
        burst = time.monotonic() - started
        assert burst < 1.5, f"the burst took {burst:.2f}s, about the coalescing window"
        settled(
            "three drain tasks",
            worker,
            lambda: (
                len(re.findall(r"Task matching\.drain_enterprises\[[^\]]+\] succeeded", worker.log())) >= 3
            ),
        )
    assert not EnterpriseChange.objects.exists()
    # the first save is drained at once, the two others together after the window (policies/aftercommit.py):
    # two evaluations at most, not one per edit
    assert JobRun.objects.filter(kind="enterprise_data").count() - before in (1, 2)
    assert MatchResult.objects.get(enterprise=enterprise, benefit=benefit(LEASE_KEY)).status == "not_eligible"
    assert MatchChange.objects.filter(enterprise=enterprise, benefit=benefit(LEASE_KEY)).count() == 1


def test_a_cap_edit_updates_every_affected_result_with_change_records(policies, start_worker):
    enterprises = lessees(25, start=100)
    outsider = new_lessee(200, area="3000")
    forget_set_up_changes()
    assert lease_amounts(enterprises) == {LEASE_CAP}
    set_up_jobs = list(JobRun.objects.values_list("pk", flat=True))
    worker = start_worker()
    lease = benefit(LEASE_KEY)
    with publishing_to(worker):
        lease.cap = NEW_CAP
        policy_services.save_benefit(benefit=lease, reason="上限更正")
        job = settled(
            "the policy job",
            worker,
            lambda: (
                JobRun.objects.filter(kind="policy", status__in=["succeeded", "failed"])
                .exclude(pk__in=set_up_jobs)
                .first()
            ),
        )
    assert (job.status, job.items, job.total, job.params["benefit_ids"]) == ("succeeded", 26, 26, [lease.pk])
    assert lease_amounts(enterprises) == {NEW_CAP}
    assert MatchResult.objects.get(enterprise=outsider, benefit=lease).status == "not_eligible"
    changes = MatchChange.objects.filter(benefit=lease)
    assert set(changes.values_list("enterprise_id", "old_amount", "new_amount", "cause")) == {
        (e.pk, LEASE_CAP, NEW_CAP, "policy") for e in enterprises
    }
    assert changes.count() == len(enterprises)


def test_a_worker_killed_mid_chunk_loses_nothing_and_duplicates_nothing(policies, start_worker):
    enterprises = lessees(12, start=300)
    forget_set_up_changes()
    lease = benefit(LEASE_KEY)
    slow = start_worker(MATCHING_TEST_CHUNK_DELAY="4")
    with publishing_to(slow):
        with transaction.atomic():
            # no change record (not the service): the job is scheduled here, with small chunks
            Benefit.objects.filter(pk=lease.pk).update(cap=NEW_CAP, version=F("version") + 1)
            job = jobs.schedule_job(
                kind="policy", as_of=AS_OF, benefit_ids=[lease.pk], cause="policy", chunk_size=3
            )
        chunks = list(JobChunk.objects.filter(job=job).order_by("pk"))
        assert len(chunks) == 4
        # the first chunk done, the second started (its attempt counted) and sleeping inside its transaction
        settled(
            "the second chunk to start",
            slow,
            lambda: (
                JobChunk.objects.filter(pk=chunks[1].pk, attempts=1, state="pending").exists()
                and JobChunk.objects.filter(pk=chunks[0].pk, state="done").exists()
            ),
        )
        time.sleep(0.5)
        slow.kill(signal.SIGKILL)
        assert JobChunk.objects.get(pk=chunks[1].pk).state == "pending"  # its transaction died with it
        done_before = set(JobChunk.objects.filter(job=job, state="done").values_list("pk", flat=True))
        assert chunks[1].pk not in done_before

        # a worker starting later than the visibility timeout (5 s here) after the message was
        # delivered restores it at once; a running worker would within its next scans (~100 s)
        time.sleep(6)
        fresh = start_worker()
        finished = settled(
            "the job to finish after redelivery",
            fresh,
            lambda: JobRun.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).first(),
            timeout=120,
        )
    assert (finished.status, finished.items, finished.total) == ("succeeded", 12, 12)
    assert JobChunk.objects.get(pk=chunks[1].pk).attempts == 2  # redelivered once
    assert lease_amounts(enterprises) == {NEW_CAP}
    duplicates = (
        MatchChange.objects.values("enterprise_id", "benefit_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert MatchChange.objects.filter(benefit=lease, cause="policy").count() == 12


def test_the_daily_job_under_a_frozen_date_flips_validity(policies, start_worker, monkeypatch):
    monkeypatch.setenv("MATCHING_TODAY", "2029-03-31")
    enterprises = lessees(3, start=400)
    forget_set_up_changes()
    document = benefit(LEASE_KEY).clause.document
    stored = MatchResult.objects.filter(benefit__clause__document=document, enterprise__in=enterprises)
    count = stored.count()
    assert count > 0  # evaluated on 2029-03-31: the text is in force until that day
    worker = start_worker(MATCHING_TODAY="2029-04-01")  # the night after
    with publishing_to(worker):
        from portal.celery import app

        app.send_task("matching.daily_calendar")  # as beat sends it at 00:05
        job = settled(
            "the calendar job",
            worker,
            lambda: JobRun.objects.filter(kind="date", status__in=["succeeded", "failed"]).first(),
        )
    assert (job.status, job.params["as_of"]) == ("succeeded", "2029-04-01")
    assert not stored.exists()
    changes = MatchChange.objects.filter(enterprise__in=enterprises, cause="date", as_of=dt.date(2029, 4, 1))
    assert changes.count() == count
    assert set(changes.values_list("new_status", flat=True)) == {"not_in_force"}


def test_webhooks_get_signed_payloads_and_a_failing_receiver_is_retried(policies, start_worker):
    enterprise = new_lessee(500)
    forget_set_up_changes()
    worker = start_worker()
    with Receiver() as healthy, Receiver(failures=2) as flaky:
        WebhookSubscription.objects.create(name="ok", url=healthy.url, secret=SECRET_A)
        flaky_subscription = WebhookSubscription.objects.create(name="flaky", url=flaky.url, secret=SECRET_B)
        with publishing_to(worker):
            drop_lease(enterprise)
            delivery = settled(
                "the flaky receiver to get the payload on the third attempt",
                worker,
                lambda: WebhookDelivery.objects.filter(
                    subscription=flaky_subscription, state="succeeded"
                ).first(),
                timeout=60,
            )
        assert len(healthy.requests) == 1 and len(flaky.requests) == 3
        assert delivery.attempts == 3
        for receiver, secret in ((healthy, SECRET_A), (flaky, SECRET_B)):
            for request in receiver.requests:
                headers = {key.lower(): value for key, value in request["headers"].items()}
                webhook_signing.verify(secret, headers, request["body"])
        assert flaky.payloads()[0] == flaky.payloads()[2]  # the same delivery, resent
        gaps = [b["at"] - a["at"] for a, b in zip(flaky.requests, flaky.requests[1:], strict=False)]
        assert gaps[0] >= 1.5 and gaps[1] >= 3.5, gaps  # backoff: 2 s, then 4 s
        changes = {c["benefit"]["global_key"] for c in healthy.payloads()[0]["changes"]}
        assert LEASE_KEY in changes
        assert set(MatchChange.objects.values_list("dispatched", flat=True)) == {True}
