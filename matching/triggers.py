"""Marking work to do when data changes (called by receivers.py, inside the saving transaction).

A mark is one upserted row (PendingEnterpriseChange / PendingPolicyChange), so many edits in one
transaction, or in quick succession, leave one row per enterprise and source; one drain task is
enqueued per transaction, after commit: at once for the first edit after a quiet spell, slightly
delayed after that so that a burst of edits is drained at its start and once more after it.
A mark survives a broker that is down: the periodic sweep (jobs.tick) drains what is left.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from matching.models import PendingEnterpriseChange, PendingPolicyChange

logger = logging.getLogger(__name__)

# Edits within this many seconds of a drain's start are drained once, by a drain this long after
# them; the first edit after a quiet spell is drained at once (leading edge: a single save is not
# kept waiting; a burst is drained at its start and once more after the window).
COALESCE_SECONDS = 0.5


class _EnqueueAfterCommit:
    """One per task: registered at most once per transaction (see after_commit_once)."""

    def __init__(self, task: str, countdown: float = 0):
        self.task = task  # the function's name in matching/tasks.py
        self.countdown = countdown

    def __call__(self) -> None:
        from matching import tasks  # tasks import the services, which import this module

        try:
            getattr(tasks, self.task).apply_async(countdown=self._countdown())
        except Exception:  # the data is committed and marked; the sweep (or the next edit) drains it
            logger.exception("could not run or enqueue matching.%s", self.task)

    def _countdown(self) -> float | None:
        """None (now) for the first enqueue of a window (a key added to the shared cache, which
        lives the window), the countdown for the others."""
        if not self.countdown:
            return None
        try:
            first = cache.add(f"matching:enqueued:{self.task}", 1, timeout=self.countdown)
        except Exception:  # no cache: every drain waits the window, as before
            logger.warning("cache unreachable: matching.%s waits %s s", self.task, self.countdown)
            first = False
        return None if first else self.countdown


DRAIN_ENTERPRISES = _EnqueueAfterCommit("drain_enterprises", countdown=COALESCE_SECONDS)
DRAIN_POLICIES = _EnqueueAfterCommit("drain_policies", countdown=COALESCE_SECONDS)
DISPATCH_CHANGES = _EnqueueAfterCommit("dispatch_changes")


def after_commit_once(callback: _EnqueueAfterCommit) -> None:
    """transaction.on_commit(callback), unless this transaction already has it."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is callback for entry in connection.run_on_commit):
        return
    transaction.on_commit(callback, robust=True)


def enterprise_changed(enterprise_id: int, source: str) -> None:
    """Mark an enterprise for re-evaluation of the benefits reading what `source` feeds."""
    enterprises_changed([enterprise_id], source)


def enterprises_changed(enterprise_ids: list[int], source: str) -> None:
    if not enterprise_ids:
        return
    now = timezone.now()
    PendingEnterpriseChange.objects.bulk_create(
        [PendingEnterpriseChange(enterprise_id=pk, source=source, marked_at=now) for pk in enterprise_ids],
        # marked again: the newer time (a drain deletes only the marks it read, time included)
        update_conflicts=True,
        unique_fields=["enterprise_id", "source"],
        update_fields=["marked_at"],
        batch_size=2000,
    )
    after_commit_once(DRAIN_ENTERPRISES)


def policy_changed(kind: str, key: str | int) -> None:
    """Mark a policy row (benefit, clause, document, or catalog fact by code) for re-evaluation."""
    PendingPolicyChange.objects.bulk_create(
        [PendingPolicyChange(kind=kind, key=str(key), marked_at=timezone.now())],
        update_conflicts=True,
        unique_fields=["kind", "key"],
        update_fields=["marked_at"],
    )
    after_commit_once(DRAIN_POLICIES)


def changes_recorded() -> None:
    """Results changed in this transaction: notify (portal, e-mail, webhooks) after commit."""
    after_commit_once(DISPATCH_CHANGES)
