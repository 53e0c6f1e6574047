"""免申即享 confirmation (意愿确认) and payouts: the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from applications import services
from applications.models import Action, Application, Confirmation, PayoutStage, State
from applications.tests.support import bring_to, fresh, lessee
from enterprises.tests.factories import MembershipFactory
from matching.models import Notice, WebhookDelivery, WebhookSubscription
from policies.models import Benefit

pytestmark = pytest.mark.django_db

STAGES_30_30_40 = {
    "schedule": {
        "stages": [
            {"share": "0.3", "after": "签订合同后"},
            {"share": "0.3", "after": "中期评估后"},
            {"share": "0.4", "after": "验收通过后"},
        ],
        "quote": "按30%、30%、40%分三次拨付",
    }
}


@pytest.fixture
def registered(world):
    """An enterprise meeting the world's benefit on register data alone, with its user."""
    enterprise = lessee(name="上海登记甲有限公司", source="register")
    user = MembershipFactory(enterprise=enterprise, user__username="gamma").user
    return enterprise, user


def ask(world, enterprise):
    return services.request_confirmations(
        actor=world.reviewer, benefit_id=world.benefit.pk, enterprise_ids=[enterprise.pk]
    )


# ---------------------------------------------------------------- confirmation


def test_staff_send_a_confirmation_and_the_enterprise_is_told(world, registered):
    enterprise, _user = registered
    WebhookSubscription.objects.create(name="hook", url="https://example.org/hook", secret="s")
    result = ask(world, enterprise)
    assert [c.enterprise_id for c in result.sent] == [enterprise.pk] and not result.skipped
    confirmation = Confirmation.objects.get(enterprise=enterprise, benefit=world.benefit)
    assert confirmation.state == Confirmation.State.REQUESTED
    assert (
        confirmation.estimated_amount == Decimal("10000000") and confirmation.requested_by == world.reviewer
    )
    notice = Notice.objects.get(enterprise=enterprise, kind="application.confirmation_requested")
    assert notice.url == f"/applications/confirmations/{confirmation.pk}/"
    assert WebhookDelivery.objects.filter(event="application.confirmation_requested").count() == 1


def test_sending_twice_creates_one_request(world, registered):
    enterprise, _user = registered
    ask(world, enterprise)
    again = ask(world, enterprise)
    assert not again.sent and "不再重复发送" in again.skipped[0][1]
    assert Confirmation.objects.filter(enterprise=enterprise).count() == 1
    assert Notice.objects.filter(kind="application.confirmation_requested").count() == 1


def test_only_enterprises_on_the_list_are_asked(world, registered):
    # the world's enterprise meets the conditions on self-declared data only
    result = ask(world, world.enterprise)
    assert not result.sent and "不在免申即享名单" in result.skipped[0][1]
    assert not Confirmation.objects.exists()


def test_sending_needs_the_review_permission(world, registered):
    enterprise, user = registered
    for actor in (world.staff_without_permission, user):
        with pytest.raises(PermissionDenied):
            services.request_confirmations(
                actor=actor, benefit_id=world.benefit.pk, enterprise_ids=[enterprise.pk]
            )


def test_a_confirmation_becomes_an_application_ready_for_decision(world, registered):
    enterprise, user = registered
    confirmation = ask(world, enterprise).sent[0]
    application = services.confirm_grant(
        actor=user, confirmation_id=confirmation.pk, expected_version=confirmation.version
    )
    assert application.state == State.UNDER_REVIEW == services.TRANSITIONS[Action.APPROVE].sources[0]
    assert application.requested_amount == Decimal("10000000")
    # the data comparison is its evidence: reasons on authoritative data and the facts they read
    assert application.explanation_snapshot["status"] == "eligible"
    assert {reason["source"] for reason in application.explanation_snapshot["reasons"]} == {"register"}
    assert application.facts_snapshot["facts"]
    assert list(application.events.values_list("action", flat=True)) == [Action.CONFIRM]
    confirmation.refresh_from_db()
    assert confirmation.state == Confirmation.State.CONFIRMED and confirmation.application == application
    assert Notice.objects.filter(enterprise=enterprise, kind="application.confirmed").exists()
    approved = services.approve(
        actor=world.reviewer,
        application_id=application.pk,
        expected_version=application.version,
        amount=Decimal("10000000"),
    )
    assert approved.state == State.APPROVED
    # it left the list and is not asked again
    assert not ask(world, enterprise).sent


