from contextlib import contextmanager

import pytest
from django.db import connection, transaction

from enterprises.models import EnterpriseChange
from matching.models import MatchItemResult, MatchResult, OutOfScope, OutOfScopeResult, ResultDigest
from policies.loader import default_paths, load_files
from policies.models import PolicyChange


def forget_marks() -> None:
    """Drop the re-evaluation marks (and their pending after-commit tasks) of the current
    transaction: fixtures set up data without asking for background work."""
    PolicyChange.objects.all().delete()
    EnterpriseChange.objects.all().delete()
    connection.run_on_commit[:] = []


def result_pairs(**filters) -> set[tuple[int, int]]:
    """(enterprise, benefit) of every stored verdict matching `filters`: the result rows and the
    out-of-scope entries (matching.models.OutOfScope), as a reader sees them."""
    return {
        *MatchResult.objects.filter(**filters).values_list("enterprise_id", "benefit_id"),
        *OutOfScopeResult.objects.filter(**filters).values_list("enterprise_id", "benefit_id"),
    }


def forget_results() -> None:
    """Delete every stored verdict (rows, item rows, out-of-scope records) and the digests that
    describe them, as an operator resetting the store would (storage.store trusts a digest)."""
    MatchItemResult.objects.all().delete()
    MatchResult.objects.all().delete()
    OutOfScope.objects.all().delete()
    ResultDigest.objects.all().delete()


@pytest.fixture(autouse=True)
def _portal_celery_app_is_current():
    """Tasks (shared_task) run on the current Celery app: make sure it is the portal's, not an app
    another test created (the root `producer` fixture's app makes itself current)."""
    from portal.celery import app

    app.set_current()


@pytest.fixture(scope="module")
def policies_loaded(django_db_setup, django_db_blocker):
    """The fact catalog and every policy fixture, loaded once per test module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        reports, errors = load_files(default_paths())
        assert not errors, [error.messages for error in errors]
        forget_marks()
        yield reports
        transaction.set_rollback(True)


@contextmanager
def committed():
    """Inside a test's transaction, run the after-commit callbacks registered in the block (and
    those they register) as a real commit would, and remove them from the pending list."""
    start = len(connection.run_on_commit)
    yield
    while len(connection.run_on_commit) > start:
        callbacks = connection.run_on_commit[start:]
        del connection.run_on_commit[start:]
        for _savepoints, callback, _robust in callbacks:
            callback()
