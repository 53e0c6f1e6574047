"""Thin Celery tasks: ids in, one service call."""

import datetime as dt

from celery import shared_task

from matching import services


@shared_task(name="matching.ping")
def ping(source: str = "worker") -> int:
    return services.record_ping(source=source).pk


@shared_task(name="matching.evaluate_enterprise")
def evaluate_enterprise(enterprise_id: int, as_of: str, cause: str = "task") -> int:
    verdicts = services.evaluate_enterprise(
        enterprise_id=enterprise_id, as_of=dt.date.fromisoformat(as_of), cause=cause
    )
    return len(verdicts)


@shared_task(name="matching.evaluate_benefit")
def evaluate_benefit(benefit_id: int, as_of: str, cause: str = "task") -> int:
    run = services.evaluate_benefit_for_all(
        benefit_id=benefit_id, as_of=dt.date.fromisoformat(as_of), cause=cause
    )
    return run.written
