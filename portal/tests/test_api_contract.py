# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Contract tests of /api/v1/: each endpoint's shape, filters, conventions (cursor pages, money, ETag,
idempotency, the problem format) and bad input answered with a 4xx problem, never a 5xx."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from enterprises.models import Enterprise, FactValue, Project
from enterprises.validators import credit_code_for
from matching import services as matching_services
from matching.models import MatchChange, MatchResult
from policies import generations
from policies.models import Benefit, Clause
from policies.tests.factories import BenefitFactory, ClauseFactory
from portal.models import IdempotencyRecord
from portal.tests.api_support import (  # noqa: F401 - fixtures
    AS_OF,
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
)

pytestmark = pytest.mark.django_db
LEASE = "mh-2024-new-industrialization/7/new-factory-lease"


def lease_benefit() -> Benefit:
    document, clause, key = LEASE.split("/")
    return Benefit.objects.get(clause__document__key=document, clause__number=clause, key=key)


@pytest.fixture
def machine(api_world) -> Client:
    return key_client(api_world.machine_key)


@pytest.fixture
def staff(api_world) -> Client:
    client = Client()
    client.force_login(api_world.staff)
    return client


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content.decode()[:500]
    return response.json()["results"]


# --- policies -------------------------------------------------------------------------------------------


def test_documents_filter_by_level_status_and_validity_date(machine):
    keys = {row["key"] for row in results(machine.get("/api/v1/documents/"))}
    assert keys == {
        "mh-2024-new-industrialization",
        "mh-2018-manufacturing-plan",
        "sh-new-industrialization-excerpt",
    }
    municipal = results(machine.get("/api/v1/documents/?level=municipal"))
    assert [row["key"] for row in municipal] == ["sh-new-industrialization-excerpt"]
    assert municipal[0]["level_label"] == "市级"
    expired = results(machine.get("/api/v1/documents/?status=expired"))
    assert [row["key"] for row in expired] == ["mh-2018-manufacturing-plan"]
    # In 2019 the 2018-2020 plan was in force and the 2024 policy was not yet.
    in_2019 = results(machine.get("/api/v1/documents/?as_of=2019-06-01"))
    assert {row["key"] for row in in_2019} == {
        "mh-2018-manufacturing-plan",
        "sh-new-industrialization-excerpt",
    }
    assert all(
        row["validity"] == {"as_of": "2019-06-01", "in_force": True, "reason": "in_force"} for row in in_2019
    )
    in_2025 = {row["key"] for row in results(machine.get("/api/v1/documents/?as_of=2025-06-01"))}
    assert in_2025 == {"mh-2024-new-industrialization", "sh-new-industrialization-excerpt"}


def test_document_detail_by_key_with_headings_and_dates_in_iso(machine):
    body = machine.get("/api/v1/documents/mh-2024-new-industrialization/").json()
    assert body["effective_from"] == "2024-04-01" and body["effective_to"] == "2029-03-31"
    assert body["headings"] and {"number", "title"} <= set(body["headings"][0])
    assert body["clause_count"] == Clause.objects.filter(document__key=body["key"]).count()
    assert_problem(machine.get("/api/v1/documents/no-such-policy/"), 404, "not_found")


def test_clauses_are_verbatim_and_list_their_benefits(machine):
    rows = results(machine.get("/api/v1/clauses/?document=mh-2024-new-industrialization&kind=subsidy"))
    assert rows and all(
        row["kind"] == "subsidy" and row["document"] == "mh-2024-new-industrialization" for row in rows
    )
    clause7 = next(row for row in rows if row["number"] == "7")
    assert clause7["text"] == Clause.objects.get(pk=clause7["id"]).text
    assert "new-factory-lease" in {benefit["key"] for benefit in clause7["benefits"]}


