# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Calls, an application's materials checklist, 免申即享 confirmations and payouts over the API: what each
caller sees (its own enterprise only), the scopes, a double answer refused with nothing changed, and
the new operations in the schema. Windows are judged at a given `at` or lie far in the future, so no
test depends on today's date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from applications import calls_loader, services
from applications.models import (
    Application,
    Call,
    CallDepartment,
    CallIntakeLevel,
    CallMaterial,
    CallWindow,
    Confirmation,
    State,
)
from applications.tests.support import PDF, lessee
from enterprises.models import Enterprise, Project
from enterprises.tests.factories import MembershipFactory
from policies.models import Benefit
from portal.models import Scope
from portal.tests.api_support import (  # noqa: F401 - fixtures
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
    new_key,
)

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json"}
at = calls_loader.parse_time


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def lease() -> Benefit:
    return Benefit.objects.get(
        clause__document__key="mh-2024-new-industrialization", clause__number="7", key="new-factory-lease"
    )


def lease_call(opens: str = "2026-06-05 00:00", closes: str = "2026-07-05 24:00") -> Call:
    call = Call.objects.create(
        key="api-test-call", title="测试区新型工业化项目申报通知", issuer="测试区经委", methods=["online"]
    )
    call.benefits.add(lease())
    CallWindow.objects.create(call=call, opens_at=at(opens), closes_at=at(closes, end=True))
    CallDepartment.objects.create(call=call, name="测试区经委产业科", contact="王老师", phone="021-00000000")
    CallIntakeLevel.objects.create(
        call=call, order=0, name="街镇预审", department="各街镇", deadline=at("2026-07-24 24:00", end=True)
    )
    for order, (key, name, required) in enumerate(
        [("contract", "租赁合同", True), ("licence", "营业执照", True), ("pledge", "信用承诺书", False)]
    ):
        CallMaterial.objects.create(
            call=call, key=key, order=order, name=name, required=required, file_types=["pdf"]
        )
    return call


