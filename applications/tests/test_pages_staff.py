"""Staff pages: the queue with its filters and counts, assignment, the review page and its decisions."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import Application, State
from applications.tests.support import bring_to, fresh, lease_benefit, lessee, with_material
from enterprises.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer_client(client, world):
    client.force_login(world.reviewer)
    return client


def submitted_by(enterprise, benefit, amount, user=None):
    user = user or MembershipFactory(enterprise=enterprise).user
    application = services.create_draft(
        actor=user, enterprise_id=enterprise.pk, benefit_id=benefit.pk, requested_amount=Decimal(amount)
    )
    application = with_material(user, application)
    return services.submit(actor=user, application_id=application.pk, expected_version=application.version)


@pytest.fixture
def queue(world):
    """Four submitted applications over two documents, amounts 50/200/800/1000 万元, one under review."""
    other_document_benefit = lease_benefit()
    a = submitted_by(world.enterprise, world.benefit, "500000", world.user)
    b = submitted_by(world.other_enterprise, world.benefit, "2000000", world.other_user)
    c = submitted_by(lessee(name="上海丙电子有限公司"), other_document_benefit, "8000000")
    d = submitted_by(lessee(name="上海丁生物医药有限公司"), other_document_benefit, "10000000")
    services.start_review(actor=world.reviewer, application_id=d.pk, expected_version=d.version)
    Application.objects.filter(pk=a.pk).update(submitted_at=timezone.now() - dt.timedelta(days=40))
    draft_only = lease_benefit()
    services.create_draft(actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=draft_only.pk)
    return {"a": a, "b": b, "c": c, "d": d, "other_document": other_document_benefit.clause.document}


def listed(response) -> set[int]:
    return {row["application"].pk for row in response.context["rows"]}


def test_the_queue_lists_submitted_applications_only_with_counts_per_state(world, queue, reviewer_client):
    response = reviewer_client.get(reverse("applications:review_queue"))
    assert response.status_code == 200
    assert listed(response) == {queue[k].pk for k in "abcd"}  # the draft stays private
    counts = {state: count for state, _label, count in response.context["counts"]}
    assert counts["submitted"] == 3 and counts["under_review"] == 1 and counts["approved"] == 0
    assert "draft" not in counts
    html = response.content.decode()
    assert 'data-state="submitted" data-count="3"' in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"state": "under_review"}, "d"),
        ({"enterprise": "丙电子"}, "c"),
        ({"amount_min": "200", "amount_max": "800"}, "bc"),
        ({"amount_min": "900"}, "d"),
        ({"submitted_to": (timezone.localdate() - dt.timedelta(days=30)).isoformat()}, "a"),
        ({"submitted_from": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}, "bcd"),
    ],
)
def test_queue_filters(world, queue, reviewer_client, params, expected):
    response = reviewer_client.get(reverse("applications:review_queue"), params)
    assert listed(response) == {queue[k].pk for k in expected}


def test_queue_filter_by_document_and_counts_follow_the_other_filters(world, queue, reviewer_client):
    response = reviewer_client.get(
        reverse("applications:review_queue"), {"document": queue["other_document"].pk, "state": "submitted"}
    )
    assert listed(response) == {queue["c"].pk}
    counts = {state: count for state, _label, count in response.context["counts"]}
    assert (counts["submitted"], counts["under_review"]) == (1, 1)  # the state filter itself is not applied


def test_assignment_from_the_queue(world, queue, reviewer_client):
    b = fresh(queue["b"])
    response = reviewer_client.post(
        reverse("applications:assign", args=[b.pk]),
        {"reviewer": world.second_reviewer.pk, "version": b.version, "query": "state=submitted"},
    )
    assert response.status_code == 302 and response.url.endswith("?state=submitted")
    assert fresh(b).reviewer == world.second_reviewer
    mine = reviewer_client.get(reverse("applications:review_queue"), {"assigned": "me"})
    assert listed(mine) == {queue["d"].pk}  # started by reviewer1
    unassigned = reviewer_client.get(reverse("applications:review_queue"), {"assigned": "none"})
    assert listed(unassigned) == {queue["a"].pk, queue["c"].pk}


def test_review_page_shows_facts_with_sources_explanations_side_by_side_and_the_clause(
    world, reviewer_client
):
    application = bring_to(world, State.SUBMITTED)
    world.enterprise.projects.update(area_m2=Decimal("4500"))  # since submission the area fell below 5000
    response = reviewer_client.get(reverse("applications:review_detail", args=[application.pk]))
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert comparison.status_changed and comparison.any_change
    changed = [row.requirement for row in comparison.rows if row.changed]
    assert changed == ["新租赁自用工业厂房面积 ≥ 5000 平方米"]
    html = response.content.decode()
    assert 'id="explanation-changed"' in html
    assert '<tr class="changed"><th scope="row">新租赁自用工业厂房面积 ≥ 5000 平方米' in html
    assert "6000 平方米" in html and "4500 平方米" in html
    assert world.benefit.clause.text in html
    assert 'data-fact="new_factory_lease_area_m2"' in html and "企业自报" in html
    assert 'id="start-form"' in html


def test_deciding_through_the_review_page(world, reviewer_client):
    application = bring_to(world, State.SUBMITTED)
    url = reverse("applications:review_detail", args=[application.pk])
    assert (
        reviewer_client.post(url, {"action": "start_review", "version": application.version}).status_code
        == 302
    )
    application = fresh(application)

    above = reviewer_client.post(
        url, {"action": "approve", "version": application.version, "amount": "1000.01"}
    )
    assert above.status_code == 400
    html = above.content.decode()
    assert 'id="approve_amount_errors"' in html
    assert "金额 1000.01 万元 超过该项目的上限 1000 万元，不能超过上限。" in html
    assert fresh(application).state == State.UNDER_REVIEW

    no_reason = reviewer_client.post(url, {"action": "reject", "version": application.version, "reason": ""})
    assert no_reason.status_code == 400 and 'id="reject_reason_errors"' in no_reason.content.decode()

    assert (
        reviewer_client.post(
            url, {"action": "approve", "version": application.version, "amount": "750.5", "comment": "同意"}
        ).status_code
        == 302
    )
    decided = fresh(application)
    assert (decided.state, decided.approved_amount) == (State.APPROVED, Decimal("7505000.00"))


def test_the_second_reviewer_sees_changed_by_someone_else(world, client):
    application = bring_to(world, State.UNDER_REVIEW)
    url = reverse("applications:review_detail", args=[application.pk])
    client.force_login(world.reviewer)
    client.post(url, {"action": "approve", "version": application.version, "amount": "100"})
    client.force_login(world.second_reviewer)
    response = client.post(url, {"action": "return", "version": application.version, "needed": "补充合同"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="conflict"' in html and "已被他人修改" in html
    assert 'id="approve-form"' not in html  # the page shows the decision taken, no stale forms
    final = fresh(application)
    assert (final.state, final.approved_amount, final.information_request) == (
        State.APPROVED,
        Decimal("1000000.00"),
        "",
    )