def test_benefit_money_as_yuan_strings_with_wan_display_and_cited_conditions(machine):
    benefit = lease_benefit()
    body = machine.get(f"/api/v1/benefits/{benefit.pk}/").json()
    assert body["global_key"] == LEASE
    assert body["cap"] == "10000000.00" and body["cap_wan"] == "1000.00 万元"
    assert body["amount"] is None and body["amount_wan"] is None  # not stated: null, never 0
    area = next(req for req in body["requirements"] if req["fact"] == "new_factory_lease_area_m2")
    assert area["op"] == "gte" and area["value"] == 5000
    assert area["text"] == "新租赁自用工业厂房面积 ≥ 5000 平方米"
    assert area["quote"] in benefit.clause.text
    english = machine.get(f"/api/v1/benefits/{benefit.pk}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "Newly leased self-use factory area ≥ 5000 m²" in [req["text"] for req in english["requirements"]]


def test_benefit_filters_kind_level_validity_and_fact(machine):
    rent = results(machine.get("/api/v1/benefits/?kind=rent&page_size=1000"))
    assert rent and all(row["kind"] == "rent" for row in rent)
    municipal = results(machine.get("/api/v1/benefits/?level=municipal&page_size=1000"))
    assert municipal and all(row["document"] == "sh-new-industrialization-excerpt" for row in municipal)
    in_2019 = results(machine.get("/api/v1/benefits/?as_of=2019-06-01&page_size=1000"))
    assert in_2019 and all(row["validity"]["in_force"] for row in in_2019)
    assert "mh-2024-new-industrialization" not in {row["document"] for row in in_2019}
    reading_rent = results(machine.get("/api/v1/benefits/?fact=rent_total&page_size=1000"))
    assert {row["global_key"] for row in reading_rent} >= {"mh-2024-new-industrialization/8/high-growth-rent"}
    assert all("rent_total" in row["fact_codes"] for row in reading_rent)
    assert_problem(machine.get("/api/v1/benefits/?fact=no_such_fact"), 400, "validation", field="fact")


def test_benefits_of_an_industry_track(machine):
    clause = ClauseFactory(text="支持创新药品、医疗器械的研发生产。")
    targeted = BenefitFactory(
        clause=clause,
        key="biomed",
        condition={
            "all": [
                {"fact": "industry_tracks", "op": "contains", "value": "biomedicine", "quote": "创新药品"}
            ]
        },
    )
    rows = results(machine.get("/api/v1/benefits/?industry_track=biomedicine&page_size=1000"))
    assert [row["id"] for row in rows] == [targeted.pk]
    assert results(machine.get("/api/v1/benefits/?industry_track=artificial_intelligence")) == []
    assert_problem(machine.get("/api/v1/benefits/?industry_track=tea"), 400, field="industry_track")


def test_fact_catalog(machine):
    enums = results(machine.get("/api/v1/facts/?type=enum&page_size=1000"))
    assert enums and all(row["type"] == "enum" and row["choices"] for row in enums)
    body = machine.get("/api/v1/facts/new_factory_lease_area_m2/").json()
    assert body["unit"] == "平方米" and body["label_en"]
    assert_problem(machine.get("/api/v1/facts/?type=colour"), 400, field="type")


def test_cursor_pages_walk_every_row_once_and_resume(machine):
    seen, url, pages = [], "/api/v1/documents/?page_size=1", 0
    while url:
        body = machine.get(url).json()
        pages += 1
        seen += [row["key"] for row in body["results"]]
        assert body["next_cursor"]  # given on every page with rows, the last included
        url = body["next"]
    assert pages == 3 and len(seen) == len(set(seen)) == 3
    last = body["next_cursor"]
    assert machine.get(f"/api/v1/documents/?cursor={last}").json() == {
        "next": None,
        "next_cursor": last,
        "has_more": False,
        "results": [],
    }
    assert_problem(machine.get("/api/v1/documents/?cursor=not-a-cursor"), 400, field="cursor")
    for size in ("0", "abc", "1001", "-1"):
        assert_problem(machine.get(f"/api/v1/documents/?page_size={size}"), 400, field="page_size")


def test_empty_or_repeated_query_parameters_are_errors(machine):
    assert_problem(machine.get("/api/v1/documents/?as_of="), 400, field="as_of")
    assert_problem(machine.get("/api/v1/documents/?level=district&level=municipal"), 400, field="level")
    assert_problem(
        machine.get("/api/v1/benefits/?requires_recognition=maybe"), 400, field="requires_recognition"
    )
    assert_problem(machine.get("/api/v1/documents/?as_of=2025-13-01"), 400, field="as_of")


# --- enterprises ----------------------------------------------------------------------------------------

NEW = {"name": "上海丙新材料有限公司", "credit_code": credit_code_for(555001), "industry_code": "3511"}


def test_staff_create_and_optimistic_update(staff, api_world):
    created = staff.post("/api/v1/enterprises/", NEW, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["version"] == 1 and body["source"] == "staff"
    assert created["Location"].endswith(f"/api/v1/enterprises/{body['id']}/")
    enterprise = Enterprise.objects.get(pk=body["id"])
    assert enterprise.history.latest().history_user == api_world.staff

    updated = staff.patch(
        f"/api/v1/enterprises/{body['id']}/",
        {"version": 1, "scale": "medium"},
        content_type="application/json",
    )
    assert (
        updated.status_code == 200 and updated.json()["version"] == 2 and updated.json()["scale"] == "medium"
    )
    stale = staff.patch(
        f"/api/v1/enterprises/{body['id']}/",
        {"version": 1, "scale": "large"},
        content_type="application/json",
    )
    assert_problem(stale, 409, "stale_version")
    assert Enterprise.objects.get(pk=body["id"]).scale == "medium"
    no_version = staff.patch(
        f"/api/v1/enterprises/{body['id']}/", {"scale": "large"}, content_type="application/json"
    )
    assert_problem(no_version, 400, field="version")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**NEW, "credit_code": "91310112MA1GBUG23X"}, "credit_code"),  # wrong check character
        ({**NEW, "colour": "blue"}, "colour"),  # unknown field
        ({**NEW, "name": 123}, "name"),  # wrong JSON type
        ({**NEW, "above_scale": "yes"}, "above_scale"),
        ({**NEW, "above_scale_since": "2020"}, "above_scale_since"),
        ({**NEW, "industry_tracks": "biomedicine"}, "industry_tracks"),
        ({**NEW, "industry_tracks": ["tea"]}, "industry_tracks"),  # not in the catalog (model validation)
        ({**NEW, "registered_on": "2999-01-01"}, "registered_on"),  # in the future
        ({**NEW, "registered_on": "0001-01-01"}, "registered_on"),  # year 1
        ({**NEW, "registered_on": "1948-12-31"}, "registered_on"),  # before EARLIEST_YEAR
        ({**NEW, "industry_code": "35²1"}, "industry_code"),  # "²".isdigit() is True
        ({**NEW, "industry_code": "99"}, "industry_code"),
        ({"name": "缺少信用代码"}, "credit_code"),
    ],
)
def test_invalid_enterprises_are_refused_field_by_field(staff, payload, field):
    before = Enterprise.objects.count()
    assert_problem(
        staff.post("/api/v1/enterprises/", payload, content_type="application/json"), 400, "validation", field
    )
    assert Enterprise.objects.count() == before


