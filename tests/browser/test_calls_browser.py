"""A call whose window has closed: the dashboard no longer shows it as open, the apply page says so with
its dates, and saving the application is refused with the dates and creates nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from selenium.webdriver.support.ui import Select

from applications.models import (
    Application,
    Call,
    CallDepartment,
    CallIntakeLevel,
    CallMaterial,
    CallWindow,
)
from tests.browser.support import tiny_pdf

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


def test_an_open_call_with_its_materials_then_the_checklist_until_every_required_one_is_attached(
    browser, portal, tmp_path
):
    """The apply page shows the call (window, departments, materials); the application's checklist says
    what is attached and what is missing; submitting is refused until every required material is there."""
    lease = portal.lease
    today = timezone.localdate()
    local = timezone.get_current_timezone()
    call = Call.objects.create(
        key="browser-open-call",
        title="（演示）闵行区新型工业化政策项目申报通知",
        issuer="（演示）闵行区经济委员会",
        methods=["online", "offline"],
        is_demo=True,
    )
    call.benefits.add(lease)
    CallWindow.objects.create(  # open from a month ago for three years: whatever today is
        call=call,
        opens_at=dt.datetime.combine(today - dt.timedelta(days=30), dt.time(9), tzinfo=local),
        closes_at=dt.datetime.combine(today + dt.timedelta(days=3 * 365), dt.time(17), tzinfo=local),
    )
    CallDepartment.objects.create(
        call=call, name="（演示）闵行区经济委员会产业发展科", contact="王老师", phone="021-00000000"
    )
    CallIntakeLevel.objects.create(
        call=call, order=0, name="街镇（园区）初审", department="企业所在街镇（园区）"
    )
    CallIntakeLevel.objects.create(
        call=call, order=1, name="区经委复核", department="（演示）闵行区经济委员会"
    )
    for order, (key, name, required, description) in enumerate(
        [
            ("application-form", "项目申请表", True, "加盖公章的申请表扫描件。"),
            ("business-licence", "营业执照", True, ""),
            ("project-proof", "项目证明材料", True, "租赁合同、购房合同、技改项目备案或认定证书等。"),
            ("credit-pledge", "信用承诺书", False, ""),
        ]
    ):
        CallMaterial.objects.create(
            call=call, key=key, order=order, name=name, required=required, description=description,
            file_types=["pdf"],
        )  # fmt: skip

    browser.log_in(*portal.enterprise_login, then=f"/applications/apply/{lease.pk}/")
    assert "受理中" in browser.text("#call-windows")
    listed = browser.text("#call-materials")
    assert all(name in listed for name in ("项目申请表", "营业执照", "项目证明材料", "信用承诺书"))
    assert "王老师" in browser.text("#call-info") and "街镇（园区）初审" in browser.text("#call-info")
    browser.scroll_to("#call-info")
    browser.screenshot("calls-1-window-and-materials", full_page=False)

    browser.fill("#application_requested_amount", "800")
    browser.fill("#application_contact_phone", "021-64000000")
    browser.click_and_wait("#save-draft")
    application = Application.objects.get(enterprise=portal.enterprise, benefit=lease)
    detail = f"/applications/{application.pk}/"
    browser.wait_for_path(detail)

    def attach(material: CallMaterial) -> None:
        Select(browser.find("#attachment_material")).select_by_value(str(material.pk))
        browser.find("#attachment_file").send_keys(str(tiny_pdf(tmp_path / f"{material.name}.pdf")))
        browser.click_and_wait("#upload-attachment", detail)

    form, licence, proof, _pledge = call.materials.all()
    attach(form)
    browser.click_and_wait("#submit-application", detail)
    refusal = browser.text(".form-errors")
    assert "营业执照" in refusal and "项目证明材料" in refusal and "项目申请表" not in refusal
    assert browser.find(f"#material-{form.pk}").get_attribute("data-present") == "1"
    assert browser.find(f"#material-{licence.pk}").get_attribute("data-present") == "0"
    assert Application.objects.get(pk=application.pk).state == "draft"
    attach(licence)
    browser.scroll_to("#material-checklist")
    browser.screenshot("calls-2-materials-checklist", full_page=False)

    attach(proof)
    browser.click_and_wait("#submit-application", detail)
    assert browser.find("#application-state").get_attribute("data-state") == "submitted"
