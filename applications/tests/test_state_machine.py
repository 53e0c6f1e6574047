"""Every action from every state: allowed ones reach their target, the others are refused and change nothing."""

from decimal import Decimal

import pytest

from applications import services
from applications.models import Action, ApplicationEvent, State
from applications.services import TRANSITIONS, ApplicationError, DuplicateApplication, InvalidTransition
from applications.tests.support import bring_to, fresh, with_material

pytestmark = pytest.mark.django_db


def perform(world, action: str, application):
    common = {"application_id": application.pk, "expected_version": application.version}
    if action == Action.SUBMIT:
        return services.submit(actor=world.user, **common)
    if action == Action.WITHDRAW:
        return services.withdraw(actor=world.user, reason="不再需要", **common)
    if action == Action.START_REVIEW:
        return services.start_review(actor=world.reviewer, **common)
    if action == Action.RETURN:
        return services.return_for_information(actor=world.reviewer, needed="请补充材料", **common)
    if action == Action.RESUBMIT:
        return services.resubmit(actor=world.user, answer="已补充", **common)
    if action == Action.APPROVE:
        return services.approve(actor=world.reviewer, amount=Decimal("1000000"), **common)
    if action == Action.REJECT:
        return services.reject(actor=world.reviewer, reason="理由", **common)
    if action == Action.ASSIGN:
        return services.assign_reviewer(actor=world.reviewer, reviewer_id=world.second_reviewer.pk, **common)
    raise AssertionError(action)


STATE_ACTIONS = [
    Action.SUBMIT,
    Action.WITHDRAW,
    Action.START_REVIEW,
    Action.RETURN,
    Action.RESUBMIT,
    Action.APPROVE,
    Action.REJECT,
    Action.ASSIGN,
]
EXPECTED_TARGETS = {
    (State.DRAFT, Action.SUBMIT): State.SUBMITTED,
    (State.DRAFT, Action.WITHDRAW): State.WITHDRAWN,
    (State.SUBMITTED, Action.WITHDRAW): State.WITHDRAWN,
    (State.SUBMITTED, Action.START_REVIEW): State.UNDER_REVIEW,
    (State.SUBMITTED, Action.ASSIGN): State.SUBMITTED,
    (State.UNDER_REVIEW, Action.WITHDRAW): State.WITHDRAWN,
    (State.UNDER_REVIEW, Action.RETURN): State.RETURNED,
    (State.UNDER_REVIEW, Action.APPROVE): State.APPROVED,
    (State.UNDER_REVIEW, Action.REJECT): State.REJECTED,
    (State.UNDER_REVIEW, Action.ASSIGN): State.UNDER_REVIEW,
    (State.RETURNED, Action.WITHDRAW): State.WITHDRAWN,
    (State.RETURNED, Action.RESUBMIT): State.RESUBMITTED,
    (State.RETURNED, Action.ASSIGN): State.RETURNED,
    (State.RESUBMITTED, Action.WITHDRAW): State.WITHDRAWN,
    (State.RESUBMITTED, Action.START_REVIEW): State.UNDER_REVIEW,
    (State.RESUBMITTED, Action.ASSIGN): State.RESUBMITTED,
}


def test_the_transition_table_is_the_one_the_issue_describes():
    table = {
        (source, action): TRANSITIONS[action].target or source
        for action in STATE_ACTIONS
        for source in TRANSITIONS[action].sources
    }
    assert table == EXPECTED_TARGETS


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", STATE_ACTIONS)
def test_every_action_from_every_state(world, state, action):
    application = bring_to(world, state)
    if state == State.DRAFT:
        application = with_material(world.user, application)  # submission needs a material
    events_before = ApplicationEvent.objects.filter(application=application).count()
    target = EXPECTED_TARGETS.get((state, action))
    if target is not None:
        done = perform(world, action, application)
        assert done.state == target
        assert fresh(application).version == application.version + 1
        event = ApplicationEvent.objects.filter(application=application).latest("at", "id")
        assert (event.action, event.from_state, event.to_state) == (action, state, target)
        return
    expected = (
        DuplicateApplication
        if (state, action)
        in {
            (State.SUBMITTED, Action.SUBMIT),
            (State.RESUBMITTED, Action.RESUBMIT),
        }
        else InvalidTransition
    )
    with pytest.raises(expected) as refused:
        perform(world, action, application)
    message = " ".join(refused.value.messages)
    assert application.reference in message
    if expected is InvalidTransition:
        assert f"当前状态为“{State(state).label}”" in message
    unchanged = fresh(application)
    assert (unchanged.state, unchanged.version) == (state, application.version)
    assert ApplicationEvent.objects.filter(application=application).count() == events_before


def test_the_full_path_with_a_return_keeps_a_complete_trail(world):
    application = bring_to(world, State.RESUBMITTED)
    application = services.start_review(
        actor=world.second_reviewer, application_id=application.pk, expected_version=application.version
    )
    application = services.approve(
        actor=world.second_reviewer,
        application_id=application.pk,
        expected_version=application.version,
        amount=Decimal("8000000"),
        comment="材料齐全",
    )
    trail = list(application.events.values_list("action", "from_state", "to_state", "actor_name", "comment"))
    assert trail == [
        ("create", "", "draft", "alpha", ""),
        ("attach", "draft", "draft", "alpha", "租赁合同.pdf"),
        ("submit", "draft", "submitted", "alpha", ""),
        ("start_review", "submitted", "under_review", "reviewer1", ""),
        ("return", "under_review", "returned", "reviewer1", "请补充租赁合同。"),
        ("resubmit", "returned", "resubmitted", "alpha", "已上传租赁合同。"),
        ("start_review", "resubmitted", "under_review", "reviewer2", ""),
        ("approve", "under_review", "approved", "reviewer2", "材料齐全"),
    ]
    assert application.events.get(action="approve").amount == Decimal("8000000")
    assert application.approved_amount == Decimal("8000000")
    assert application.version == 8  # one per change after creation (the attachment too)
    assert application.reviewer == world.reviewer  # the first to start keeps the assignment
    assert application.decided_at is not None
    # simple_history keeps every version, each with the user who made it
    history = list(
        application.history.order_by("history_date").values_list("state", "history_user__username")
    )
    assert history[0] == ("draft", "alpha")
    assert history[-1] == ("approved", "reviewer2")
    assert len(history) == 8


def test_start_review_assigns_the_reviewer_who_starts(world):
    application = bring_to(world, State.UNDER_REVIEW)
    assert application.reviewer == world.reviewer


def test_required_texts_are_refused_when_blank(world):
    application = bring_to(world, State.UNDER_REVIEW)
    common = {
        "actor": world.reviewer,
        "application_id": application.pk,
        "expected_version": application.version,
    }
    with pytest.raises(ApplicationError) as no_reason:
        services.reject(reason="   ", **common)
    assert no_reason.value.message_dict == {"reason": ["请填写不予通过的理由。"]}
    with pytest.raises(ApplicationError) as no_need:
        services.return_for_information(needed="", **common)
    assert no_need.value.message_dict == {"needed": ["请写明需要企业补充的材料或信息。"]}
    assert fresh(application).state == State.UNDER_REVIEW


def test_a_resubmission_needs_an_answer(world):
    returned = bring_to(world, State.RETURNED)
    with pytest.raises(ApplicationError) as no_answer:
        services.resubmit(
            actor=world.user, application_id=returned.pk, expected_version=returned.version, answer=" "
        )
    assert no_answer.value.message_dict == {"answer": ["请说明补充了哪些材料或信息。"]}
    assert fresh(returned).state == State.RETURNED