def test_duplicate_credit_code_is_a_field_error(staff, api_world):
    body = {**NEW, "credit_code": api_world.a.credit_code}
    assert_problem(
        staff.post("/api/v1/enterprises/", body, content_type="application/json"), 400, field="credit_code"
    )


def test_idempotency_key_replays_the_first_reply_and_refuses_another_body(machine, api_world):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-丙-1"}
    first = machine.post("/api/v1/enterprises/", NEW, content_type="application/json", **headers)
    again = machine.post("/api/v1/enterprises/", NEW, content_type="application/json", **headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert Enterprise.objects.filter(credit_code=NEW["credit_code"]).count() == 1
    other_body = {**NEW, "name": "另一家公司"}
    reused = machine.post("/api/v1/enterprises/", other_body, content_type="application/json", **headers)
    assert_problem(reused, 422, "idempotency_key_reused")
    # Keys belong to their client: another client's same key is a different request.
    staff_client = Client()
    staff_client.force_login(api_world.staff)
    second = {**NEW, "credit_code": credit_code_for(555002)}
    assert (
        staff_client.post(
            "/api/v1/enterprises/", second, content_type="application/json", **headers
        ).status_code
        == 201
    )
    assert IdempotencyRecord.objects.filter(key="create-丙-1").count() == 2


def test_a_key_is_held_for_24_hours_only(machine):
    headers = {"HTTP_IDEMPOTENCY_KEY": "daily-import"}
    first = machine.post("/api/v1/enterprises/", NEW, content_type="application/json", **headers)
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    other = {**NEW, "credit_code": credit_code_for(555003)}
    second = machine.post("/api/v1/enterprises/", other, content_type="application/json", **headers)
    assert second.status_code == 201 and second.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in second
    assert list(IdempotencyRecord.objects.values_list("response_body__id", flat=True)) == [
        second.json()["id"]
    ]


def test_a_failed_create_stores_no_reply(machine):
    headers = {"HTTP_IDEMPOTENCY_KEY": "retry-me"}
    bad = {**NEW, "credit_code": "bad"}
    assert_problem(machine.post("/api/v1/enterprises/", bad, content_type="application/json", **headers), 400)
    assert not IdempotencyRecord.objects.filter(key="retry-me").exists()
    fixed = machine.post("/api/v1/enterprises/", NEW, content_type="application/json", **headers)
    assert fixed.status_code == 201
    blank = machine.post(
        "/api/v1/enterprises/", NEW, content_type="application/json", HTTP_IDEMPOTENCY_KEY=" "
    )
    assert_problem(blank, 400, field="Idempotency-Key")


def test_enterprise_user_reads_and_edits_its_own_company_only(api_world):
    member = Client()
    member.force_login(api_world.user_a)
    assert [row["id"] for row in results(member.get("/api/v1/enterprises/"))] == [api_world.a.pk]
    assert_problem(member.post("/api/v1/enterprises/", NEW, content_type="application/json"), 403)
    edit = member.patch(
        f"/api/v1/enterprises/{api_world.a.pk}/",
        {"version": api_world.a.version, "town": "莘庄镇"},
        content_type="application/json",
    )
    assert edit.status_code == 200 and edit.json()["town"] == "莘庄镇"


def test_enterprise_filters(machine, api_world):
    found = results(machine.get(f"/api/v1/enterprises/?credit_code={api_world.b.credit_code}"))
    assert [row["id"] for row in found] == [api_world.b.pk]
    assert [row["id"] for row in results(machine.get("/api/v1/enterprises/?q=甲精密"))] == [api_world.a.pk]
    later = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    assert results(machine.get("/api/v1/enterprises/", {"updated_since": later})) == []


# --- match results --------------------------------------------------------------------------------------


def test_match_results_with_reasons_citing_the_clause(machine, api_world):
    benefit = lease_benefit()
    rows = results(machine.get(f"/api/v1/matches/?enterprise={api_world.a.pk}&benefit={benefit.pk}"))
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] == "pending_recognition" and row["status_label"] == "待认定"
    assert row["amount"] == "10000000.00" and row["amount_wan"] == "1000.00 万元"
    assert row["amount_basis"] == "up_to_cap" and row["as_of"] == AS_OF.isoformat()
    # the document's applicability (registered, operating in 闵行区; 附则1), then clause 7's two leaves
    assert [reason["outcome"] for reason in row["reasons"]] == ["met", "met", "met", "met"]
    assert [reason["citation"]["clause_number"] for reason in row["reasons"]] == ["附则1", "附则1", "7", "7"]
    annex = benefit.clause.document.clauses.get(number="附则1")
    for reason in row["reasons"]:
        clause = annex if reason["citation"]["clause_number"] == "附则1" else benefit.clause
        assert reason["citation"]["quote"] in clause.text
    b_row = results(machine.get(f"/api/v1/matches/?enterprise={api_world.b.pk}&benefit={benefit.pk}"))[0]
    assert b_row["status"] == "not_eligible" and b_row["amount"] is None
    assert [reason["outcome"] for reason in b_row["reasons"]] == ["met", "met", "met", "unmet"]


