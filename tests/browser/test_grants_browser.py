"""免申即享 and payouts in headless Chromium: a reviewer selects an enterprise on the auto-grant list and
sends a confirmation request, the enterprise finds it in its notifications and confirms, the reviewer
approves the resulting application; a two-stage payout is recorded and the enterprise sees the timeline."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from applications import services
from applications.models import Action, Application, Confirmation, State
from enterprises.models import Enterprise, Project
from policies.models import Benefit
from tests.browser.support import application_in_review

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TWO_HALVES = {
    "schedule": {
        "stages": [{"share": "0.5", "after": "签订协议后"}, {"share": "0.5", "after": "验收通过后"}],
        "quote": "分两次各50%拨付",
    }
}


def test_a_confirmation_from_staff_selection_to_enterprise_confirmation_to_approval(browser, portal):
    enterprise, lease = portal.enterprise, portal.lease
    # the register holds the demo enterprise and its lease: it meets the benefit on authoritative data alone
    Enterprise.objects.filter(pk=enterprise.pk).update(source="register")
    Project.objects.filter(enterprise=enterprise).update(source="register")

    list_page = "/applications/review/auto-grant/"
    browser.log_in(*portal.reviewer_login, then=f"{list_page}?benefit={lease.pk}")
    assert browser.find(f"#confirmation-state-{enterprise.pk}").get_attribute("data-state") == ""
    browser.find(f"#choose-{enterprise.pk}").click()
    browser.screenshot("grant-1-select", max_height=1300)
    browser.click_and_wait("#send-confirmations")  # back on the list for the same benefit
    assert browser.path.startswith(f"{list_page}?benefit={lease.pk}&")
    assert "已向 1 家企业发送意愿确认" in browser.text(".messages")
    assert browser.find(f"#confirmation-state-{enterprise.pk}").get_attribute("data-state") == "requested"
    assert not browser.find_all(f"#choose-{enterprise.pk}")  # cannot be sent twice
    confirmation = Confirmation.objects.get(enterprise=enterprise, benefit=lease)

    browser.log_in(*portal.enterprise_login, then="/matches/notifications/")
    assert "可免申即享" in browser.text("#notices")
    browser.click_and_wait(
        "#notices li[data-kind='application.confirmation_requested'] a",
        f"/applications/confirmations/{confirmation.pk}/",
    )
    assert "数据比对结果" in browser.text("#evidence") and lease.name in browser.text("h1")
    browser.screenshot("grant-2-confirm", max_height=1500)
    browser.click_and_wait("#confirm-grant")
    application = Application.objects.get(enterprise=enterprise, benefit=lease)
    browser.wait_for_path(f"/applications/{application.pk}/")
    assert browser.find("#application-state").get_attribute("data-state") == State.UNDER_REVIEW
    assert "已形成申报" in browser.text(".messages")

    review_page = f"/applications/review/{application.pk}/"
    browser.log_in(*portal.reviewer_login, then=review_page)
    browser.fill("#approve_amount", "1000")
    browser.click_and_wait("#approve-application", review_page)
    assert browser.find("#application-state").get_attribute("data-state") == State.APPROVED
    application.refresh_from_db()
    assert application.approved_amount == Decimal("10000000")
    assert list(application.events.values_list("action", flat=True)) == [Action.CONFIRM, Action.APPROVE]
    assert {reason["source"] for reason in application.explanation_snapshot["reasons"]} == {"register"}
    confirmation.refresh_from_db()
    assert confirmation.state == Confirmation.State.CONFIRMED and confirmation.application == application


def test_a_payout_with_two_stages_seen_by_the_enterprise(browser, portal):
    Benefit.objects.filter(pk=portal.lease.pk).update(amount_rule=TWO_HALVES)
    application = application_in_review(portal, started=True)
    application = services.approve(
        actor=portal.reviewer,
        application_id=application.pk,
        expected_version=application.version,
        amount=Decimal("8000000"),
    )
    first, second = application.payout_stages.order_by("order")
    assert (first.amount, second.amount) == (Decimal("4000000"), Decimal("4000000"))
    today = timezone.localdate().isoformat()

    payouts_page = f"/applications/review/{application.pk}/payouts/"
    browser.log_in(*portal.reviewer_login, then=payouts_page)
    assert "签订协议后" in browser.text("#stage-1") and "400 万元" in browser.text("#stage-1")
    for name, value in (("publicised_on", today), ("payment_order", "MH-ZF-0001"), ("paid_on", today)):
        browser.driver.execute_script(
            "document.getElementById(arguments[0]).value = arguments[1]", f"payout{first.pk}_{name}", value
        )
    browser.click_and_wait("#record-stage-1", payouts_page)
    assert "第 1 期拨付信息已登记" in browser.text(".messages")
    assert f"已到账（{today}）" in browser.text("#stage-1")
    browser.driver.execute_script(
        "document.getElementById(arguments[0]).value = arguments[1]",
        f"payout{second.pk}_publicised_on",
        today,
    )
    browser.click_and_wait("#record-stage-2", payouts_page)

    detail_page = f"/applications/{application.pk}/"
    browser.log_in(*portal.enterprise_login, then="/matches/notifications/")
    assert "第 1 期拨付 400 万元" in browser.text("#notices")
    browser.visit(detail_page)
    first_stage, second_stage = browser.find("#payout-stage-1"), browser.find("#payout-stage-2")
    assert first_stage.get_attribute("data-paid") == "yes" and f"已到账（{today}）" in first_stage.text
    assert "MH-ZF-0001" in first_stage.text and "签订协议后" in first_stage.text
    assert second_stage.get_attribute("data-paid") == "no" and "公示中" in second_stage.text
    assert "验收通过后" in second_stage.text and "400 万元" in second_stage.text
    browser.scroll_to("#payouts")
    browser.screenshot("payout-1-timeline", full_page=False)
