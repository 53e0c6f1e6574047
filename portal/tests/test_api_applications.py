# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Applications over the API: the enterprise creates, edits, submits and withdraws its own; reviewers
review; versions, transitions and rights are enforced by applications.services and answered as problems."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from applications.models import Application, ApplicationEvent, State
from applications.tests.support import PDF
from policies.models import Benefit
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


JSON = {"content_type": "application/json"}


def lease() -> Benefit:
    return Benefit.objects.get(
        clause__document__key="mh-2024-new-industrialization", clause__number="7", key="new-factory-lease"
    )


@pytest.fixture
def member(api_world) -> Client:
    return key_client(api_world.key_a)


@pytest.fixture
def reviewer(api_world) -> Client:
    client = Client()
    client.force_login(api_world.staff)
    return client


def create(client: Client, **extra) -> dict:
    body = {"benefit": lease().pk, "requested_amount": "5000000.00", "contact_name": "张三", **extra}
    response = client.post("/api/v1/applications/", body, **JSON)
    assert response.status_code == 201, response.content
    return response.json()


def attach(client: Client, application: dict) -> dict:
    """A material uploaded over the API (multipart); the application as it is then."""
    upload = SimpleUploadedFile("租赁合同.pdf", PDF, content_type="application/pdf")
    response = client.post(
        f"/api/v1/applications/{application['id']}/attachments/", {"file": upload, "description": "租赁合同"}
    )
    assert response.status_code == 201, response.content
    return response.json()


def act(client: Client, application: dict, action: str, **fields):
    return client.post(
        f"/api/v1/applications/{application['id']}/{action}/",
        {"version": application["version"], **fields},
        **JSON,
    )


def test_enterprise_drafts_edits_submits_and_the_reviewer_approves(member, reviewer, api_world):
    draft = create(member)
    assert draft["state"] == "draft" and draft["reference"].startswith("SB")
    assert draft["requested_amount"] == "5000000.00" and draft["requested_amount_wan"] == "500.00 万元"
    assert "submit" in draft["allowed_actions"]
    assert Application.objects.get(pk=draft["id"]).enterprise == api_world.a

    edited = member.patch(
        f"/api/v1/applications/{draft['id']}/",
        {"version": draft["version"], "contact_phone": "021-64121234"},
        **JSON,
    )
    assert edited.status_code == 200, edited.content
    edited = edited.json()
    assert edited["contact_phone"] == "021-64121234" and edited["contact_name"] == "张三"  # the rest kept

    assert_problem(act(member, edited, "submit"), 400, field="attachments")  # no material yet
    edited = attach(member, edited)
    submitted = act(member, edited, "submit")
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted"
    submitted = submitted.json()
    assert submitted["explanation_snapshot"]["reasons"]  # what the engine said, frozen at submission

    under_review = act(reviewer, submitted, "start-review").json()
    assert under_review["state"] == "under_review"
    too_much = act(reviewer, under_review, "approve", amount="20000000.00")
    assert_problem(too_much, 400, field="amount")  # above the 1000 万元 cap
    approved = act(reviewer, under_review, "approve", amount="8000000.00", comment="同意")
    assert approved.status_code == 200
    approved = approved.json()
    assert approved["state"] == "approved" and approved["approved_amount_wan"] == "800.00 万元"
    assert [event["action"] for event in approved["events"]] == [
        "create", "edit", "attach", "submit", "start_review", "approve",
    ]  # fmt: skip


def test_stale_versions_double_submissions_and_impossible_transitions_are_409(member, reviewer):
    draft = attach(member, create(member))
    submitted = act(member, draft, "submit").json()
    assert_problem(act(member, draft, "submit"), 409, "duplicate")  # submitted already
    assert_problem(act(member, {**submitted, "version": 1}, "withdraw"), 409, "stale_version")
    assert_problem(act(reviewer, submitted, "approve", amount="100.00"), 409, "invalid_transition")
    assert_problem(member.post("/api/v1/applications/", {"benefit": lease().pk}, **JSON), 409, "duplicate")
    withdrawn = act(member, submitted, "withdraw", reason="项目推迟")
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert ApplicationEvent.objects.filter(application_id=draft["id"], action="withdraw").count() == 1


