import pytest
from django.core.cache import cache
from django.db import transaction

from applications.tests.support import World, build_world
from policies.loader import catalog_paths, load_files


@pytest.fixture(scope="module")
def catalog_loaded(django_db_setup, django_db_blocker):
    """The fact catalog (fixtures/facts), loaded once per test module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        _reports, errors = load_files(catalog_paths())
        assert not errors, [error.messages for error in errors]
        yield
        transaction.set_rollback(True)


@pytest.fixture
def catalog_committed(transactional_db):
    """The fact catalog in a transactional test (for tests that use several connections)."""
    _reports, errors = load_files(catalog_paths())
    assert not errors, [error.messages for error in errors]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(catalog_loaded, db) -> World:
    return build_world()
