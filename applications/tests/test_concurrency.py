"""Real concurrency: two connections deciding on one application at the same time.

Kept apart from the other modules: their catalog is loaded inside a module-wide transaction that
other connections cannot see."""

import threading
from decimal import Decimal

import pytest
from django.db import OperationalError, connection

from applications import services
from applications.models import ApplicationEvent, State
from applications.services import StaleVersion
from applications.tests.support import bring_to, build_world, fresh


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_are_serialised_and_nothing_is_overwritten(catalog_committed):
    """Two threads, two connections, the same version: exactly one decision wins."""
    world = build_world()
    application = bring_to(world, State.UNDER_REVIEW)
    seen = application.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(name, call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[name] = "ok"
        except StaleVersion:
            outcomes[name] = "stale"
        except OperationalError as error:  # SQLite: the write lock is refused instead of awaited
            outcomes[name] = "locked" if "locked" in str(error) else repr(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [
        threading.Thread(
            target=decide,
            args=(
                "approve",
                lambda: services.approve(
                    actor=world.reviewer,
                    application_id=application.pk,
                    expected_version=seen,
                    amount=Decimal("2000000"),
                ),
            ),
        ),
        threading.Thread(
            target=decide,
            args=(
                "reject",
                lambda: services.reject(
                    actor=world.second_reviewer,
                    application_id=application.pk,
                    expected_version=seen,
                    reason="不符合",
                ),
            ),
        ),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # PostgreSQL: the loser waits for the row lock, then sees the new version. SQLite has no row
    # locks: the loser's write is refused by the database lock. Either way exactly one decision wins.
    refusal = "stale" if connection.vendor == "postgresql" else "locked"
    assert sorted(outcomes.values()) == sorted(["ok", refusal]), outcomes
    final = fresh(application)
    winner = "approve" if outcomes["approve"] == "ok" else "reject"
    assert final.state == (State.APPROVED if winner == "approve" else State.REJECTED)
    assert final.version == seen + 1
    assert (
        ApplicationEvent.objects.filter(application=application, action__in=["approve", "reject"]).count()
        == 1
    )
