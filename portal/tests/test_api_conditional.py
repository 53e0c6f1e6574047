# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""The match list's ETag (the change record's counters, not a hash of rows or body) and its cached bodies: every
change a client would see changes the tag, an unchanged page is a 304, a cached body is the body that
would be built, and no body is ever served to another caller. Also the short-lived API key cache."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from enterprises import services as enterprise_services
from enterprises.models import EnterpriseMembership, Project
from matching import services as matching_services
from matching.models import MatchResult, ResultDigest
from policies import generations
from policies import services as policy_services
from policies.models import Benefit, FactDefinition
from policies.rules import leaves
from portal.api import selectors
from portal.api.conditional import etag_of
from portal.api.services import revoke_api_key
from portal.api.v1.matches import views as matches
from portal.models import ApiKey, Scope
from portal.tests.api_support import (  # noqa: F401 - fixtures
    AS_OF,
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
    new_key,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def machine(api_world):
    return key_client(api_world.machine_key)


def page_url(world) -> str:
    return f"/api/v1/matches/?enterprise={world.a.pk}"


def result_with_conditions(world) -> MatchResult:
    return next(
        result
        for result in MatchResult.objects.filter(enterprise=world.a).order_by("pk")
        if len(result.leaf_outcomes) >= 2
    )


def built_afresh(client, url: str, **headers):
    """The page built from the rows (nothing cached)."""
    cache.clear()
    return client.get(url, **headers)


def test_unchanged_page_is_a_304_and_a_cached_body_is_the_built_body(machine, api_world):
    url = page_url(api_world)
    first = machine.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and len(first.json()["results"]) > 1
    again = machine.get(url)  # from the cache
    assert again.content == first.content and again["ETag"] == etag
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert "Accept-Language" in again["Vary"] and "Authorization" in again["Vary"]
    fresh = built_afresh(machine, url)
    assert fresh.content == first.content and fresh["ETag"] == etag
    not_modified = machine.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag and "Authorization" in not_modified["Vary"]


@pytest.mark.parametrize(
    "change",
    [
        {"status": "eligible"},
        {"amount": Decimal("123.45")},
        {"leaf_outcomes": "??"},  # the reasons' outcomes
        {"score": 7},
    ],
    ids=["status", "amount", "reasons", "score"],
)
def test_any_change_of_a_result_changes_the_tag_and_the_body(machine, api_world, change):
    url = page_url(api_world)
    before = machine.get(url)
    result = result_with_conditions(api_world)
    if "leaf_outcomes" in change:
        change = {"leaf_outcomes": "?" * len(result.leaf_outcomes)}
    # a raw write of results stands for a re-evaluation: matching's storage, the one writer of results,
    # bumps the enterprise's counter in its transaction (a raw write must do it itself)
    MatchResult.objects.filter(pk=result.pk).update(**change)
    generations.bump_results([api_world.a.pk])
    after = machine.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    row = next(row for row in after.json()["results"] if row["id"] == result.pk)
    if "status" in change:
        assert row["status"] == "eligible"
    if "amount" in change:
        assert row["amount"] == "123.45"
    if "leaf_outcomes" in change:
        assert [reason["outcome"] for reason in row["reasons"]] == ["unknown"] * len(result.leaf_outcomes)
    if "score" in change:
        assert row["score"] == 7
    assert after.content == built_afresh(machine, url).content
    assert machine.get(url, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


def test_a_changed_benefit_or_fact_label_changes_the_tag(machine, api_world):
    url = page_url(api_world)
    etag = machine.get(url)["ETag"]
    result = result_with_conditions(api_world)
    benefit = Benefit.objects.get(pk=result.benefit_id)
    benefit.name = "改过的名称"
    policy_services.save_benefit(benefit=benefit, reason="test")
    renamed = machine.get(url, HTTP_IF_NONE_MATCH=etag)
    assert renamed.status_code == 200
    assert {row["benefit"]["name"] for row in renamed.json()["results"] if row["id"] == result.pk} == {
        "改过的名称"
    }
    fact = leaves(result.benefit.condition)[0]["fact"]
    definition = FactDefinition.objects.get(code=fact)
    definition.label_zh = "改过的标签"
    policy_services.save_fact_definition(fact=definition, reason="test")
    relabelled = machine.get(url, HTTP_IF_NONE_MATCH=renamed["ETag"])
    assert relabelled.status_code == 200 and "改过的标签" in relabelled.content.decode()
    assert relabelled.content == built_afresh(machine, url).content


def test_language_page_and_parameters_have_their_own_tags(machine, api_world):
    url = page_url(api_world)
    chinese = machine.get(url)
    english = machine.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert english["ETag"] != chinese["ETag"]
    assert english.json()["results"][0]["status_label"] != chinese.json()["results"][0]["status_label"]
    assert machine.get(url, HTTP_IF_NONE_MATCH=chinese["ETag"], HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    assert english.content == built_afresh(machine, url, HTTP_ACCEPT_LANGUAGE="en").content
    first_page = machine.get(f"{url}&page_size=1")
    second_page = machine.get(f"{url}&page_size=1&cursor={first_page.json()['next_cursor']}")
    tags = {chinese["ETag"], first_page["ETag"], second_page["ETag"]}
    assert len(tags) == 3
    assert first_page.json()["results"][0]["id"] != second_page.json()["results"][0]["id"]


def test_a_cached_body_is_never_served_to_another_caller(machine, api_world):
    url = page_url(api_world)
    own = key_client(api_world.key_a)
    etag = own.get(url)["ETag"]
    # Plant a marker body where A's key finds its cached page: it is served to A's key only.
    cache_keys = [name for name in cache._cache if "api:v1:matches:" in name]  # LocMem's store
    assert len(cache_keys) == 1
    cache.set(cache_keys[0].split(":", 2)[2], b'{"marker":1}', 60)
    assert own.get(url).content == b'{"marker":1}'
    assert b"marker" not in machine.get(url).content
    # B's key sees nothing of A, whatever is cached.
    assert_problem(key_client(api_world.key_b).get(url), 404)
    assert b"marker" not in key_client(api_world.key_b).get("/api/v1/matches/").content
    assert key_client(api_world.key_b).get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_a_write_between_the_counters_and_the_rows_is_never_hidden_behind_the_old_tag(
    machine, api_world, monkeypatch
):
    """The counters are read before the rows: a write committed in between gives a body newer than
    its tag, and the next request (new counters) gets a new tag and that body, never a 304."""
    url = page_url(api_world)
    result = result_with_conditions(api_world)
    read_tag = matches.list_etag

    def tag_then_write(request, **kwargs):
        etag = read_tag(request, **kwargs)
        MatchResult.objects.filter(pk=result.pk).update(score=9)  # committed before the rows are read,
        generations.bump_results([result.enterprise_id])  # as storage writes it: with its counter
        return etag

    monkeypatch.setattr(matches, "list_etag", tag_then_write)
    raced = machine.get(url)
    assert next(row for row in raced.json()["results"] if row["id"] == result.pk)["score"] == 9
    monkeypatch.setattr(matches, "list_etag", read_tag)
    after = machine.get(url, HTTP_IF_NONE_MATCH=raced["ETag"])
    assert after.status_code == 200 and after["ETag"] != raced["ETag"]
    assert after.content == raced.content == built_afresh(machine, url).content


def test_a_page_of_several_enterprises_is_tagged_by_its_body(machine, api_world):
    """No counter names every row of an unnarrowed list: its ETag is the hash of its body, not cached."""
    response = machine.get("/api/v1/matches/")
    assert response.status_code == 200 and response["ETag"] == etag_of(response.content)
    assert not [name for name in cache._cache if "api:v1:matches:" in name]
    assert machine.get("/api/v1/matches/", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_the_browsable_page_is_not_cached(api_world):
    client = key_client(api_world.machine_key)
    html = client.get(page_url(api_world), HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"].startswith("text/html")
    assert not [name for name in cache._cache if "api:v1:matches:" in name]


# --- every kind of change a page is made of, and who may still revalidate it --------------------------------


def _rescore(world) -> None:
    MatchResult.objects.filter(enterprise=world.a).update(score=3)  # raw, as storage writes: bumped too
    generations.bump_results([world.a.pk])


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
    policy_services.save_fact_definition(fact=definition, reason="test")


def _results_deleted(world) -> None:
    MatchResult.objects.filter(enterprise=world.a).delete()  # raw, as _rescore: bumped explicitly
    generations.bump_results([world.a.pk])


def _results_truncated(world) -> None:
    with connection.cursor() as cursor:  # an operator's maintenance: it bumps the `results` scope
        cursor.execute("TRUNCATE matching_matchresult CASCADE")
    generations.bump(["results"])


def _bulk_run(world) -> None:
    MatchResult.objects.filter(enterprise=world.a).update(fingerprint=0)  # forces a rewrite
    ResultDigest.objects.filter(enterprise=world.a).delete()  # (what is stored no longer matches its digest)
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
    ],
    ids=lambda change: change.__name__.strip("_"),
)
def test_after_any_change_a_revalidation_gets_the_page_built_now(machine, api_world, change):
    url = page_url(api_world)
    before = machine.get(url)
    assert machine.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304
    change(api_world)
    after = machine.get(url, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.content != before.content
    assert after.content == built_afresh(machine, url).content
    assert machine.get(url, HTTP_IF_NONE_MATCH=after["ETag"]).status_code == 304


@pytest.mark.parametrize("how", ["sql", "bulk update", "service"])
def test_a_key_revoked_by_any_path_gets_no_more_pages_nor_304s(api_world, how):
    """The attack: revoke a polling key by SQL while its page is cached and the key itself is cached:
    the very next poll is a 401, and every one after it, with or without its ETag."""
    url = page_url(api_world)
    key, raw = new_key(rate_limit="100000/min")
    client = key_client(raw)
    etag = client.get(url)["ETag"]
    assert client.get(url).status_code == 200 and client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert cache.get(f"api:key:{key.prefix}") is not None
    if how == "sql":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE portal_apikey SET revoked_at = now() WHERE id = %s", [key.pk])
    elif how == "bulk update":
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())  # no signal is sent
    else:
        revoke_api_key(key_id=key.pk, actor=None)
    for _ in range(3):
        assert_problem(client.get(url, HTTP_IF_NONE_MATCH=etag), 401)
        assert_problem(client.get(url), 401)


def test_a_narrowed_or_rescoped_key_or_a_member_who_left_is_refused_at_once(api_world):
    url = page_url(api_world)
    key, raw = new_key(rate_limit="100000/min")
    client = key_client(raw)
    etag = client.get(url)["ETag"]
    key.enterprises.set([api_world.b])
    assert_problem(client.get(url, HTTP_IF_NONE_MATCH=etag), 404)
    key.enterprises.clear()
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)  # the key's counter moved: a new tag
    assert again.status_code == 200 and again["ETag"] != etag
    etag = again["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    ApiKey.objects.filter(pk=key.pk).update(scopes=[Scope.READ_POLICIES])  # no signal
    assert_problem(client.get(url, HTTP_IF_NONE_MATCH=etag), 403)
    person = key_client(api_world.key_a)
    own = person.get(url)
    assert own.status_code == 200 and person.get(url, HTTP_IF_NONE_MATCH=own["ETag"]).status_code == 304
    EnterpriseMembership.objects.filter(user=api_world.user_a).update(enterprise=api_world.b)  # no signal
    assert_problem(person.get(url, HTTP_IF_NONE_MATCH=own["ETag"]), 404)
    assert_problem(person.get(url), 404)


def test_the_writers_bump_one_counter_per_write_and_enterprise_touched(api_world):
    """The counters the ETag is made of, read as the view reads them: results written by matching's
    storage bump the enterprises they touch, policy writes bump `policy` (both in the writing
    transaction); a key's counter moves by a trigger on its own table, for what decides access only."""
    a, b = f"results:{api_world.a.pk}", f"results:{api_world.b.pk}"
    before = selectors.content_generations([a, b, "policy"])
    lease = Project.objects.get(enterprise=api_world.a, kind=Project.Kind.FACTORY_LEASE)
    enterprise_services.delete_related(enterprise_id=api_world.a.pk, instance=lease)
    matching_services.evaluate_enterprise(enterprise_id=api_world.a.pk, as_of=AS_OF)
    after = selectors.content_generations([a, b, "policy"])
    assert after == (before[0] + 1, before[1], before[2])
    matching_services.evaluate_enterprise(enterprise_id=api_world.a.pk, as_of=AS_OF)  # nothing changes
    assert selectors.content_generations([a, b, "policy"]) == after
    benefit = Benefit.objects.first()
    benefit.name = f"{benefit.name}（修订）"
    policy_services.save_benefit(benefit=benefit, reason="test")
    assert selectors.content_generations([a, b, "policy"]) == (after[0], after[1], after[2] + 1)
    key = ApiKey.objects.first()
    (counter,) = selectors.content_generations([f"key:{key.prefix}"])
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())  # not what decides access
    assert selectors.content_generations([f"key:{key.prefix}"]) == (counter,)
    ApiKey.objects.filter(pk=key.pk).update(rate_limit="5/min")
    assert selectors.content_generations([f"key:{key.prefix}"]) == (counter + 1,)


# --- the key cache ----------------------------------------------------------------------------------------


def test_a_cached_key_stops_at_once_when_revoked_limited_or_its_user_deactivated(api_world):
    key, raw = new_key(rate_limit="100000/min")
    client = key_client(raw)
    assert client.get("/api/v1/documents/").status_code == 200
    assert cache.get(f"api:key:{key.prefix}") is not None  # found once, kept
    assert client.get(f"/api/v1/enterprises/{api_world.b.pk}/").status_code == 200
    key.enterprises.set([api_world.a])
    assert_problem(client.get(f"/api/v1/enterprises/{api_world.b.pk}/"), 404)
    revoke_api_key(key_id=key.pk, actor=None)
    assert_problem(client.get("/api/v1/documents/"), 401)

    user = get_user_model().objects.create_user("gamma")
    _key, user_raw = new_key(user=user, rate_limit="100000/min")
    assert key_client(user_raw).get("/api/v1/documents/").status_code == 200
    user.is_active = False
    user.save()
    assert_problem(key_client(user_raw).get("/api/v1/documents/"), 401)


def test_a_cached_key_still_needs_its_secret_and_records_use_once_a_minute(api_world):
    key, raw = new_key(rate_limit="100000/min")
    assert key_client(raw).get("/api/v1/documents/").status_code == 200
    prefix = raw.split(".")[0]
    assert_problem(key_client(f"{prefix}.wrong-secret").get("/api/v1/documents/"), 401)
    used = ApiKey.objects.get(pk=key.pk).last_used_at
    cached = selectors.active_key(raw)
    assert cached.from_cache and cached.last_used_at == used  # the cached copy has the recorded use


def test_the_rendering_version_covers_every_module_that_shapes_a_page():
    """The code hashed into the list's ETag is derived, not a hand-kept list:
    the output package, the rule language, the money fields, the page envelope and the status labels."""
    from pathlib import Path

    from django.conf import settings

    from portal.api.v1.matches.etag import rendering_files

    root = Path(settings.BASE_DIR).resolve()
    files = {path.relative_to(root).as_posix() for path in rendering_files()}
    package = {f"portal/api/v1/matches/{path.name}" for path in (root / "portal/api/v1/matches").glob("*.py")}
    assert package <= files and "portal/api/v1/matches/output.py" in package
    assert {"matching/models.py", "portal/api/fields.py", "portal/api/pagination.py"} <= files
    assert {"policies/rules/render.py", "policies/rules/parse.py", "policies/rules/values.py"} <= files
    assert "portal/locale/en/LC_MESSAGES/django.mo" in files