def test_match_filters_status_minimum_amount_and_changed_since(machine, api_world):
    every = results(machine.get("/api/v1/matches/?page_size=1000"))
    assert {row["enterprise"] for row in every} == {api_world.a.pk, api_world.b.pk}
    pending = results(
        machine.get("/api/v1/matches/?status=pending_recognition&status=eligible&page_size=1000")
    )
    assert pending and {row["status"] for row in pending} <= {"pending_recognition", "eligible"}
    rich = results(machine.get("/api/v1/matches/?min_amount=5000000&page_size=1000"))
    assert rich and all(Decimal(row["amount"]) >= 5_000_000 for row in rich)
    assert len(rich) < len([row for row in every if row["amount"] is not None])
    future = (timezone.now() + dt.timedelta(minutes=5)).isoformat()
    assert results(machine.get("/api/v1/matches/", {"changed_since": future})) == []
    past = (timezone.now() - dt.timedelta(days=1)).isoformat()
    assert len(results(machine.get("/api/v1/matches/", {"changed_since": past, "page_size": 1000}))) == len(
        every
    )
    assert_problem(machine.get("/api/v1/matches/?status=great"), 400, field="status")
    assert_problem(machine.get("/api/v1/matches/?min_amount=lots"), 400, field="min_amount")


def test_conditional_get_on_match_results(machine, api_world):
    url = f"/api/v1/matches/?enterprise={api_world.a.pk}"
    first = machine.get(url)
    etag = first["ETag"]
    assert first.status_code == 200 and etag.startswith('"')
    not_modified = machine.get(url, HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified.content == b"" and not_modified["ETag"] == etag
    assert machine.get(url, HTTP_IF_NONE_MATCH=f'W/{etag}, "other"').status_code == 304
    assert machine.get(url, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    # A changed result changes the tag (a raw write, as storage writes: with its validator counter).
    MatchResult.objects.filter(enterprise=api_world.a).update(score=1)
    generations.bump_results([api_world.a.pk])
    changed = machine.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    result = MatchResult.objects.filter(enterprise=api_world.a).first()
    detail = machine.get(f"/api/v1/matches/{result.pk}/")
    assert machine.get(f"/api/v1/matches/{result.pk}/", HTTP_IF_NONE_MATCH=detail["ETag"]).status_code == 304


def test_match_detail_explains_with_the_enterprise_values_and_notices_new_facts(machine, api_world):
    result = MatchResult.objects.get(enterprise=api_world.a, benefit=lease_benefit())
    body = machine.get(f"/api/v1/matches/{result.pk}/").json()
    area = next(reason for reason in body["reasons"] if reason["fact"] == "new_factory_lease_area_m2")
    assert Decimal(area["value"]) == 6000 and area["value_text"] == "6000 平方米" and area["outcome"] == "met"
    assert area["source"] == "self_declared" and area["source_text"]
    assert body["up_to_date"] is True
    Project.objects.filter(enterprise=api_world.a).update(area_m2=Decimal("3000"))
    after = machine.get(f"/api/v1/matches/{result.pk}/").json()
    assert after["up_to_date"] is False  # the stored verdict waits for re-evaluation
    assert next(r for r in after["reasons"] if r["fact"] == "new_factory_lease_area_m2")["outcome"] == "unmet"


# --- change feed ----------------------------------------------------------------------------------------


def shrink_and_reevaluate(enterprise: Enterprise, area: str) -> None:
    Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal(area))
    matching_services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="test")


