import shutil
from pathlib import Path

import pytest
import yaml
from django.db import transaction

from policies.loader import default_paths, load_files
from policies.tests.helpers import catalog_paths_for_000, policy_fixture


@pytest.fixture(scope="module")
def all_fixtures_loaded(django_db_setup, django_db_blocker):
    """Every fixture (catalog, then documents) loaded once per test module, rolled back afterwards.

    Yields (reports, errors) so a test can insist that every file loaded."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield load_files(default_paths())
        transaction.set_rollback(True)


@pytest.fixture
def catalog_loaded(db):
    reports, errors = load_files(catalog_paths_for_000())
    assert not errors, [e.messages for e in errors]
    return reports


@pytest.fixture
def doc_000(catalog_loaded):
    """Policy 000 (闵府规发〔2024〕1号) loaded into the test database."""
    reports, errors = load_files([policy_fixture("000")])
    assert not errors, errors[0].messages
    return reports[0]


@pytest.fixture
def fixture_copy(tmp_path):
    """Copy a fixture to tmp_path, let the test edit its parsed YAML, and write it back."""

    def copy(prefix: str, edit=None) -> Path:
        source = policy_fixture(prefix)
        target = tmp_path / source.name
        shutil.copy(source, target)
        if edit is not None:
            data = yaml.safe_load(target.read_text(encoding="utf-8"))
            edit(data)
            target.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return target

    return copy
