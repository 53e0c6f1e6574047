"""Thin Celery tasks of the enterprise import (logic in import_jobs.py). Idempotent and acknowledged late:
a repeated or redelivered task does nothing the first did not. Transient errors retry; any other error,
or retries exhausted, marks the job failed (nothing was written)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from enterprises import import_jobs

TRANSIENT = (OperationalError, InterfaceError)
RELIABLE = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "max_retries": 5,
    # under the broker's visibility timeout (1 h), so that a running import is not delivered twice
    "soft_time_limit": 45 * 60,
    "time_limit": 50 * 60,
}


def _retry_or_fail(task, job_id: int, error: Exception) -> None:
    if isinstance(error, TRANSIENT) and task.request.retries < task.max_retries:
        raise task.retry(exc=error, countdown=min(300, 2 ** (task.request.retries + 1)))
    import_jobs.fail_job(job_id=job_id, error=f"{type(error).__name__}: {error}")


@shared_task(name="enterprises.check_import", **RELIABLE)
def check_import(self, job_id: int) -> None:
    try:
        import_jobs.check_job(job_id)
    except Exception as error:  # noqa: BLE001 - recorded on the job, retried when transient
        _retry_or_fail(self, job_id, error)


@shared_task(name="enterprises.run_import", **RELIABLE)
def run_import(self, job_id: int) -> None:
    try:
        import_jobs.import_job(job_id)
    except Exception as error:  # noqa: BLE001 - recorded on the job, retried when transient
        _retry_or_fail(self, job_id, error)