def pdf(name: str = "材料.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


# ---------------------------------------------------------------- calls


def test_a_call_with_its_window_in_local_time_departments_levels_materials_and_benefits(api_world):
    call = lease_call()
    client = key_client(new_key(Scope.READ_POLICIES)[1])
    body = client.get(f"/api/v1/calls/{call.pk}/", {"at": "2026-06-20T10:00:00+08:00"}).json()
    window = body["windows"][0]
    assert (
        window["opens_at"] == "2026-06-05T00:00:00+08:00"
        and window["closes_at"] == "2026-07-06T00:00:00+08:00"
    )
    assert (window["first_day"], window["last_day"]) == ("2026-06-05", "2026-07-05")
    assert window["state"] == "open" and window["state_label"] == "受理中" and window["days_left"] == 15
    assert body["open_now"] is True and body["next_window"] == window
    assert body["departments"][0]["name"] == "测试区经委产业科" and body["departments"][0]["phone"]
    assert (
        body["levels"][0]["name"] == "街镇预审"
        and body["levels"][0]["deadline"] == "2026-07-25T00:00:00+08:00"
    )
    assert [(m["name"], m["required"]) for m in body["materials"]] == [
        ("租赁合同", True), ("营业执照", True), ("信用承诺书", False),
    ]  # fmt: skip
    assert [b["id"] for b in body["benefits"]] == [lease().pk]
    assert body["method_labels"] == ["网上申报"]

    before = client.get(f"/api/v1/calls/{call.pk}/", {"at": "2026-05-01T00:00:00Z"}).json()
    assert before["open_now"] is False and before["windows"][0]["state"] == "upcoming"
    assert before["windows"][0]["days_to_open"] == 35 and before["windows"][0]["days_left"] is None
    after = client.get(f"/api/v1/calls/{call.pk}/", {"at": "2026-07-06T00:00:00+08:00"}).json()
    assert after["windows"][0]["state"] == "closed" and after["next_window"] is None  # 24:00 is exclusive


def test_calls_filter_by_benefit_and_open_at_a_moment(api_world):
    call = lease_call()
    client = key_client(new_key(Scope.READ_POLICIES)[1])
    ids = lambda **query: [row["id"] for row in client.get("/api/v1/calls/", query).json()["results"]]  # noqa: E731
    assert ids(benefit=lease().pk) == [call.pk]
    assert ids(open="true", at="2026-06-20T10:00:00+08:00") == [call.pk]
    assert ids(open="true", at="2026-08-01T10:00:00+08:00") == []
    assert ids(open="false", at="2026-08-01T10:00:00+08:00") == [call.pk]
    assert_problem(client.get("/api/v1/calls/", {"at": "next tuesday"}), 400, field="at")
    assert_problem(client.get(f"/api/v1/calls/{call.pk}/", {"at": "2026-13-01"}), 400, field="at")


def test_calls_need_the_read_policies_scope(api_world):
    call = lease_call()
    assert_problem(key_client(new_key(Scope.APPLICATIONS)[1]).get(f"/api/v1/calls/{call.pk}/"), 403)
    assert_problem(Client().get("/api/v1/calls/"), 401)
    assert_problem(key_client(new_key(Scope.READ_POLICIES)[1]).get("/api/v1/calls/999999/"), 404)


# ---------------------------------------------------------------- materials checklist


def test_the_checklist_shows_required_attached_and_the_reviewers_marks(api_world):
    call = lease_call(opens="2026-01-01 00:00", closes="2099-12-31 24:00")
    contract, licence, _pledge = call.materials.all()
    user = api_world.user_a
    application = services.create_draft(actor=user, enterprise_id=api_world.a.pk, benefit_id=lease().pk)
    services.add_attachment(
        actor=user, application_id=application.pk, upload=pdf("合同.pdf"), material_id=contract.pk
    )
    services.add_attachment(actor=user, application_id=application.pk, upload=pdf("其他.pdf"))
    url = f"/api/v1/applications/{application.pk}/materials/"
    mine = key_client(api_world.key_a)

    body = mine.get(url).json()
    assert body["call"]["id"] == call.pk and body["complete"] is False
    lines = {line["key"]: line for line in body["materials"]}
    assert lines["contract"]["present"] and not lines["contract"]["missing"]
    assert [a["original_name"] for a in lines["contract"]["attachments"]] == ["合同.pdf"]
    assert (
        lines["licence"]["missing"]
        and not lines["pledge"]["missing"]
        and lines["pledge"]["required"] is False
    )
    assert [a["original_name"] for a in body["other_attachments"]] == ["其他.pdf"]
    assert_problem(key_client(api_world.key_b).get(url), 404)  # another enterprise's application

    services.add_attachment(
        actor=user, application_id=application.pk, upload=pdf("执照.pdf"), material_id=licence.pk
    )
    application.refresh_from_db()
    application = services.submit(
        actor=user, application_id=application.pk, expected_version=application.version
    )
    application = services.start_review(
        actor=api_world.staff, application_id=application.pk, expected_version=application.version
    )
    services.check_material(
        actor=api_world.staff,
        application_id=application.pk,
        expected_version=application.version,
        material_id=contract.pk,
        verdict="replace",
        comment="请加盖公章",
    )
    body = mine.get(url).json()
    assert body["complete"] is True
    check = {line["key"]: line["check"] for line in body["materials"]}
    assert check["contract"] == {**check["contract"], "verdict": "replace", "verdict_label": "需重新提交",
                                 "comment": "请加盖公章"}  # fmt: skip
    assert check["licence"] is None
    staff = Client()
    staff.force_login(api_world.staff)
    assert staff.get(url).json()["materials"][0]["check"]["verdict"] == "replace"  # reviewers read it too
    assert_problem(key_client(new_key(Scope.READ_MATCHES, user=user)[1]).get(url), 403)  # scope applications


def test_without_a_call_the_checklist_is_empty_and_one_file_completes_it(api_world):
    user = api_world.user_a
    application = services.create_draft(actor=user, enterprise_id=api_world.a.pk, benefit_id=lease().pk)
    url = f"/api/v1/applications/{application.pk}/materials/"
    assert key_client(api_world.key_a).get(url).json() == {
        "application": application.pk, "call": None, "complete": False, "materials": [], "other_attachments": [],
    }  # fmt: skip
    services.add_attachment(actor=user, application_id=application.pk, upload=pdf())
    assert key_client(api_world.key_a).get(url).json()["complete"] is True


# ---------------------------------------------------------------- 免申即享 confirmations


def ask(enterprise: Enterprise, benefit: Benefit | None = None) -> Confirmation:
    return Confirmation.objects.create(
        enterprise=enterprise, benefit=benefit or lease(), estimated_amount=Decimal("10000000")
    )


def row(confirmation: Confirmation) -> tuple:
    confirmation.refresh_from_db()
    return confirmation.state, confirmation.version, confirmation.responded_at, confirmation.application_id


def test_an_enterprise_key_lists_its_own_pending_confirmations_only(api_world):
    mine, theirs = ask(api_world.a), ask(api_world.b)
    client = key_client(api_world.key_a)
    body = client.get("/api/v1/confirmations/", {"state": "requested"}).json()
    assert [item["id"] for item in body["results"]] == [mine.pk]
    item = body["results"][0]
    assert item["state_label"] == "待企业确认" and item["estimated_amount"] == "10000000.00"
    assert item["estimated_amount_wan"] == "1000.00 万元" and item["allowed_actions"] == [
        "confirm",
        "decline",
    ]
    assert item["benefit"]["id"] == lease().pk and item["enterprise_name"] == api_world.a.name
    assert_problem(client.get(f"/api/v1/confirmations/{theirs.pk}/"), 404)
    assert_problem(client.get("/api/v1/confirmations/", {"enterprise": api_world.b.pk}), 404)
    assert client.get("/api/v1/confirmations/", {"state": "declined"}).json()["results"] == []


def test_staff_and_machine_keys_list_every_confirmation_but_cannot_answer(api_world):
    mine, theirs = ask(api_world.a), ask(api_world.b)
    staff = Client()
    staff.force_login(api_world.staff)
    machine = key_client(api_world.machine_key)
    for client in (staff, machine):
        listed = {item["id"] for item in client.get("/api/v1/confirmations/").json()["results"]}
        assert {mine.pk, theirs.pk} <= listed
        answer = client.post(f"/api/v1/confirmations/{theirs.pk}/decline/", {"version": 1}, **JSON)
        assert_problem(answer, 403)
    assert row(theirs)[0] == Confirmation.State.REQUESTED


def test_declining_twice_is_a_409_and_changes_nothing(api_world):
    mine = ask(api_world.a)
    client = key_client(api_world.key_a)
    url = f"/api/v1/confirmations/{mine.pk}/"
    declined = client.post(url + "decline/", {"version": 1, "reason": "暂不需要"}, **JSON)
    assert declined.status_code == 200, declined.content
    assert declined.json()["state"] == "declined" and declined.json()["allowed_actions"] == []
    before = row(mine)
    for again in (
        client.post(url + "decline/", {"version": 2}, **JSON),
        client.post(url + "confirm/", {"version": 2}, **JSON),
        client.post(url + "confirm/", {"version": 1}, **JSON),
    ):
        assert_problem(again, 409, code="duplicate")
    assert row(mine) == before and not Application.objects.filter(enterprise=api_world.a).exists()


def test_a_stale_version_or_a_bad_body_is_refused_and_nothing_changes(api_world):
    mine = ask(api_world.a)
    client = key_client(api_world.key_a)
    url = f"/api/v1/confirmations/{mine.pk}/decline/"
    assert_problem(client.post(url, {"version": 7}, **JSON), 409, code="stale_version")
    assert_problem(client.post(url, {"version": "1"}, **JSON), 400, field="version")
    assert_problem(client.post(url, {"version": 1, "made_up": True}, **JSON), 400, field="made_up")
    assert_problem(client.post(url, {}, **JSON), 400, field="version")
    assert row(mine)[:2] == (Confirmation.State.REQUESTED, 1)


def test_another_enterprises_confirmation_cannot_be_answered(api_world):
    theirs = ask(api_world.b)
    for action in ("confirm", "decline"):
        response = key_client(api_world.key_a).post(
            f"/api/v1/confirmations/{theirs.pk}/{action}/", {"version": 1}, **JSON
        )
        assert_problem(response, 404)
    assert row(theirs) == (Confirmation.State.REQUESTED, 1, None, None)


def test_a_read_only_key_reads_confirmations_but_cannot_answer(api_world):
    mine = ask(api_world.a)
    client = key_client(new_key(Scope.READ_MATCHES, user=api_world.user_a)[1])
    assert [item["id"] for item in client.get("/api/v1/confirmations/").json()["results"]] == [mine.pk]
    assert_problem(client.post(f"/api/v1/confirmations/{mine.pk}/confirm/", {"version": 1}, **JSON), 403)
    assert row(mine)[:2] == (Confirmation.State.REQUESTED, 1)


def test_confirming_makes_an_application_under_review_and_a_retry_with_its_key_replays(api_world):
    # an enterprise meeting the benefit on register data alone, with its user's key
    a = lessee(name="上海登记丙有限公司", source="register")
    Project.objects.filter(enterprise=a).update(key_industry_new_project=True)
    user = MembershipFactory(enterprise=a, user__username="gamma").user
    mine = ask(a)
    client = key_client(new_key(user=user)[1])
    url = f"/api/v1/confirmations/{mine.pk}/confirm/"
    headers = {"HTTP_IDEMPOTENCY_KEY": "confirm-once"}
    first = client.post(url, {"version": 1}, **JSON, **headers)
    assert first.status_code == 200, first.json()
    application = Application.objects.get(enterprise=a, benefit=lease())
    assert first.json()["state"] == "confirmed" and first.json()["application"] == application.pk
    assert application.state == State.UNDER_REVIEW
    replay = client.post(url, {"version": 1}, **JSON, **headers)
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert_problem(client.post(url, {"version": 2}, **JSON), 409, code="duplicate")
    assert Application.objects.filter(enterprise=a, benefit=lease()).count() == 1


# ---------------------------------------------------------------- payouts


TWO_HALVES = {
    "schedule": {
        "stages": [{"share": "0.5", "after": "签订协议后"}, {"share": "0.5", "after": "验收通过后"}],
        "quote": "分两次各50%拨付",
    }
}


def approved(api_world) -> Application:
    Benefit.objects.filter(pk=lease().pk).update(amount_rule=TWO_HALVES)
    user, staff = api_world.user_a, api_world.staff
    application = services.create_draft(actor=user, enterprise_id=api_world.a.pk, benefit_id=lease().pk)
    services.add_attachment(actor=user, application_id=application.pk, upload=pdf())
    application.refresh_from_db()
    application = services.submit(
        actor=user, application_id=application.pk, expected_version=application.version
    )
    application = services.start_review(
        actor=staff, application_id=application.pk, expected_version=application.version
    )
    return services.approve(
        actor=staff, application_id=application.pk, expected_version=application.version, amount=Decimal("8000000")
    )  # fmt: skip


def test_the_payout_plan_with_planned_and_paid_amounts_and_dates(api_world):
    application = approved(api_world)
    first = application.payout_stages.get(order=1)
    day = dt.date(2026, 7, 1)
    services.record_payout_stage(
        actor=api_world.staff, stage_id=first.pk, expected_version=first.version,
        publicised_on=day, payment_order="MH-ZF-0001", paid_on=day + dt.timedelta(days=19),
    )  # fmt: skip
    url = f"/api/v1/applications/{application.pk}/payouts/"
    body = key_client(api_world.key_a).get(url).json()
    assert (body["approved_amount"], body["planned_amount"], body["paid_amount"], body["outstanding_amount"]) == (
        "8000000.00", "8000000.00", "4000000.00", "4000000.00",
    )  # fmt: skip
    assert body["paid_amount_wan"] == "400.00 万元" and body["reference"] == application.reference
    one, two = body["stages"]
    assert one == {**one, "order": 1, "condition": "签订协议后", "share": "0.500000", "amount": "4000000.00",
                   "paid_amount": "4000000.00", "state": "paid", "state_label": "已到账",
                   "publicised_on": "2026-07-01", "paid_on": "2026-07-20", "payment_order": "MH-ZF-0001"}  # fmt: skip
    assert two == {
        **two,
        "condition": "验收通过后",
        "paid_amount": "0.00",
        "state": "planned",
        "paid_on": None,
    }
    assert_problem(key_client(api_world.key_b).get(url), 404)


def test_before_approval_there_is_no_plan(api_world):
    application = services.create_draft(
        actor=api_world.user_a, enterprise_id=api_world.a.pk, benefit_id=lease().pk
    )
    body = key_client(api_world.key_a).get(f"/api/v1/applications/{application.pk}/payouts/").json()
    assert body["stages"] == [] and body["approved_amount"] is None and body["planned_amount"] == "0.00"


# ---------------------------------------------------------------- schema


def test_the_schema_has_the_new_operations():
    openapi = yaml.safe_load(Client().get("/api/schema/").content)
    paths = openapi["paths"]
    for path, method in (
        ("/api/v1/calls/", "get"),
        ("/api/v1/calls/{id}/", "get"),
        ("/api/v1/applications/{id}/materials/", "get"),
        ("/api/v1/applications/{id}/payouts/", "get"),
        ("/api/v1/confirmations/", "get"),
        ("/api/v1/confirmations/{id}/", "get"),
        ("/api/v1/confirmations/{id}/confirm/", "post"),
        ("/api/v1/confirmations/{id}/decline/", "post"),
    ):
        assert method in paths[path], path
    assert "409" in paths["/api/v1/confirmations/{id}/confirm/"]["post"]["responses"]
    assert {"at", "open", "benefit"} <= {p["name"] for p in paths["/api/v1/calls/"]["get"]["parameters"]}
    stage = openapi["components"]["schemas"]["PayoutStage"]["properties"]
    assert stage["amount"]["type"] == "string" and stage["amount"]["format"] == "decimal"
