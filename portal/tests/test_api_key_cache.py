# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""The API-key cache holds plain values (ids, scopes, the key's hash), never a model instance or a
password hash, and never outlives a change of the key made by any path."""

import datetime as dt
import pickle

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from portal.models import ApiKey, Scope
from portal.tests.api_support import (  # noqa: F401 - fixtures
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
    new_key,
)

pytestmark = pytest.mark.django_db


def test_the_cache_entry_is_plain_values_without_the_users_password_hash(api_world):
    user = get_user_model().objects.create_user("delta", password="a-password-for-the-hash-2026")
    key, raw = new_key(user=user, rate_limit="100000/min")
    assert key_client(raw).get("/api/v1/documents/").status_code == 200
    entry = cache.get(f"api:key:{key.prefix}")
    assert isinstance(entry, dict)
    plain = (int, str, list, type(None), dt.datetime)
    assert all(isinstance(value, plain) for value in entry.values()), entry
    stored = pickle.dumps(entry)
    assert user.password.encode() not in stored and b"pbkdf2" not in stored and b"md5$" not in stored
    assert set(entry) >= {"id", "scopes", "user_id", "enterprise_ids"}


def test_a_cached_key_still_works_and_keeps_its_limits(api_world):
    key, raw = new_key(Scope.READ_MATCHES, enterprise_ids=[api_world.a.pk], rate_limit="100000/min")
    client = key_client(raw)
    assert client.get(f"/api/v1/enterprises/{api_world.a.pk}/").status_code == 200
    assert cache.get(f"api:key:{key.prefix}") is not None
    assert client.get(f"/api/v1/enterprises/{api_world.a.pk}/").status_code == 200  # from the cache
    assert_problem(client.get(f"/api/v1/enterprises/{api_world.b.pk}/"), 404)
    assert_problem(client.get("/api/v1/documents/"), 403)  # its scopes, from the cache


@pytest.mark.parametrize("how", ["sql", "bulk update"])
def test_a_revocation_without_signals_stops_the_cached_key_on_the_next_request(api_world, how):
    if connection.vendor != "postgresql":
        pytest.fail("needs PostgreSQL (the key counters' triggers): run the suite with make test")
    key, raw = new_key(rate_limit="100000/min")
    client = key_client(raw)
    assert client.get("/api/v1/documents/").status_code == 200
    assert cache.get(f"api:key:{key.prefix}") is not None
    if how == "sql":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE portal_apikey SET revoked_at = now() WHERE id = %s", [key.pk])
    else:
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert_problem(client.get("/api/v1/documents/"), 401)


def test_a_user_deactivated_by_sql_stops_the_cached_key(api_world):
    user = get_user_model().objects.create_user("epsilon")
    key, raw = new_key(user=user, rate_limit="100000/min")
    client = key_client(raw)
    assert client.get("/api/v1/documents/").status_code == 200
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)  # no signal
    assert_problem(client.get("/api/v1/documents/"), 401)
