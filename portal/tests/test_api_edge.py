# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""The API edge cache (portal/api/v1/matches/edge.py) on PostgreSQL and Redis: a replayed reply is exactly the
reply Django gives for the same request now — after every kind of change a page is made of — and
the edge never lets through what Django would refuse (a wrong secret, a revoked, narrowed or
exhausted key, a person's key, a session)."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import sys
import uuid
from dataclasses import dataclass

import pytest
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection
from django.utils import timezone

from enterprises import services as enterprise_services
from enterprises.models import Project
from matching import services as matching_services
from matching.models import MatchResult
from policies import generations as content_generations
from policies import services as policy_services
from policies.models import Benefit, ContentGeneration, FactDefinition
from policies.rules import leaves
from portal.api.services import revoke_api_key
from portal.api.v1.matches import edge
from portal.models import ApiKey, Scope
from portal.tests.api_support import (  # noqa: F401 - fixtures
    AS_OF,
    api_data,
    api_world,
    fresh_throttle_counts,
    new_key,
)

pytestmark = pytest.mark.django_db
# This run's Redis (the suite's broker database unless TEST_CACHE_URL names another); every test keeps
# its entries under a key prefix of its own and deletes them afterwards.
REDIS = os.environ.get("TEST_CACHE_URL") or os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/14")


@dataclass
class Reply:
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    from_edge: bool

    @property
    def code(self) -> int:
        return int(self.status[:3])

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


class Wsgi:
    """Requests sent as a WSGI server sends them, to the edge-wrapped and to the plain application."""

    def __init__(self, caplog, prefix: str) -> None:
        self.prefix = prefix
        self.edge_app = edge.EdgeCache(WSGIHandler())
        self.plain_app = WSGIHandler()
        self.caplog = caplog

    def environ(self, raw_key: str | None, query: str, headers: dict[str, str]) -> dict:
        environ = {
            "REQUEST_METHOD": "GET",
            "SCRIPT_NAME": "",
            "PATH_INFO": edge.PATH,
            "QUERY_STRING": query,
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "HTTP_HOST": "testserver",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
        }
        if raw_key is not None:
            environ["HTTP_AUTHORIZATION"] = f"Api-Key {raw_key}"
        environ.update({f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()})
        return environ

    def _call(self, app, environ) -> tuple[str, list, bytes]:
        """As a WSGI server calls it (the iterable closed at the end), but, like Django's test client,
        without closing the test's database connection at the start and end of the request."""
        sent = []
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            iterable = app(environ, lambda status, headers, exc_info=None: sent.extend([status, headers]))
            body = b"".join(iterable)
            if hasattr(iterable, "close"):
                iterable.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)
        return sent[0], list(sent[1]), body

    def get(self, raw_key: str | None, query: str, **headers: str) -> Reply:
        self.caplog.clear()
        status, sent_headers, body = self._call(self.edge_app, self.environ(raw_key, query, headers))
        from_edge = any(record.getMessage().endswith(" edge") for record in self.caplog.records)
        return Reply(status, sent_headers, body, from_edge)

    def django(self, raw_key: str | None, query: str, **headers: str) -> Reply:
        """What Django alone answers now (its own body cache cleared: built from the rows)."""
        client = cache._cache.get_client(write=True)
        for name in client.scan_iter(f"{self.prefix}:*api:v1:matches:*"):
            client.delete(name)
        status, sent_headers, body = self._call(self.plain_app, self.environ(raw_key, query, headers))
        return Reply(status, sent_headers, body, False)


@pytest.fixture
def wsgi(settings, caplog):
    if connection.vendor != "postgresql":
        pytest.fail("the edge cache needs PostgreSQL (its triggers): run the suite with make test")
    prefix = f"edge-test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": REDIS, "KEY_PREFIX": prefix}
    }
    settings.API_EDGE_CACHE = True
    caplog.set_level(logging.INFO, logger="portal.requests")
    assert edge.enabled()
    yield Wsgi(caplog, prefix)
    client = cache._cache.get_client(write=True)
    for name in client.scan_iter(f"{prefix}:*"):
        client.delete(name)