def settle() -> None:
    MatchChange.objects.update(created_at=timezone.now() - dt.timedelta(minutes=1))


def test_change_feed_syncs_incrementally_with_a_stored_cursor(machine, api_world):
    assert results(machine.get("/api/v1/changes/")) == []
    shrink_and_reevaluate(api_world.a, "3000")
    assert results(machine.get("/api/v1/changes/")) == []  # held back a moment, so that none is skipped
    settle()
    body = machine.get("/api/v1/changes/").json()
    change = body["results"][0]
    assert change["enterprise"] == api_world.a.pk and change["benefit"]["global_key"] == LEASE
    assert change["old_status"] == "pending_recognition" and change["new_status"] == "not_eligible"
    assert change["old_amount"] == "10000000.00" and change["old_amount_wan"] == "1000.00 万元"
    assert change["new_amount"] is None and change["cause"] == "test"
    cursor = body["next_cursor"]
    assert body["has_more"] is False and cursor
    assert results(machine.get(f"/api/v1/changes/?cursor={cursor}")) == []

    shrink_and_reevaluate(api_world.a, "7000")
    settle()
    newer = machine.get(f"/api/v1/changes/?cursor={cursor}").json()
    assert [row["new_status"] for row in newer["results"] if row["benefit"]["global_key"] == LEASE] == [
        "pending_recognition"
    ]
    assert all(row["id"] > change["id"] for row in newer["results"])
    since = (timezone.now() + dt.timedelta(minutes=1)).isoformat()
    assert results(machine.get("/api/v1/changes/", {"since": since})) == []


# --- self-check -----------------------------------------------------------------------------------------

LESSEE_FACTS = {
    "registered_region": "310112",  # 闵行区: the document's applicability
    "operating_region": "310112",
    "is_new_key_industry_project": True,
    "new_factory_lease_area_m2": 6000,
}


