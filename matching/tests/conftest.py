import pytest
from django.db import transaction

from policies.loader import default_paths, load_files


@pytest.fixture(scope="module")
def policies_loaded(django_db_setup, django_db_blocker):
    """The fact catalog and every policy fixture, loaded once per test module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        reports, errors = load_files(default_paths())
        assert not errors, [error.messages for error in errors]
        yield reports
        transaction.set_rollback(True)