def same_reply(reply: Reply, expected: Reply) -> None:
    assert reply.status == expected.status
    assert reply.body == expected.body
    assert sorted(reply.headers) == sorted(expected.headers), "\n".join(
        map(str, (sorted(reply.headers), sorted(expected.headers)))
    )


def query_of(world) -> str:
    return f"enterprise={world.a.pk}"


def test_a_repeated_get_is_replayed_byte_for_byte(wsgi, api_world):
    query = query_of(api_world)
    first = wsgi.get(api_world.machine_key, query)
    assert first.code == 200 and not first.from_edge
    assert len(first.body) > 1000 and first.header("ETag")
    again = wsgi.get(api_world.machine_key, query)
    assert again.from_edge
    same_reply(again, first)
    same_reply(again, wsgi.django(api_world.machine_key, query))


def test_a_conditional_get_is_a_304_like_djangos(wsgi, api_world):
    query = query_of(api_world)
    etag = wsgi.get(api_world.machine_key, query).header("ETag")
    replayed = wsgi.get(api_world.machine_key, query, if_none_match=etag)
    assert replayed.from_edge and replayed.code == 304 and replayed.body == b""
    same_reply(replayed, wsgi.django(api_world.machine_key, query, if_none_match=etag))
    other = wsgi.get(api_world.machine_key, query, if_none_match='"something-else"')
    assert other.from_edge and other.code == 200


def _rescore(world) -> None:
    # a raw write of results (no service: no user can make it) must bump the counter itself
    MatchResult.objects.filter(enterprise=world.a).update(score=3)
    content_generations.bump_results([world.a.pk])


def _re_evaluate_after_new_data(world) -> None:
    lease = Project.objects.get(enterprise=world.a, kind=Project.Kind.FACTORY_LEASE)
    enterprise_services.delete_related(enterprise_id=world.a.pk, instance=lease)
    matching_services.evaluate_enterprise(enterprise_id=world.a.pk, as_of=AS_OF)


def _cap_edit(world) -> None:
    result = MatchResult.objects.filter(enterprise=world.a).exclude(amount=None).first()
    benefit = Benefit.objects.get(pk=result.benefit_id)
    benefit.name = f"{benefit.name}（修订）"
    policy_services.save_benefit(benefit=benefit, reason="test")


def _relabel_a_fact(world) -> None:
    result = next(result for result in MatchResult.objects.filter(enterprise=world.a) if result.leaf_outcomes)
    definition = FactDefinition.objects.get(code=leaves(result.benefit.condition)[0]["fact"])
    definition.label_zh = "改过的标签"
    assert policy_services.save_fact_definition(fact=definition, reason="test") == "updated"


def _results_deleted(world) -> None:
    MatchResult.objects.filter(enterprise=world.a).delete()  # raw, as _rescore: bumped explicitly
    content_generations.bump_results([world.a.pk])


def _results_truncated(world) -> None:
    with connection.cursor() as cursor:  # an operator's maintenance: it bumps the `results` scope
        cursor.execute("TRUNCATE matching_matchresult CASCADE")
    content_generations.bump(["results"])


def _bulk_run(world) -> None:
    MatchResult.objects.filter(enterprise=world.a).update(fingerprint=0)  # forces a rewrite
    matching_services.evaluate_benefits(as_of=AS_OF + dt.timedelta(days=1), cause="date")


@pytest.mark.parametrize(
    "change",
    [
        _rescore,
        _re_evaluate_after_new_data,
        _cap_edit,
        _relabel_a_fact,
        _results_deleted,
        _results_truncated,
        _bulk_run,
    ],  # fmt: skip
    ids=lambda change: change.__name__.strip("_"),
)
def test_after_any_change_the_reply_is_djangos_reply_now(wsgi, api_world, change):
    query = query_of(api_world)
    before = wsgi.get(api_world.machine_key, query)
    assert wsgi.get(api_world.machine_key, query).from_edge
    change(api_world)
    after = wsgi.get(api_world.machine_key, query)
    assert not after.from_edge  # a counter moved: Django built the page again
    assert after.body != before.body
    same_reply(after, wsgi.django(api_world.machine_key, query))
    replayed = wsgi.get(api_world.machine_key, query)  # and stored it again
    assert replayed.from_edge
    same_reply(replayed, after)


