"""The Celery app. Without CELERY_BROKER_URL tasks run eagerly in-process (see settings)."""

import logging
import os
import time

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("portal.tasks")
_started: dict[str, float] = {}


@task_prerun.connect
def _remember_start(task_id=None, **_):
    _started[task_id] = time.monotonic()


@task_postrun.connect
def _log_task(task_id=None, task=None, state=None, **_):
    elapsed_ms = (time.monotonic() - _started.pop(task_id, time.monotonic())) * 1000
    logger.info("task %s id=%s state=%s %.1fms", getattr(task, "name", "?"), task_id, state, elapsed_ms)
