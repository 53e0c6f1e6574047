"""Thin Celery tasks: ids in, one service call."""

from celery import shared_task

from matching import services


@shared_task(name="matching.ping")
def ping(source: str = "worker") -> int:
    return services.record_ping(source=source).pk