def test_languages_pages_and_hosts_are_separate_replies(wsgi, api_world):
    query = query_of(api_world)
    chinese = wsgi.get(api_world.machine_key, query)
    english = wsgi.get(api_world.machine_key, query, accept_language="en")
    assert not english.from_edge and english.body != chinese.body
    assert wsgi.get(api_world.machine_key, query, accept_language="en").from_edge
    same_reply(wsgi.get(api_world.machine_key, query, accept_language="en"), english)
    same_reply(wsgi.get(api_world.machine_key, query), chinese)
    first_page = wsgi.get(api_world.machine_key, f"{query}&page_size=1")
    assert not first_page.from_edge and first_page.body != chinese.body


# --- what the edge must never let through ------------------------------------------------------------------


def test_a_wrong_secret_gets_djangos_401(wsgi, api_world):
    query = query_of(api_world)
    wsgi.get(api_world.machine_key, query)
    prefix = api_world.machine_key.split(".")[0]
    wrong = wsgi.get(f"{prefix}.not-the-secret", query)
    assert wrong.code == 401 and not wrong.from_edge


def test_a_revoked_narrowed_or_rescoped_key_is_refused_at_once(wsgi, api_world):
    query = query_of(api_world)
    key, raw = new_key(rate_limit="100000/min")
    assert wsgi.get(raw, query).code == 200 and wsgi.get(raw, query).from_edge
    key.enterprises.set([api_world.b])
    narrowed = wsgi.get(raw, query)
    assert narrowed.code == 404 and not narrowed.from_edge
    key.enterprises.clear()
    assert wsgi.get(raw, query).code == 200 and wsgi.get(raw, query).from_edge
    key.scopes = [Scope.READ_POLICIES]
    key.save()
    assert wsgi.get(raw, query).code == 403
    key.scopes = [Scope.READ_MATCHES]
    key.save()
    assert wsgi.get(raw, query).code == 200 and wsgi.get(raw, query).from_edge
    revoke_api_key(key_id=key.pk, actor=None)
    revoked = wsgi.get(raw, query)
    assert revoked.code == 401 and not revoked.from_edge


@pytest.mark.parametrize("how", ["sql", "bulk update", "service"])
def test_a_key_revoked_by_any_path_gets_no_more_replies(wsgi, api_world, how):
    """The attack: revoke a polling key by SQL while its pages are kept (edge) and the key itself is
    cached (Django): the very next poll is a 401, and every one after it."""
    query = query_of(api_world)
    key, raw = new_key(rate_limit="100000/min")
    assert wsgi.get(raw, query).code == 200 and wsgi.get(raw, query).from_edge
    assert cache.get(f"api:key:{key.prefix}") is not None  # Django's key cache holds it too
    if how == "sql":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE portal_apikey SET revoked_at = now() WHERE id = %s", [key.pk])
    elif how == "bulk update":
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # no signal is sent
    else:
        revoke_api_key(key_id=key.pk, actor=None)
    for _ in range(3):
        reply = wsgi.get(raw, query)
        assert reply.code == 401 and not reply.from_edge


def test_replies_count_in_the_rate_limit(wsgi, api_world):
    query = query_of(api_world)
    _key, raw = new_key(Scope.READ_MATCHES, rate_limit="3/min")
    replies = [wsgi.get(raw, query) for _ in range(4)]
    assert [reply.code for reply in replies] == [200, 200, 200, 429]
    assert [reply.from_edge for reply in replies] == [False, True, True, False]
    assert int(replies[3].header("Retry-After")) > 0
    assert replies[3].header("Content-Type").startswith("application/problem+json")


