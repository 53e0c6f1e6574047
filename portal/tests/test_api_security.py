# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Who may see and do what: API keys (hashed, revocable, scoped, limited, throttled), sessions, and
object-level security — with enterprise A's key or user, everything of enterprise B is a 404."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from applications import services as application_services
from applications.tests.support import with_material
from enterprises.models import Enterprise
from enterprises.tests.factories import UserFactory
from enterprises.validators import credit_code_for
from matching.models import MatchChange, MatchResult
from policies.models import Benefit
from portal.api.services import revoke_api_key
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


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def lease() -> Benefit:
    return Benefit.objects.get(
        clause__document__key="mh-2024-new-industrialization", clause__number="7", key="new-factory-lease"
    )


def b_side(world) -> dict[str, int]:
    """One row of every kind that belongs to enterprise B."""
    change = MatchChange.objects.create(
        enterprise=world.b,
        benefit=lease(),
        old_status="needs_info",
        new_status="not_eligible",
        cause="test",
        as_of=dt.date(2025, 6, 1),
    )
    MatchChange.objects.filter(pk=change.pk).update(created_at=timezone.now() - dt.timedelta(minutes=1))
    application = application_services.create_draft(
        actor=world.user_b,
        enterprise_id=world.b.pk,
        benefit_id=lease().pk,
        requested_amount=Decimal("1000000"),
    )
    application = with_material(world.user_b, application)
    application = application_services.submit(
        actor=world.user_b, application_id=application.pk, expected_version=application.version
    )
    return {
        "enterprise": world.b.pk,
        "match": MatchResult.objects.filter(enterprise=world.b).first().pk,
        "change": change.pk,
        "application": application.pk,
        "version": application.version,
    }


def clients_of_a(world) -> dict[str, Client]:
    session = Client()
    session.force_login(world.user_a)
    limited, raw = new_key(name="只限甲", enterprise_ids=[world.a.pk], rate_limit="100000/min")
    return {
        "key of A's user": key_client(world.key_a),
        "session of A's user": session,
        "key limited to A": key_client(raw),
    }


@pytest.mark.parametrize("who", ["key of A's user", "session of A's user", "key limited to A"])
def test_nothing_of_enterprise_b_is_visible_to_enterprise_a(api_world, who):
    b = b_side(api_world)
    client = clients_of_a(api_world)[who]
    json = {"content_type": "application/json"}
    for url in (
        f"/api/v1/enterprises/{b['enterprise']}/",
        f"/api/v1/matches/{b['match']}/",
        f"/api/v1/matches/?enterprise={b['enterprise']}",
        f"/api/v1/changes/{b['change']}/",
        f"/api/v1/changes/?enterprise={b['enterprise']}",
        f"/api/v1/applications/{b['application']}/",
        f"/api/v1/applications/?enterprise={b['enterprise']}",
    ):
        assert_problem(client.get(url), 404, "not_found")
    patch = client.patch(f"/api/v1/enterprises/{b['enterprise']}/", {"version": 1, "town": "x"}, **json)
    assert_problem(patch, 404)
    for action in ("withdraw", "submit", "start-review", "approve"):
        response = client.post(
            f"/api/v1/applications/{b['application']}/{action}/", {"version": b["version"]}, **json
        )
        assert_problem(response, 404)
    # The lists hold A's rows only.
    assert {row["id"] for row in client.get("/api/v1/enterprises/").json()["results"]} == {api_world.a.pk}
    matches = client.get("/api/v1/matches/?page_size=1000").json()["results"]
    assert matches and {row["enterprise"] for row in matches} == {api_world.a.pk}
    assert client.get("/api/v1/changes/").json()["results"] == []
    assert client.get("/api/v1/applications/").json()["results"] == []


def test_a_key_limited_to_enterprises_cannot_create_one(api_world):
    _key, raw = new_key(enterprise_ids=[api_world.a.pk])
    response = key_client(raw).post("/api/v1/enterprises/", {"name": "x"}, content_type="application/json")
    assert_problem(response, 403, "permission_denied")


def test_a_signed_in_user_of_no_enterprise_sees_none():
    client = Client()
    client.force_login(UserFactory())
    assert client.get("/api/v1/enterprises/").json()["results"] == []
    assert client.get("/api/v1/matches/").json()["results"] == []


@pytest.mark.parametrize(
    ("scopes", "method", "url", "allowed"),
    [
        (["read_policies"], "get", "/api/v1/documents/", True),
        (["read_policies"], "post", "/api/v1/self-check/", True),
        (["read_policies"], "get", "/api/v1/matches/", False),
        (["read_policies"], "get", "/api/v1/changes/", False),
        (["read_policies"], "get", "/api/v1/enterprises/", False),
        (["read_policies"], "get", "/api/v1/applications/", False),
        (["read_matches"], "get", "/api/v1/facts/", False),
        (["read_matches"], "get", "/api/v1/matches/", True),
        (["read_matches"], "get", "/api/v1/enterprises/", True),
        (["read_matches"], "post", "/api/v1/enterprises/", False),
        (["write_enterprises"], "get", "/api/v1/enterprises/", True),
        (["write_enterprises"], "get", "/api/v1/matches/", False),
        (["applications"], "get", "/api/v1/applications/", True),
        (["applications"], "get", "/api/v1/benefits/", False),
    ],
)
def test_scopes_are_enforced_per_endpoint(api_world, scopes, method, url, allowed):
    _key, raw = new_key(*scopes)
    body = {"facts": {}} if url.endswith("self-check/") else {"name": "x"}
    response = (
        getattr(key_client(raw), method)(url, body, content_type="application/json")
        if method == "post"
        else key_client(raw).get(url)
    )
    if allowed:
        assert response.status_code in (200, 201), response.content
    else:
        problem = assert_problem(response, 403, "permission_denied")
        assert "权限范围" in problem["detail"]


