"""A worker killed mid-chunk (SIGKILL of the whole worker: no reject, its message unacked until the
visibility timeout) does not stall its job: the next minute's tick re-sends every chunk that was
started and that nobody holds any more, so it re-runs within a minute of a worker being up."""

import datetime as dt
import threading

import pytest
from django.db import connections, transaction
from django.utils import timezone

from matching import jobs
from matching.models import JobChunk, JobRun


@pytest.fixture
def sent(monkeypatch):
    chosen: list[list[int]] = []
    monkeypatch.setattr(
        jobs, "publish_chunks", lambda *, chunk_ids=None, job_id=None: chosen.append(chunk_ids) or 0
    )
    return chosen


def chunk(*, attempts: int, published_ago: dt.timedelta | None) -> JobChunk:
    job = JobRun.objects.create(
        kind="rerun", total=1, params={"as_of": "2025-06-01", "benefit_ids": None, "cause": "rerun"}
    )
    published = timezone.now() - published_ago if published_ago is not None else None
    return JobChunk.objects.create(
        job=job, first_id=1, last_id=1, size=1, attempts=attempts, published_at=published
    )


@pytest.mark.django_db(transaction=True)
def test_a_started_chunk_nobody_runs_is_sent_again_by_the_next_tick(sent):
    crashed = chunk(attempts=1, published_ago=dt.timedelta(seconds=90))
    queued = chunk(attempts=0, published_ago=dt.timedelta(seconds=90))  # waiting in the queue: not yet
    just_sent = chunk(attempts=1, published_ago=dt.timedelta(seconds=5))  # its redelivery may be on the way
    given_up = chunk(attempts=jobs.CRASH_RETRIES + 1, published_ago=dt.timedelta(seconds=90))
    jobs.tick(worker="test")
    assert sent == [[crashed.pk]]
    assert {queued.pk, just_sent.pk, given_up.pk}.isdisjoint(sent[0])


@pytest.mark.django_db(transaction=True)
def test_a_chunk_a_live_worker_is_running_is_left_alone(sent):
    running = chunk(attempts=1, published_ago=dt.timedelta(seconds=90))
    locked, release = threading.Event(), threading.Event()

    def worker():  # what run_chunk does: the chunk's row stays locked while it runs
        try:
            with transaction.atomic():
                JobChunk.objects.select_for_update().filter(pk=running.pk).first()
                locked.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        jobs.tick(worker="test")
    finally:
        release.set()
        thread.join(timeout=30)
    assert sent == [[]]
    jobs.tick(worker="test")  # the worker is gone (the lock with it): now it is sent again
    assert sent[-1] == [running.pk]


def test_the_timings_add_up_to_a_minute():
    """The tick runs every minute (matching/migrations/0004_schedule.py); a crashed chunk is chosen
    once CRASHED_AFTER has passed since it was sent, so it is re-sent by the first or second tick."""
    from django.conf import settings

    assert dt.timedelta(seconds=30) >= jobs.CRASHED_AFTER
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    # a message is redelivered by Redis only after the visibility timeout: longer than any task may run,
    # or a long chunk would be delivered twice while it runs
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > settings.CELERY_TASK_TIME_LIMIT
