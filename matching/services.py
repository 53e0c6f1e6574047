"""Writes of the matching app. Keyword-only, typed, atomic."""

import socket

from django.db import transaction
from django.utils import timezone

from matching.models import JobRun


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