def test_credentials_missing_wrong_malformed_or_revoked_are_401(api_world):
    response = Client().get("/api/v1/documents/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"
    key, raw = new_key()
    prefix = raw.split(".")[0]
    for header in (
        f"Api-Key {prefix}.wrong-secret",
        "Api-Key",
        "Api-Key a b",
        f"Api-Key {raw}x",
        "Api-Key nodot",
    ):
        assert_problem(
            Client(HTTP_AUTHORIZATION=header).get("/api/v1/documents/"), 401, "authentication_failed"
        )
    assert key_client(raw).get("/api/v1/documents/").status_code == 200
    revoke_api_key(key_id=key.pk, actor=None)
    assert_problem(key_client(raw).get("/api/v1/documents/"), 401, "authentication_failed")


def test_a_key_of_an_inactive_user_stops_working(api_world):
    get_user_model().objects.filter(pk=api_world.user_a.pk).update(is_active=False)
    assert_problem(key_client(api_world.key_a).get("/api/v1/documents/"), 401)


def test_only_a_hash_of_the_key_is_stored_and_use_is_recorded(api_world):
    key, raw = new_key()
    stored = ApiKey.objects.filter(pk=key.pk).values()[0]
    assert all(raw.split(".")[1] not in str(value) for value in stored.values())
    assert key.secret_hash != raw and len(key.secret_hash) == 64
    assert key.last_used_at is None
    key_client(raw).get("/api/v1/documents/")
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_throttling_counts_per_key(api_world):
    _key, raw = new_key(rate_limit="3/min")
    client = key_client(raw)
    assert [client.get("/api/v1/facts/").status_code for _ in range(3)] == [200, 200, 200]
    throttled = client.get("/api/v1/facts/")
    assert_problem(throttled, 429, "throttled")
    assert int(throttled["Retry-After"]) > 0
    # Another key is counted apart.
    assert key_client(new_key(rate_limit="3/min")[1]).get("/api/v1/facts/").status_code == 200


def test_session_writes_need_the_csrf_token(api_world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(api_world.staff)
    response = client.post("/api/v1/self-check/", {"facts": {}}, content_type="application/json")
    assert_problem(response, 403, "permission_denied")


def test_create_api_key_command_prints_a_working_key_once(api_world):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "create_api_key",
        "--name", "某银行对接",
        "--scope", "read_matches",
        "--enterprise", str(api_world.a.pk),
        "--created-by", api_world.staff.username,
        stdout=out,
        stderr=err,
    )  # fmt: skip
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="某银行对接")
    assert key.scopes == ["read_matches"] and key.created_by == api_world.staff
    assert list(key.enterprises.values_list("pk", flat=True)) == [api_world.a.pk]
    client = key_client(raw)
    assert [row["id"] for row in client.get("/api/v1/enterprises/").json()["results"]] == [api_world.a.pk]
    assert_problem(client.get("/api/v1/documents/"), 403)
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_key", "--name", "x", "--scope", "read_matches", "--user", "nobody")
    with pytest.raises(CommandError, match="no enterprise"):
        call_command("create_api_key", "--name", "x", "--scope", "read_matches", "--enterprise", "999999")


def test_staff_issue_a_key_in_admin_see_it_once_and_revoke_it(api_world):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-2026")
    client = Client()
    client.force_login(admin)
    response = client.post(
        "/admin/portal/apikey/add/",
        {"name": "园区平台", "scopes": [Scope.READ_POLICIES, Scope.READ_MATCHES], "rate_limit": ""},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="园区平台")
    assert key.created_by == admin and key.scopes == ["read_matches", "read_policies"]
    shown = [str(message) for message in response.context["messages"]]
    raw = next(
        text.split("<code style='user-select:all'>")[1].split("</code>")[0]
        for text in shown
        if "<code" in text
    )
    assert raw.startswith(key.prefix + ".")
    assert key_client(raw).get("/api/v1/documents/").status_code == 200
    page = client.get(f"/admin/portal/apikey/{key.pk}/change/").content.decode()
    assert raw not in page  # never shown again
    client.post("/admin/portal/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
    assert_problem(key_client(raw).get("/api/v1/documents/"), 401)
    assert key.history.latest().history_user == admin


def test_machine_writes_are_attributed_to_the_staff_member_who_issued_the_key(api_world):
    body = {"name": "机构录入的企业", "credit_code": credit_code_for(777001)}
    created = key_client(api_world.machine_key).post(
        "/api/v1/enterprises/", body, content_type="application/json"
    )
    assert created.status_code == 201
    assert Enterprise.objects.get(pk=created.json()["id"]).history.latest().history_user == api_world.staff


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/v1/matches/", "changed_since"),
        ("/api/v1/changes/", "since"),
        ("/api/v1/enterprises/", "updated_since"),
    ],
)
def test_an_instant_with_any_offset_is_read_as_utc_and_one_out_of_range_is_a_400(api_world, url, parameter):
    """Found by the stateful fuzzer: "+16:02" is valid ISO 8601 that PostgreSQL refuses (a 500)."""
    client = key_client(api_world.machine_key)
    assert client.get(url, {parameter: "0573-05-28T06:59:47+16:02"}).status_code == 200
    assert client.get(url, {parameter: "2026-12-02T08:00:00+08:00"}).status_code == 200
    refused = client.get(url, {parameter: "0001-01-01T00:00:00+05:00"})  # before year 1 in UTC
    assert refused.status_code == 400 and parameter in refused.json()["errors"]
