"""Enqueueing a Celery task after the current transaction commits, by the task's name.

The writer apps (policies, enterprises) record what changed in their own tables and ask for the
drain that reads those records — a task of an app above them (matching) — by name, so that no app
imports the tasks of another (or its own tasks module from the modules those tasks call). In the
in-process mode (no broker: CELERY_TASK_ALWAYS_EAGER) the task, registered when its app loads
(`AppConfig.ready` imports its tasks module), runs right here after commit, as `.delay()` would.

A task is enqueued at most once per transaction (`after_commit_once`). With a `countdown`, the first
enqueue after a quiet spell runs at once and the others of the next `countdown` seconds wait that
long (leading edge: a single save is not kept waiting; a burst is drained at its start and once
more after it). The data is committed with its change record either way: a broker that is down
loses nothing, the periodic sweep (matching.jobs.tick) drains what is left.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import current_app
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

# Edits within this many seconds of a drain's start are drained once, by a drain this long after them.
COALESCE_SECONDS = 0.5


def send(task: str, args: Sequence[Any] = (), *, countdown: float | None = None) -> None:
    """Enqueue (or, in-process, run) the task registered under `task` now."""
    current_app.signature(task, args=tuple(args)).apply_async(countdown=countdown)


class TaskAfterCommit:
    """One per task: registered at most once per transaction (see after_commit_once)."""

    def __init__(self, task: str, countdown: float = 0):
        self.task = task  # the Celery task name, e.g. "matching.drain_enterprises"
        self.countdown = countdown

    def __call__(self) -> None:
        try:
            send(self.task, countdown=self._countdown())
        except Exception:  # the data is committed and recorded; the sweep (or the next edit) drains it
            logger.exception("could not run or enqueue %s", self.task)

    def _countdown(self) -> float | None:
        """None (now) for the first enqueue of a window (a key added to the shared cache, which
        lives the window), the countdown for the others."""
        if not self.countdown:
            return None
        try:
            first = cache.add(f"enqueued:{self.task}", 1, timeout=self.countdown)
        except Exception:  # no cache: every drain waits the window
            logger.warning("cache unreachable: %s waits %s s", self.task, self.countdown)
            first = False
        return None if first else self.countdown


def after_commit_once(callback: TaskAfterCommit) -> None:
    """transaction.on_commit(callback), unless this transaction already has it."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is callback for entry in connection.run_on_commit):
        return
    transaction.on_commit(callback, robust=True)