def test_confirming_twice_or_a_stale_page_is_refused(world, registered):
    enterprise, user = registered
    confirmation = ask(world, enterprise).sent[0]
    with pytest.raises(services.StaleVersion):
        services.confirm_grant(
            actor=user, confirmation_id=confirmation.pk, expected_version=confirmation.version + 1
        )
    services.confirm_grant(actor=user, confirmation_id=confirmation.pk, expected_version=confirmation.version)
    with pytest.raises(services.DuplicateApplication, match="无需重复操作"):
        services.confirm_grant(
            actor=user, confirmation_id=confirmation.pk, expected_version=confirmation.version
        )
    assert Application.objects.filter(enterprise=enterprise).count() == 1


def test_another_enterprise_cannot_answer(world, registered):
    enterprise, _user = registered
    confirmation = ask(world, enterprise).sent[0]
    with pytest.raises(PermissionDenied):
        services.confirm_grant(actor=world.user, confirmation_id=confirmation.pk, expected_version=1)


def test_a_declined_one_is_recorded_and_not_asked_again(world, registered):
    enterprise, user = registered
    confirmation = ask(world, enterprise).sent[0]
    services.decline_grant(
        actor=user, confirmation_id=confirmation.pk, expected_version=1, reason="已通过其他渠道申报"
    )
    confirmation.refresh_from_db()
    assert (
        confirmation.state == Confirmation.State.DECLINED
        and confirmation.decline_reason == "已通过其他渠道申报"
    )
    assert confirmation.responded_by == user and confirmation.history.count() == 2
    again = ask(world, enterprise)
    assert not again.sent and "企业已放弃" in again.skipped[0][1]
    with pytest.raises(services.DuplicateApplication):
        services.confirm_grant(actor=user, confirmation_id=confirmation.pk, expected_version=2)
    assert not Application.objects.filter(enterprise=enterprise).exists()


# ---------------------------------------------------------------- payout plan


def test_a_plan_from_a_30_30_40_schedule():
    plan = services.payout_plan(Benefit(amount_rule=STAGES_30_30_40), Decimal("1000000.01"))
    assert [(s.condition, s.amount) for s in plan] == [
        ("签订合同后", Decimal("300000.00")),
        ("中期评估后", Decimal("300000.00")),
        ("验收通过后", Decimal("400000.01")),  # the last takes the remainder: the parts add up
    ]
    assert [s.share for s in plan] == [Decimal("0.3"), Decimal("0.3"), Decimal("0.4")]


def test_a_plan_without_a_schedule_is_one_stage_of_the_approved_amount():
    plan = services.payout_plan(Benefit(amount_rule={}), Decimal("3000000"))
    assert [(s.condition, s.share, s.amount) for s in plan] == [("", Decimal(1), Decimal("3000000"))]


def test_a_plan_by_year_and_by_instalments():
    yearly = {"schedule": {"years": 2, "year_factors": ["0.8", "0.5"], "quote": "第一年80%，第二年50%"}}
    plan = services.payout_plan(Benefit(amount_rule=yearly), Decimal("1300000"))
    assert [s.amount for s in plan] == [Decimal("800000.00"), Decimal("500000.00")]
    thirds = services.payout_plan(Benefit(amount_rule={}, instalments=3), Decimal("1000000"))
    assert [s.amount for s in thirds] == [Decimal("333333.33"), Decimal("333333.33"), Decimal("333333.34")]


def test_approval_creates_the_plan_from_the_benefit_schedule(world):
    Benefit.objects.filter(pk=world.benefit.pk).update(amount_rule=STAGES_30_30_40)
    application = bring_to(world, State.APPROVED)  # approved at 300 万元
    stages = list(application.payout_stages.all())
    assert [(s.order, s.amount, s.condition) for s in stages] == [
        (1, Decimal("900000.00"), "签订合同后"),
        (2, Decimal("900000.00"), "中期评估后"),
        (3, Decimal("1200000.00"), "验收通过后"),
    ]