def test_rights_the_enterprise_cannot_review_and_machines_cannot_act(member, api_world):
    submitted = act(member, attach(member, create(member)), "submit").json()
    assert_problem(act(member, submitted, "start-review"), 403)
    machine = key_client(api_world.machine_key)
    # A machine key reads submitted applications like staff, but actions need a person.
    assert [row["id"] for row in machine.get("/api/v1/applications/").json()["results"]] == [submitted["id"]]
    assert_problem(act(machine, submitted, "start-review"), 403)
    assert_problem(machine.post("/api/v1/applications/", {"benefit": lease().pk}, **JSON), 403)


def test_drafts_stay_private_to_the_enterprise(member, reviewer):
    draft = create(member)
    assert_problem(reviewer.get(f"/api/v1/applications/{draft['id']}/"), 404)
    assert reviewer.get("/api/v1/applications/").json()["results"] == []
    assert member.get(f"/api/v1/applications/{draft['id']}/").status_code == 200


def test_create_honours_the_idempotency_key(member):
    body = {"benefit": lease().pk, "requested_amount": "100.00"}
    first = member.post("/api/v1/applications/", body, HTTP_IDEMPOTENCY_KEY="app-1", **JSON)
    again = member.post("/api/v1/applications/", body, HTTP_IDEMPOTENCY_KEY="app-1", **JSON)
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Application.objects.filter(state=State.DRAFT).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"benefit": 999999}, "benefit"),
        ({"benefit": "7"}, "benefit"),
        ({}, "benefit"),
        ({"benefit": None}, "benefit"),
        ({"requested_amount": 100}, "requested_amount"),  # money as a string
        ({"requested_amount": "-1.00"}, "requested_amount"),
        ({"requested_amount": "1.234"}, "requested_amount"),
        ({"priority": "high"}, "priority"),
    ],
)
def test_bad_drafts_are_field_errors(member, body, field):
    payload = {"benefit": lease().pk, **body} if "benefit" not in body and body != {} else body
    assert_problem(member.post("/api/v1/applications/", payload, **JSON), 400, "validation", field)
    assert not Application.objects.exists()


def test_action_bodies_are_checked(member):
    draft = create(member)
    assert_problem(
        member.post(f"/api/v1/applications/{draft['id']}/submit/", {}, **JSON), 400, field="version"
    )
    assert_problem(act(member, {**draft, "version": "1"}, "submit"), 400, field="version")
    assert_problem(act(member, draft, "resubmit"), 400, field="answer")
    assert_problem(member.get("/api/v1/applications/?state=lost"), 400, field="state")


def test_a_per_item_benefit_is_applied_for_one_own_item_at_a_time(member, api_world):
    """item_id names one of the caller's own items of the benefit's kind: two items, two applications;
    the same item twice is a 409; another enterprise's item or none at all is a 400 on item_id."""
    from applications.tests.support import lease_benefit
    from enterprises import items as item_services
    from enterprises.tests.factories import make_item_kind

    kind = make_item_kind()
    benefit = lease_benefit(name="技术改造项目补贴", per_item=kind)

    def item(enterprise, title):
        return item_services.save_item(
            enterprise_id=enterprise.pk, kind=kind, title=title, values={"test_upgrade_investment": "3000000"}
        )

    first, second, theirs = (
        item(api_world.a, "一号产线"),
        item(api_world.a, "二号产线"),
        item(api_world.b, "乙的产线"),
    )
    body = {"benefit": benefit.pk, "contact_name": "张三"}
    one = member.post("/api/v1/applications/", {**body, "item_id": first.pk}, **JSON)
    assert one.status_code == 201, one.content
    assert one.json()["item"] == first.pk
    two = member.post("/api/v1/applications/", {**body, "item_id": second.pk}, **JSON)
    assert two.status_code == 201, two.content
    assert_problem(
        member.post("/api/v1/applications/", {**body, "item_id": first.pk}, **JSON), 409, "duplicate"
    )
    assert_problem(
        member.post("/api/v1/applications/", {**body, "item_id": theirs.pk}, **JSON),
        400,
        "validation",
        "item_id",
    )
    assert_problem(member.post("/api/v1/applications/", body, **JSON), 400, "validation", "item_id")
    assert Application.objects.filter(benefit=benefit).count() == 2
    assert not Application.objects.filter(item=theirs).exists()
