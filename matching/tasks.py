"""Thin Celery tasks: ids in, one service call (logic in jobs.py, notifications.py, services.py).

Every task is idempotent and acknowledged late (settings: acks_late, reject_on_worker_lost): a
worker that dies mid-task leaves the message to be redelivered, and running a task twice changes
nothing the first run did not. Transient errors (database or broker unreachable, deadlock) retry
with exponential backoff; anything else fails the task, which is recorded and acknowledged, so a
poison message never blocks the queue.
"""

import datetime as dt

import redis.exceptions
from celery import shared_task
from django.db import InterfaceError, OperationalError

from matching import jobs, notifications, services

TRANSIENT = (
    OperationalError,
    InterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="matching.ping")
def ping(source: str = "worker") -> int:
    return services.record_ping(source=source).pk


@shared_task(name="matching.drain_enterprises", bind=True, soft_time_limit=240, time_limit=300, **RELIABLE)
def drain_enterprises(self) -> int:
    result = jobs.drain_enterprise_changes()
    if result.more and (result.enterprises or not self.request.is_eager):
        # marks left: the next batch now, or soon when all that is left is being edited right now
        drain_enterprises.apply_async(countdown=None if result.enterprises else 2)
    return result.enterprises


@shared_task(name="matching.drain_policies", soft_time_limit=240, time_limit=300, **RELIABLE)
def drain_policies() -> int | None:
    job = jobs.drain_policy_changes()
    return job.pk if job else None


@shared_task(name="matching.run_chunk", soft_time_limit=300, time_limit=360, **RELIABLE)
def run_chunk(chunk_id: int) -> int:
    return jobs.run_chunk(chunk_id=chunk_id)


@shared_task(name="matching.daily_calendar", soft_time_limit=240, time_limit=300, **RELIABLE)
def daily_calendar(as_of: str | None = None) -> int | None:
    run = jobs.run_calendar(as_of=dt.date.fromisoformat(as_of) if as_of else None)
    return run.job.pk if run.job else None


@shared_task(name="matching.tick", bind=True, soft_time_limit=50, time_limit=60, **RELIABLE)
def tick(self) -> int:
    return jobs.tick(worker=self.request.hostname or "").republished


@shared_task(name="matching.dispatch_changes", bind=True, soft_time_limit=240, time_limit=300, **RELIABLE)
def dispatch_changes(self) -> int:
    result = notifications.dispatch_changes()
    if result.more and result.changes:
        dispatch_changes.apply_async()
    return result.changes


@shared_task(
    name="matching.deliver_webhook",
    bind=True,
    soft_time_limit=30,
    time_limit=45,
    **{**RELIABLE, "max_retries": None},  # notifications.MAX_ATTEMPTS bounds the attempts
)
def deliver_webhook(self, delivery_id: int) -> bool:
    attempt = notifications.deliver_webhook(delivery_id=delivery_id)
    if attempt.retry_in is not None and not self.request.is_eager:  # in-process: no sleeping retries
        raise self.retry(countdown=attempt.retry_in)
    return attempt.delivered


@shared_task(name="matching.evaluate_enterprise", **RELIABLE)
def evaluate_enterprise(enterprise_id: int, as_of: str, cause: str = "task") -> int:
    verdicts = services.evaluate_enterprise(
        enterprise_id=enterprise_id, as_of=dt.date.fromisoformat(as_of), cause=cause
    )
    return len(verdicts)


@shared_task(name="matching.evaluate_benefit", **RELIABLE)
def evaluate_benefit(benefit_id: int, as_of: str, cause: str = "task") -> int:
    run = services.evaluate_benefit_for_all(
        benefit_id=benefit_id, as_of=dt.date.fromisoformat(as_of), cause=cause
    )
    return run.written