# ---------------------------------------------------------------- recording stages


@pytest.fixture
def approved(world):
    return bring_to(world, State.APPROVED)


def record(world, stage, **values):
    data = {"publicised_on": None, "payment_order": "", "paid_on": None} | values
    return services.record_payout_stage(
        actor=world.reviewer, stage_id=stage.pk, expected_version=stage.version, **data
    )


def test_recording_a_stage_paid_notifies_the_enterprise(world, approved):
    stage = approved.payout_stages.get()
    assert stage.amount == Decimal("3000000") and stage.share == 1
    today = timezone.localdate()
    stage = record(world, stage, publicised_on=today - dt.timedelta(days=10))
    assert stage.version == 2 and not stage.paid
    assert not Notice.objects.filter(kind="application.payout_paid").exists()
    stage = record(
        world, stage, publicised_on=stage.publicised_on, payment_order="ZF-2026-001", paid_on=today
    )
    assert stage.paid and stage.history.count() == 3
    notice = Notice.objects.get(kind="application.payout_paid")
    assert notice.enterprise_id == world.enterprise.pk and notice.params["amount_yuan"] == "3000000.00"
    events = fresh(approved).events.filter(action=Action.PAYOUT)
    assert events.count() == 2 and "ZF-2026-001" in events.last().comment
    assert events.last().actor == world.reviewer


def test_a_paid_stage_is_final_and_a_stale_one_refused(world, approved):
    stage = approved.payout_stages.get()
    today = timezone.localdate()
    with pytest.raises(services.StaleVersion):
        services.record_payout_stage(
            actor=world.reviewer,
            stage_id=stage.pk,
            expected_version=stage.version + 1,
            publicised_on=today,
            payment_order="",
            paid_on=None,
        )
    stage = record(world, stage, publicised_on=today, payment_order="ZF-1", paid_on=today)
    with pytest.raises(services.DuplicateApplication, match="请勿重复登记"):
        record(world, stage, publicised_on=today, payment_order="ZF-2", paid_on=today)
    assert PayoutStage.objects.get(pk=stage.pk).payment_order == "ZF-1"
    assert Notice.objects.filter(kind="application.payout_paid").count() == 1


def test_paid_needs_publicity_an_order_and_sane_dates(world, approved):
    stage = approved.payout_stages.get()
    today = timezone.localdate()
    with pytest.raises(services.ApplicationError) as refused:
        record(world, stage, paid_on=today)
    assert set(refused.value.message_dict) == {"publicised_on", "payment_order"}
    with pytest.raises(services.ApplicationError) as refused:
        record(world, stage, publicised_on=today, payment_order="ZF", paid_on=today - dt.timedelta(days=1))
    assert "不能早于公示日期" in refused.value.message_dict["paid_on"][0]
    with pytest.raises(services.ApplicationError) as refused:
        record(world, stage, publicised_on=today + dt.timedelta(days=1))
    assert PayoutStage.objects.get(pk=stage.pk).version == 1  # nothing written


def test_stages_are_paid_in_order(world):
    Benefit.objects.filter(pk=world.benefit.pk).update(amount_rule=STAGES_30_30_40)
    application = bring_to(world, State.APPROVED)
    second = application.payout_stages.get(order=2)
    today = timezone.localdate()
    with pytest.raises(services.ApplicationError, match="请先登记第 1 期到账"):
        record(world, second, publicised_on=today, payment_order="ZF", paid_on=today)


def test_recording_needs_the_payout_permission(world, approved):
    stage = approved.payout_stages.get()
    for actor in (world.staff_without_permission, world.user):
        with pytest.raises(PermissionDenied):
            services.record_payout_stage(
                actor=actor,
                stage_id=stage.pk,
                expected_version=1,
                publicised_on=None,
                payment_order="",
                paid_on=None,
            )
