"""From the anonymous self-check to a registered enterprise in headless Chromium: the answers become the
profile, a malformed 统一社会信用代码 is refused without writing anything, and the new user lands on
the dashboard logged in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.utils import timezone

from enterprises.facts import facts_for
from enterprises.models import Enterprise, EnterpriseMembership
from enterprises.validators import credit_code_for
from matching.selectors import catalog as load_catalog
from portal.selfcheck.evaluation import parse_answers
from portal.selfcheck.questions import ANSWERS_SESSION_KEY
from tests.browser.support import choose, next_step, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CREDIT_CODE = credit_code_for(8_888_888)
WRONG_CHECK = CREDIT_CODE[:17] + ("0" if CREDIT_CODE[17] != "0" else "1")
PASSWORD = "hongqiao-precision-2026"


def fill_registration(browser, credit_code: str) -> None:
    browser.fill("#id_username", "hongqiao")
    browser.fill("#id_password1", PASSWORD)
    browser.fill("#id_password2", PASSWORD)
    browser.fill("#id_enterprise_name", "上海虹桥精工装备有限公司")
    browser.fill("#id_credit_code", credit_code)


def test_self_check_answers_become_a_registered_enterprise(browser, portal):
    assert not Enterprise.objects.filter(credit_code=CREDIT_CODE).exists()
    browser.visit("/self-check/")
    browser.click_and_wait("#start-selfcheck", "/self-check/step/basic/")
    choose(browser, "is_manufacturing", "true")
    choose(browser, "industry_tracks", "high_end_equipment")
    next_step(browser, "/self-check/step/operations/")
    type_into(browser, "output_value", "20000")  # 2 亿元
    next_step(browser, "/self-check/step/recognitions/")
    choose(browser, "recognitions_new", "little_giant")
    # 以上都没有: registering then failed with HTTP 400 "此字段不能为空"
    choose(browser, "innovative_drug_device_status", "__none__")
    next_step(browser, "/self-check/step/projects/")
    choose(browser, "is_new_key_industry_project", "true")
    type_into(browser, "new_factory_lease_area_m2", "5000")
    type_into(browser, "rent_total", "1000")
    next_step(browser, "/self-check/results/")
    assert browser.text("#selfcheck-total").endswith("万元")
    browser.screenshot("register-1-selfcheck-results", max_height=1500)

    browser.click_and_wait("#register-link", "/self-check/register/")
    assert "新租赁自用工业厂房面积" in browser.text() and "5000 平方米" in browser.text()
    session = Session.objects.get(session_key=browser.driver.get_cookie("sessionid")["value"])
    answers = session.get_decoded()[ANSWERS_SESSION_KEY]
    users_before = get_user_model().objects.count()

    # a wrong check character: the form says which character is expected, nothing is written
    fill_registration(browser, WRONG_CHECK)
    browser.click_and_wait("#register-submit")
    error = browser.text("#id_credit_code_error")
    assert f"第18位应为“{CREDIT_CODE[17]}”" in error
    assert browser.find("#id_username").get_attribute("value") == "hongqiao"  # what was typed is kept
    assert browser.find("#id_credit_code").get_attribute("aria-invalid") == "true"
    browser.scroll_to("#id_credit_code")
    browser.screenshot("register-2-bad-credit-code", full_page=False)
    assert get_user_model().objects.count() == users_before
    assert not Enterprise.objects.filter(name="上海虹桥精工装备有限公司").exists()

    fill_registration(browser, CREDIT_CODE)  # passwords are never sent back: typed again
    browser.click_and_wait("#register-submit", "/applications/dashboard/")
    messages = browser.text(".messages")
    assert "企业“上海虹桥精工装备有限公司”已登记" in messages
    assert "以下回答需要在企业资料中补充具体数据后才能用于匹配" not in messages  # every answer kept
    assert "上海虹桥精工装备有限公司" in browser.text("main > p.muted")
    assert browser.text("header .who") == "hongqiao"
    browser.screenshot("register-3-dashboard", max_height=1300)

    enterprise = Enterprise.objects.get(credit_code=CREDIT_CODE)
    assert EnterpriseMembership.objects.get(user__username="hongqiao").enterprise == enterprise
    catalog = load_catalog()
    typed = parse_answers(answers, catalog=catalog)
    values = facts_for(enterprise, timezone.localdate(), catalog=catalog).values
    differing = {code for code, value in typed.items() if values[code] != value}
    assert differing == set()  # 制造业企业 has no industry code yet: kept as the enterprise's declaration
    assert set(typed) == {
        "is_manufacturing",
        "industry_tracks",
        "output_value",
        "recognitions_new",
        "is_new_key_industry_project",
        "new_factory_lease_area_m2",
        "rent_total",
        "innovative_drug_device_status",
    }
    assert values["innovative_drug_device_status"] == frozenset()