def test_a_persons_key_and_a_session_are_always_answered_by_django(wsgi, api_world):
    query = query_of(api_world)
    for _ in range(2):
        reply = wsgi.get(api_world.key_a, query)
        assert reply.code == 200 and not reply.from_edge
    wsgi.get(api_world.machine_key, query)
    with_cookie = wsgi.get(api_world.machine_key, query, cookie="sessionid=whatever")
    assert with_cookie.code == 200 and not with_cookie.from_edge
    other_enterprise = wsgi.get(api_world.key_a, f"enterprise={api_world.b.pk}")
    assert other_enterprise.code == 404 and not other_enterprise.from_edge


def test_use_of_a_key_is_recorded_by_replies(wsgi, api_world):
    query = query_of(api_world)
    key, raw = new_key(Scope.READ_MATCHES, rate_limit="100000/min")
    wsgi.get(raw, query)
    long_ago = timezone.now() - dt.timedelta(days=3)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=long_ago)
    assert wsgi.get(raw, query).from_edge
    assert ApiKey.objects.get(pk=key.pk).last_used_at > long_ago
    assert wsgi.get(raw, query).from_edge  # recording use changed no counter


def test_off_without_redis_or_when_switched_off(settings, api_world):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert not edge.enabled()
    settings.CACHES = {"default": {"BACKEND": "portal.cache.RedisCache", "LOCATION": REDIS}}
    settings.API_EDGE_CACHE = False
    assert not edge.enabled()


# --- the counters themselves --------------------------------------------------------------------------------


def generations() -> dict[str, int]:
    return dict(ContentGeneration.objects.values_list("scope", "value"))


def test_the_writers_bump_one_counter_per_write_and_enterprise_touched(api_world):
    """Results written by matching's storage bump the enterprises they touch, policy writes bump
    `policy` (both in the writing transaction); a key's counter moves by a trigger on its table."""
    before = generations()
    lease = Project.objects.get(enterprise=api_world.a, kind=Project.Kind.FACTORY_LEASE)
    enterprise_services.delete_related(enterprise_id=api_world.a.pk, instance=lease)
    matching_services.evaluate_enterprise(enterprise_id=api_world.a.pk, as_of=AS_OF)
    after = generations()
    a, b = f"results:{api_world.a.pk}", f"results:{api_world.b.pk}"
    assert after[a] == before.get(a, 0) + 1
    assert after.get(b) == before.get(b)
    assert after.get("policy") == before.get("policy")
    matching_services.evaluate_enterprise(enterprise_id=api_world.a.pk, as_of=AS_OF)  # nothing changes
    assert generations()[a] == after[a]
    benefit = Benefit.objects.first()
    benefit.name = f"{benefit.name}（修订）"
    policy_services.save_benefit(benefit=benefit, reason="test")
    assert generations()["policy"] == after.get("policy", 0) + 1
    key = ApiKey.objects.first()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())  # not what decides access
    assert generations().get(f"key:{key.prefix}") == after.get(f"key:{key.prefix}")
    ApiKey.objects.filter(pk=key.pk).update(rate_limit="5/min")
    assert generations()[f"key:{key.prefix}"] == after.get(f"key:{key.prefix}", 0) + 1


def test_the_store_keeps_the_most_recently_used_pages_within_its_size(settings):
    settings.API_EDGE_CACHE_MB = 1
    store = edge.Store()
    page = b"x" * 400_000

    def entry(body: bytes) -> edge.Entry:
        return edge.Entry((1, 0, 0, 0), 1, "", "200 OK", [], body)

    store.put("a", entry(page))
    store.put("b", entry(page))
    assert store.get("a") is not None  # a is now the most recently used
    store.put("c", entry(page))  # 1.2 MB: the least recently used (b) goes
    assert store.get("b") is None and store.get("a") is not None and store.get("c") is not None
    store.put("huge", entry(b"x" * 2_000_000))  # larger than the whole store: not kept, nothing lost
    assert store.get("huge") is None and len(store) == 2
