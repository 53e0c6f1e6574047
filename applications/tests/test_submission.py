"""Creating and submitting: double submissions, the engine's snapshot, amounts, policies out of force."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from applications import services
from applications.models import Application, State
from applications.services import ApplicationError, DuplicateApplication, InvalidTransition
from applications.tests.support import bring_to, draft, fresh, lease_benefit, with_material
from policies.models import Benefit, PolicyDocument
from policies.tests.factories import PolicyDocumentFactory

pytestmark = pytest.mark.django_db


def test_a_second_application_for_the_same_benefit_is_refused_while_one_is_open(world):
    first = draft(world)
    with pytest.raises(DuplicateApplication) as refused:
        draft(world)
    assert "已有一份进行中的申报" in refused.value.messages[0]
    assert first.reference in refused.value.messages[0]
    assert Application.objects.filter(enterprise=world.enterprise).count() == 1

    submitted = bring_to(world, State.SUBMITTED, first)
    with pytest.raises(DuplicateApplication):
        draft(world)
    services.withdraw(actor=world.user, application_id=submitted.pk, expected_version=submitted.version)
    again = draft(world)  # a closed application no longer blocks
    assert again.pk != first.pk and again.state == State.DRAFT


def test_the_same_draft_submitted_twice_is_refused_as_a_double_submission(world):
    application = with_material(world.user, draft(world))
    services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    with pytest.raises(DuplicateApplication) as refused:  # e.g. a double click: same version again
        services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    assert refused.value.messages == [f"申报 {application.reference} 已经提交，请勿重复提交。"]
    assert fresh(application).events.filter(action="submit").count() == 1


def test_the_database_refuses_two_open_applications_even_past_the_service(world):
    draft(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(enterprise=world.enterprise, benefit=world.benefit, state=State.SUBMITTED)


def test_an_approved_one_time_benefit_cannot_be_applied_for_again(world):
    bring_to(world, State.APPROVED)
    with pytest.raises(DuplicateApplication) as refused:
        draft(world)
    assert "一次性支持" in refused.value.messages[0]

    world.benefit.recurrence = Benefit.Recurrence.ANNUAL
    world.benefit.save()
    assert draft(world).state == State.DRAFT


def test_submission_freezes_the_engines_explanation_and_the_facts_it_read(world):
    application = with_material(world.user, draft(world, requested_amount=Decimal("6000000")))
    submitted = services.submit(
        actor=world.user, application_id=application.pk, expected_version=application.version
    )
    snapshot = submitted.explanation_snapshot
    assert snapshot["status"] == "eligible"
    assert snapshot["status_label"] == "符合条件"
    assert snapshot["amount"] == "10000000.00" and snapshot["amount_basis"] == "up_to_cap"
    assert [(r["fact"], r["outcome"], r["value_text"]) for r in snapshot["reasons"]] == [
        ("new_factory_lease_area_m2", "met", "6000 平方米"),
        ("located_in_minhang", "met", "是"),
    ]
    assert snapshot["reasons"][0]["requirement"] == "新租赁自用工业厂房面积 ≥ 5000 平方米"
    assert snapshot["reasons"][0]["quote"] == "租赁面积超过5000平方米（含）以上"
    assert snapshot["reasons"][0]["source_text"] == "企业自报"
    assert snapshot["benefit_version"] == world.benefit.version
    facts = {fact["code"]: fact for fact in submitted.facts_snapshot["facts"]}
    assert facts["new_factory_lease_area_m2"]["value_text"] == "6000 平方米"
    assert facts["new_factory_lease_area_m2"]["source"] == "self_declared"
    assert submitted.facts_snapshot["enterprise"]["credit_code"] == world.enterprise.credit_code
    assert submitted.submitted_at is not None and submitted.submitted_at == submitted.last_submitted_at

    # The snapshot stays as it was when the facts change afterwards.
    world.enterprise.projects.update(area_m2=Decimal("4000"))
    assert fresh(submitted).explanation_snapshot["reasons"][0]["value_text"] == "6000 平方米"


def test_a_resubmission_takes_the_explanation_again(world):
    returned = bring_to(world, State.RETURNED)
    world.enterprise.projects.update(area_m2=Decimal("7000"))
    resubmitted = services.resubmit(
        actor=world.user, application_id=returned.pk, expected_version=returned.version, answer="面积已更正"
    )
    assert resubmitted.explanation_snapshot["reasons"][0]["value_text"] == "7000 平方米"
    assert resubmitted.last_submitted_at > resubmitted.submitted_at


@pytest.mark.parametrize(
    ("status", "effective_to", "why"),
    [
        (PolicyDocument.Status.DRAFT, None, "征求意见稿"),
        (PolicyDocument.Status.IN_FORCE, dt.date(2020, 12, 31), "已过有效期"),
    ],
)
def test_a_benefit_out_of_force_cannot_be_applied_for(world, status, effective_to, why):
    document = PolicyDocumentFactory(
        status=status, effective_to=effective_to, effective_from=dt.date(2019, 1, 1)
    )
    benefit = lease_benefit(document=document)
    with pytest.raises(InvalidTransition) as refused:
        services.create_draft(actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=benefit.pk)
    assert why in refused.value.messages[0]
    assert not Application.objects.filter(benefit=benefit).exists()


def test_a_draft_whose_policy_expired_before_submission_cannot_be_submitted(world):
    application = with_material(world.user, draft(world))
    document = world.benefit.clause.document
    document.status = PolicyDocument.Status.SUPERSEDED
    document.save()
    with pytest.raises(InvalidTransition):
        services.submit(actor=world.user, application_id=application.pk, expected_version=application.version)
    assert fresh(application).state == State.DRAFT


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (Decimal("10000100"), "金额 1000.01 万元 超过该项目的上限 1000 万元，不能超过上限。"),
        (Decimal("0"), "金额必须大于 0。"),
        (Decimal("-5"), "金额必须大于 0。"),
        (Decimal("1.005"), "金额最多精确到分（0.01 元）。"),
    ],
)
def test_requested_amounts_are_checked(world, amount, message):
    with pytest.raises(ApplicationError) as refused:
        draft(world, requested_amount=amount)
    assert refused.value.message_dict == {"requested_amount": [message]}
    assert draft(world, requested_amount=Decimal("10000000")).requested_amount == Decimal("10000000")


def test_not_stated_stays_none_not_zero(world):
    application = draft(world)
    assert application.requested_amount is None
    edited = services.update_draft(
        actor=world.user,
        application_id=application.pk,
        expected_version=application.version,
        requested_amount=None,
        project_summary=" 新租厂房 ",
        contact_name="张三",
        contact_phone="021-12345678",
    )
    assert (edited.requested_amount, edited.project_summary, edited.version) == (None, "新租厂房", 2)
