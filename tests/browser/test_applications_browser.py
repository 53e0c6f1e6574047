"""Applying and reviewing in headless Chromium: the enterprise applies with a PDF attachment and submits;
a reviewer returns the application, the enterprise answers, the reviewer approves; an amount above the
benefit's cap is refused with a clear message and changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from applications.models import Action, Application, State
from tests.browser.support import application_in_review, tiny_pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def state_of(browser) -> str:
    return browser.find("#application-state").get_attribute("data-state")


def test_enterprise_applies_with_an_attachment_and_submits(browser, portal, tmp_path):
    enterprise, lease = portal.enterprise, portal.lease
    browser.log_in(*portal.enterprise_login, then="/applications/dashboard/")
    assert enterprise.name in browser.text()
    assert browser.text("#best-total").endswith("万元")
    row = browser.find(f"#benefit-{lease.pk}")
    assert "新租赁自用工业厂房补贴" in row.text and "待认定" in row.text
    browser.screenshot("app-1-dashboard", max_height=1300)

    browser.click_and_wait(f"#apply-{lease.pk}", f"/applications/apply/{lease.pk}/")
    assert "申报：新租赁自用工业厂房补贴" in browser.text("h1")
    assert "上限 1000 万元" in browser.text()
    amount = browser.find("#application_requested_amount")
    assert Decimal(amount.get_attribute("value")) == Decimal("1000")  # prefilled with the engine's estimate
    browser.fill("#application_requested_amount", "800")
    browser.fill("#application_project_summary", "马桥镇新租赁厂房5000平方米，用于五轴加工中心产线。")
    browser.fill("#application_contact_phone", "021-64000000")
    browser.screenshot("app-2-apply", max_height=1700)
    browser.click_and_wait("#save-draft")
    application = Application.objects.get(enterprise=enterprise, benefit=lease)
    browser.wait_for_path(f"/applications/{application.pk}/")
    assert state_of(browser) == State.DRAFT
    assert "已保存为草稿" in browser.text(".messages")

    contract = tiny_pdf(tmp_path / "租赁合同.pdf")
    browser.find("#attachment_file").send_keys(str(contract))
    browser.fill("#attachment_description", "厂房租赁合同")
    browser.click_and_wait("#upload-attachment", f"/applications/{application.pk}/")
    listed = browser.text("#attachment-list")
    assert "租赁合同.pdf" in listed and "厂房租赁合同" in listed and "PDF" in listed
    browser.screenshot("app-3-draft-with-attachment")

    browser.click_and_wait("#submit-application", f"/applications/{application.pk}/")
    assert state_of(browser) == State.SUBMITTED
    assert "申报已提交" in browser.text(".messages")
    assert browser.text("#requested-amount") == "800 万元"
    browser.screenshot("app-4-submitted")

    application.refresh_from_db()
    assert application.state == State.SUBMITTED and application.requested_amount == Decimal("8000000")
    assert application.explanation_snapshot["status"] == "pending_recognition"
    stored = application.attachments.get()
    assert stored.kind == "pdf" and stored.file.read() == contract.read_bytes()
    assert list(application.events.values_list("action", flat=True).order_by("at", "pk")) == [
        Action.CREATE,
        Action.ATTACH,
        Action.SUBMIT,
    ]


def test_reviewer_returns_the_enterprise_answers_and_the_reviewer_approves(browser, portal):
    application = application_in_review(portal, started=False)
    review_page = f"/applications/review/{application.pk}/"

    browser.log_in(*portal.reviewer_login, then="/applications/review/")
    queued = browser.find(f"#queue-row-{application.pk}")
    assert queued.get_attribute("data-state") == State.SUBMITTED and portal.enterprise.name in queued.text
    browser.screenshot("review-1-queue", full_page=False)
    # filtering refreshes the queue in place (HTMX): no page load, the URL follows the filter
    browser.driver.execute_script("window.sameDocument = true")
    Select(browser.find("#id_state")).select_by_value(State.UNDER_REVIEW)
    WebDriverWait(browser.driver, 20).until(
        lambda driver: (
            not browser.find_all(f"#queue-row-{application.pk}") and "state=under_review" in browser.path
        ),
        message="the queue filtered in place",
    )
    assert "没有符合条件的申报" in browser.text("#review-queue")
    assert (
        browser.find("#state-counts a[aria-current=true]").get_attribute("data-state") == State.UNDER_REVIEW
    )
    browser.find("#queue-filter a").click()  # 清除条件
    queued = WebDriverWait(browser.driver, 20).until(
        lambda driver: (browser.find_all(f"#queue-row-{application.pk}") or [None])[0], message="cleared"
    )
    assert browser.driver.execute_script("return window.sameDocument === true")  # never reloaded
    assert browser.path == "/applications/review/"
    queued.find_element(By.CSS_SELECTOR, "a").click()
    browser.wait_for_path(review_page)
    browser.click_and_wait("#start-review", review_page)
    assert state_of(browser) == State.UNDER_REVIEW
    assert "租赁面积超过5000平方米（含）以上" in browser.text("#clause-text")
    browser.screenshot("review-2-under-review", max_height=1500)
    browser.fill("#return_needed", "请上传经备案的厂房租赁合同及租金支付凭证。")
    browser.click_and_wait("#return-application", review_page)
    assert state_of(browser) == State.RETURNED

    # the enterprise, in its own browser session, is told (badge and notices), then answers the request
    detail_page = f"/applications/{application.pk}/"
    browser.log_in(*portal.enterprise_login, then=detail_page)
    assert int(browser.text("#notification-badge").split()[0]) >= 3  # submitted, under review, returned
    browser.click_and_wait("#nav-notifications", "/matches/notifications/")
    assert "被退回补充：请上传经备案的厂房租赁合同及租金支付凭证。" in browser.text("#notices")
    browser.click_and_wait("#notices li.unread a", detail_page)
    assert "请上传经备案的厂房租赁合同及租金支付凭证" in browser.text("#information-request")
    browser.fill("#resubmit_answer", "已补充租赁合同备案证明和2026年第一季度租金支付凭证。")
    browser.click_and_wait("#resubmit-application", detail_page)
    assert state_of(browser) == State.RESUBMITTED
    assert "补充材料已提交" in browser.text(".messages")

    browser.log_in(*portal.reviewer_login, then=review_page)
    assert "已补充租赁合同备案证明" in browser.text()
    browser.click_and_wait("#start-review", review_page)
    browser.fill("#approve_amount", "800")
    browser.fill("#approve_comment", "材料齐全，按实际租金核定。")
    browser.click_and_wait("#approve-application", review_page)
    assert state_of(browser) == State.APPROVED
    assert browser.text("#approved-amount") == "800 万元"
    trail = [item.get_attribute("data-action") for item in browser.find_all("#event-trail li")]
    assert trail == [
        "create", "attach", "submit", "start_review", "return", "resubmit", "start_review", "approve",
    ]  # fmt: skip
    browser.screenshot("review-3-approved")

    application.refresh_from_db()
    assert application.state == State.APPROVED and application.approved_amount == Decimal("8000000")
    assert application.resubmission_note.startswith("已补充租赁合同备案证明")
    decided = application.events.get(action=Action.APPROVE)
    assert decided.actor == portal.reviewer and decided.from_state == State.UNDER_REVIEW

    # the approval reaches the enterprise's notifications, and the benefit is no longer offered
    browser.log_in(*portal.enterprise_login, then="/matches/notifications/")
    assert "已批准，核定金额 800 万元" in browser.text("#notices li.unread")
    browser.visit("/applications/dashboard/")
    row = browser.find(f"#benefit-{portal.lease.pk}")
    assert "已批准" in row.text and not browser.find_all(f"#apply-{portal.lease.pk}")


def test_approving_above_the_cap_is_refused_with_a_clear_message(browser, portal):
    application = application_in_review(portal, started=True)
    review_page = f"/applications/review/{application.pk}/"
    browser.log_in(*portal.reviewer_login, then=review_page)
    assert browser.text("#benefit-ceiling") == "1000 万元"

    browser.fill("#approve_amount", "1200")
    browser.click_and_wait("#approve-application")
    errors = browser.text("#approve_amount_errors")
    assert "超过该项目的上限" in errors and "1000" in errors and "1200" in errors
    assert state_of(browser) == State.UNDER_REVIEW
    assert browser.find("#approve_amount").get_attribute("aria-invalid") == "true"
    assert browser.find("#approve_amount").get_attribute("value") == "1200"  # the typed amount is kept
    browser.scroll_to("#approve-form")
    browser.screenshot("review-4-above-cap", full_page=False)

    application.refresh_from_db()
    assert application.state == State.UNDER_REVIEW and application.approved_amount is None
    assert not application.events.filter(action=Action.APPROVE).exists()


def test_policy_library_search_and_document(browser, portal):
    browser.visit("/policies/")
    browser.driver.execute_script("window.sameDocument = true")
    browser.fill("#id_q", "租赁")  # search as you type: results appear without submitting or reloading
    WebDriverWait(browser.driver, 20).until(
        lambda driver: any("条条款" in title.text for title in browser.find_all("#results-title")),
        message="results while typing",
    )
    assert browser.driver.execute_script("return window.sameDocument === true")
    assert browser.path.startswith("/policies/?q=")
    assert "租赁" in browser.text("#search-results")
    browser.screenshot("policy-1-search", full_page=False)

    document = portal.lease.clause.document
    browser.visit(f"/policies/{document.key}/")
    assert document.title in browser.text("h1")
    clause = browser.find(f"#clause-{portal.lease.clause.pk}")
    assert "新租赁自用工业厂房补贴" in clause.text
    browser.driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", clause)
    browser.screenshot("policy-2-document", full_page=False)
