"""A call whose window has closed: the dashboard no longer shows it as open, the apply page says so with
its dates, and saving the application is refused with the dates and creates nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from applications.models import Application, Call, CallMaterial, CallWindow

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_closed_window_refuses_an_application_with_its_dates(browser, portal):
    lease = portal.lease
    today = timezone.localdate()
    first, last = today - dt.timedelta(days=60), today - dt.timedelta(days=30)
    local = timezone.get_current_timezone()
    call = Call.objects.create(
        key="browser-closed-call",
        title="（演示）已截止的申报通知",
        issuer="（演示）闵行区经济委员会",
        methods=["online"],
        is_demo=True,
    )
    call.benefits.add(lease)
    CallWindow.objects.create(
        call=call,
        opens_at=dt.datetime.combine(first, dt.time(), tzinfo=local),
        closes_at=dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=local),  # last day 24:00
    )
    CallMaterial.objects.create(call=call, key="contract", name="租赁合同", file_types=["pdf"])
    period = f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"

    browser.log_in(*portal.enterprise_login, then="/applications/dashboard/")
    row = browser.find(f"#benefit-{lease.pk}")
    assert "暂无申报通知" in row.text and "还剩" not in row.text.split("政策有效期")[0]

    browser.visit(f"/applications/apply/{lease.pk}/")
    windows = browser.text("#call-windows")
    assert period in windows and "已截止" in windows

    browser.fill("#application_requested_amount", "800")
    browser.fill("#application_contact_phone", "021-64000000")
    browser.click_and_wait("#save-draft", f"/applications/apply/{lease.pk}/")
    refusal = browser.text(".form-errors")
    assert "申报已截止" in refusal and period in refusal
    browser.screenshot("calls-closed-window-refused")
    assert not Application.objects.filter(enterprise=portal.enterprise, benefit=lease).exists()
