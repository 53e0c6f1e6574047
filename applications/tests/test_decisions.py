"""Reviewers' decisions: the cap, required amounts, and two reviewers deciding at once."""

from decimal import Decimal

import pytest

from applications import services
from applications.models import State
from applications.services import ApplicationError, StaleVersion
from applications.tests.support import CAP, bring_to, fresh, lease_benefit
from policies.models import Benefit

pytestmark = pytest.mark.django_db


def approve(world, application, amount, actor=None, version=None):
    return services.approve(
        actor=actor or world.reviewer,
        application_id=application.pk,
        expected_version=application.version if version is None else version,
        amount=amount,
    )


def test_approving_above_the_cap_is_refused_with_a_clear_message(world):
    application = bring_to(world, State.UNDER_REVIEW)
    with pytest.raises(ApplicationError) as refused:
        approve(world, application, CAP + Decimal("0.01"))
    assert refused.value.message_dict == {
        "amount": ["金额 1000.000001 万元 超过该项目的上限 1000 万元，不能超过上限。"]
    }
    unchanged = fresh(application)
    assert (unchanged.state, unchanged.approved_amount, unchanged.version) == (
        State.UNDER_REVIEW,
        None,
        application.version,
    )
    assert approve(world, application, CAP).approved_amount == CAP  # exactly the cap is fine


@pytest.mark.parametrize(
    ("amount", "message"),
    [(None, "请填写金额。"), (Decimal("0"), "金额必须大于 0。"), (Decimal("-1"), "金额必须大于 0。")],
)
def test_an_approval_needs_a_positive_amount(world, amount, message):
    application = bring_to(world, State.UNDER_REVIEW)
    with pytest.raises(ApplicationError) as refused:
        approve(world, application, amount)
    assert refused.value.message_dict == {"amount": [message]}
    assert fresh(application).state == State.UNDER_REVIEW


def test_a_fixed_amount_is_the_ceiling_when_no_cap_is_stated(world):
    world.benefit.cap = None
    world.benefit.amount = Decimal("500000")
    world.benefit.save()
    application = bring_to(
        world,
        State.UNDER_REVIEW,
        services.create_draft(
            actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=world.benefit.pk
        ),
    )
    with pytest.raises(ApplicationError, match="上限 50 万元"):
        approve(world, application, Decimal("500001"))
    assert approve(world, application, Decimal("500000")).state == State.APPROVED


def test_a_non_monetary_benefit_is_approved_without_an_amount(world):
    benefit = lease_benefit(kind=Benefit.Kind.NON_MONETARY, cap=None)
    application = services.create_draft(
        actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=benefit.pk
    )
    application = bring_to(world, State.UNDER_REVIEW, application)
    with pytest.raises(ApplicationError, match="非资金支持"):
        approve(world, application, Decimal("1"))
    assert approve(world, application, None).approved_amount is None


def test_two_reviewers_deciding_at_once_the_second_is_refused_and_nothing_is_overwritten(world):
    application = bring_to(world, State.UNDER_REVIEW)
    seen = application.version  # both reviewers opened the page at this version
    approve(world, application, Decimal("3000000"), actor=world.reviewer, version=seen)
    with pytest.raises(StaleVersion) as refused:
        services.reject(
            actor=world.second_reviewer, application_id=application.pk, expected_version=seen, reason="不符合"
        )
    assert "已被他人修改" in refused.value.messages[0]
    decided = fresh(application)
    assert (decided.state, decided.approved_amount, decided.decision_reason) == (
        State.APPROVED,
        Decimal("3000000"),
        "",
    )
    assert list(
        decided.events.filter(action__in=["approve", "reject"]).values_list("actor_name", flat=True)
    ) == ["reviewer1"]


def test_a_stale_return_does_not_overwrite_a_newer_one(world):
    application = bring_to(world, State.UNDER_REVIEW)
    seen = application.version
    services.assign_reviewer(
        actor=world.reviewer,
        application_id=application.pk,
        expected_version=seen,
        reviewer_id=world.second_reviewer.pk,
    )
    with pytest.raises(StaleVersion):
        services.return_for_information(
            actor=world.reviewer, application_id=application.pk, expected_version=seen, needed="x"
        )
    assert fresh(application).state == State.UNDER_REVIEW
    assert fresh(application).information_request == ""


def test_assigning_someone_without_the_review_permission_is_refused(world):
    application = bring_to(world, State.SUBMITTED)
    with pytest.raises(ApplicationError) as refused:
        services.assign_reviewer(
            actor=world.reviewer,
            application_id=application.pk,
            expected_version=application.version,
            reviewer_id=world.staff_without_permission.pk,
        )
    assert refused.value.message_dict == {"reviewer": ["所选用户没有审核申报的权限。"]}
    assigned = services.assign_reviewer(
        actor=world.reviewer,
        application_id=application.pk,
        expected_version=application.version,
        reviewer_id=world.second_reviewer.pk,
    )
    assert assigned.reviewer == world.second_reviewer
    assert assigned.events.latest("id").comment == "reviewer2"
