"""Every application event tells the enterprise (issue 14, step 4): a notice on its notifications page
with the unread badge, an e-mail when opted in, a webhook event application.<name>."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail

from applications import services
from applications.models import State
from applications.tests.support import bring_to, draft, fresh, lease_benefit, with_material
from matching.models import Notice, WebhookDelivery
from matching.notifications import set_email_preference, subscribe_webhook

pytestmark = pytest.mark.django_db


def mark_all_seen(client) -> None:
    """The page's "全部标为已读", as offered (reading the page changes nothing: a GET never writes)."""
    page = client.get("/matches/notifications/").content.decode()
    form = page.split('id="mark-seen"')[1].split("</form>")[0]
    data = dict(re.findall(r'name="(up_to|notice_up_to)" value="(\d+)"', form))
    assert client.post("/matches/notifications/", {"action": "mark_seen", **data}).status_code == 302


def under_review(world, application):
    application = with_material(world.user, application)
    application = services.submit(
        actor=world.user, application_id=application.pk, expected_version=application.version
    )
    return services.start_review(
        actor=world.reviewer, application_id=application.pk, expected_version=application.version
    )


def test_a_return_and_an_approval_reach_the_enterprises_notifications(
    world, client, django_capture_on_commit_callbacks
):
    world.user.email = "alpha@example.cn"
    world.user.save()
    set_email_preference(user=world.user, enabled=True)
    subscribe_webhook(
        name="企业系统", url="https://hooks.example.cn/portal", enterprise_id=world.enterprise.pk
    )
    first = under_review(world, draft(world, requested_amount=Decimal("5000000")))
    other_benefit = lease_benefit(name="新购置自用工业厂房补贴")
    second = services.create_draft(
        actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=other_benefit.pk
    )
    second = under_review(world, second)
    client.force_login(world.user)
    mark_all_seen(client)  # everything so far is read

    with django_capture_on_commit_callbacks(execute=True):
        services.return_for_information(
            actor=world.reviewer,
            application_id=first.pk,
            expected_version=first.version,
            needed="请补充租赁合同。",
        )
        services.approve(
            actor=world.reviewer,
            application_id=second.pk,
            expected_version=second.version,
            amount=Decimal("3000000"),
        )

    home = client.get("/").content.decode()
    assert re.search(r'id="notification-badge">2<', home)
    page = client.get("/matches/notifications/").content.decode()
    notices = page.split('id="notices"')[1].split("</ul>")[0]
    assert f"申报 {first.reference}（新租赁自用工业厂房补贴）被退回补充：请补充租赁合同。" in notices
    assert f"申报 {second.reference}（新购置自用工业厂房补贴）已批准，核定金额 300 万元。" in notices
    assert f'href="/applications/{first.pk}/"' in notices
    assert notices.count("unread") == 2
    assert re.search(r'id="notification-badge">2<', client.get("/").content.decode())  # a GET reads only
    mark_all_seen(client)
    assert 'id="notification-badge"' not in client.get("/").content.decode()  # read now

    subjects = [message.subject for message in mail.outbox]
    assert any("被退回补充" in subject for subject in subjects) and any("已批准" in s for s in subjects)
    events = set(WebhookDelivery.objects.values_list("event", flat=True))
    assert {"application.returned", "application.approved", "application.submitted"} <= events


def test_every_event_of_the_state_machine_leaves_a_notice(world):
    bring_to(world, State.RESUBMITTED)
    assert list(
        Notice.objects.filter(enterprise=world.enterprise).order_by("id").values_list("kind", flat=True)
    ) == [
        "application.submitted",
        "application.under_review",
        "application.returned",
        "application.resubmitted",
    ]
    assert not Notice.objects.filter(enterprise=world.other_enterprise).exists()


def test_notices_read_in_english_too(world, client):
    application = bring_to(world, State.APPROVED)
    client.force_login(world.user)
    client.cookies["django_language"] = "en"
    page = client.get("/matches/notifications/").content.decode()
    assert f"Application {fresh(application).reference}" in page and "approved" in page