def test_self_check_judges_every_benefit_in_force_and_stores_nothing(machine):
    counts = (Enterprise.objects.count(), MatchResult.objects.count(), FactValue.objects.count())
    response = machine.post(
        "/api/v1/self-check/", {"as_of": "2025-06-01", "facts": LESSEE_FACTS}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["as_of"] == "2025-06-01"
    lease = next(v for v in body["verdicts"] if v["benefit"]["global_key"] == LEASE)
    assert lease["status"] == "pending_recognition" and lease["amount"] == "10000000.00"
    assert lease["amount_wan"] == "1000.00 万元"
    assert {reason["outcome"] for reason in lease["reasons"]} == {"met"}
    assert all(
        v["benefit"]["global_key"].split("/")[0] != "mh-2018-manufacturing-plan" for v in body["verdicts"]
    )
    assert sum(body["counts"].values()) == len(body["verdicts"])
    # the 1000 万元 lease grant states only a ceiling: listed apart, not in the headline total
    assert Decimal(body["ceiling_total"]) >= Decimal("10000000") and body["total_wan"].endswith("万元")
    assert body["computed_total"] == body["total"]
    assert (Enterprise.objects.count(), MatchResult.objects.count(), FactValue.objects.count()) == counts


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"facts": {"no_such_fact": 1}}, "facts.no_such_fact"),  # unknown fact
        ({"facts": {"new_factory_lease_area_m2": "large"}}, "facts.new_factory_lease_area_m2"),  # wrong type
        ({"facts": {"new_factory_lease_area_m2": -5}}, "facts.new_factory_lease_area_m2"),  # negative
        ({"facts": {"is_new_key_industry_project": "perhaps"}}, "facts.is_new_key_industry_project"),
        ({"facts": {"industry_tracks": ["tea"]}}, "facts.industry_tracks"),  # not a choice
        ({"facts": {"industry_tracks": {"a": 1}}}, "facts.industry_tracks"),  # an object
        ({"facts": ["is_sme"]}, "facts"),
        ({"facts": {}, "as_of": "yesterday"}, "as_of"),
        ({"facts": {}, "verbose": True}, "verbose"),
        ({}, "facts"),
    ],
)
def test_self_check_bad_input_is_a_field_error(machine, payload, field):
    assert_problem(
        machine.post("/api/v1/self-check/", payload, content_type="application/json"), 400, field=field
    )


def test_self_check_reports_every_bad_fact_at_once(machine):
    payload = {"facts": {"no_such_fact": 1, "new_factory_lease_area_m2": "large", "is_sme": True}}
    body = assert_problem(machine.post("/api/v1/self-check/", payload, content_type="application/json"), 400)
    assert set(body["errors"]) == {"facts.no_such_fact", "facts.new_factory_lease_area_m2"}


# --- transport-level errors -----------------------------------------------------------------------------


def test_malformed_json_unsupported_media_type_and_oversized_bodies(machine, settings):
    assert_problem(
        machine.post("/api/v1/self-check/", "{not json", content_type="application/json"), 400, "parse_error"
    )
    form = machine.post("/api/v1/self-check/", {"facts": "x"})  # multipart form
    assert_problem(form, 415, "unsupported_media_type")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    big = json.dumps({"facts": {"registered_capital": "1" * 5000}})
    body = assert_problem(machine.post("/api/v1/self-check/", big, content_type="application/json"), 413)
    assert "2048" in body["detail"]
    big_enterprise = json.dumps({**NEW, "address": "路" * 3000})
    assert_problem(machine.post("/api/v1/enterprises/", big_enterprise, content_type="application/json"), 413)


def test_unknown_paths_and_methods_answer_in_the_problem_format(machine, api_world):
    assert_problem(machine.get("/api/v1/nothing-here/"), 404, "not_found")
    assert_problem(machine.get("/api/v2/"), 404, "not_found")
    assert_problem(machine.post("/api/v1/enterprises/1.5/submit/"), 404, "not_found")
    assert_problem(machine.delete(f"/api/v1/enterprises/{api_world.a.pk}/"), 405, "method_not_allowed")
    assert_problem(
        machine.put(f"/api/v1/enterprises/{api_world.a.pk}/", {}, content_type="application/json"), 405
    )
    assert_problem(machine.get("/api/v1/self-check/"), 405)


def test_an_unexpected_error_is_a_logged_500_problem_without_internals(machine, monkeypatch, caplog):
    def broken():
        raise RuntimeError("secret internals")

    monkeypatch.setattr("portal.api.v1.policies.policy_selectors.catalog", broken)
    body = assert_problem(machine.get("/api/v1/benefits/"), 500, "server_error")
    assert "secret" not in json.dumps(body)
    assert "secret internals" in caplog.text


def test_english_with_accept_language(machine):
    body = assert_problem(machine.get("/api/v1/documents/nope/", HTTP_ACCEPT_LANGUAGE="en"), 404)
    assert body["title"] == "Not found"
    body = assert_problem(machine.get("/api/v1/documents/?cursor=zzz", HTTP_ACCEPT_LANGUAGE="en"), 400)
    assert body["title"] == "Invalid request" and body["errors"]["cursor"][0].startswith("Invalid cursor")
    chinese = assert_problem(machine.get("/api/v1/documents/nope/"), 404)
    assert chinese["title"] == "未找到"
