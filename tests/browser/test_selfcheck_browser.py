"""The anonymous self-check (政策计算器) end to end in headless Chromium."""

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from policies.loader import default_paths, load_files
from portal.selfcheck.questions import ANSWERS_SESSION_KEY
from tests.browser.support import WINDOW, choose, next_step, type_into

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def policies(transactional_db):
    reports, errors = load_files(default_paths())
    assert not errors, [error.messages for error in errors]
    return reports


def test_anonymous_self_check_end_to_end(browser, policies):
    browser.visit("/")
    browser.find('nav a[href="/self-check/"]').click()
    browser.wait_for_path("/self-check/")
    assert "无需注册" in browser.text()
    browser.screenshot("selfcheck-1-start")

    browser.find("#start-selfcheck").click()
    browser.wait_for_path("/self-check/step/basic/")
    assert "第 1 步：基本情况" in browser.text()
    assert browser.find_all('input[name="ic_industry_entity"]')  # asked: IC benefits are in force
    assert not browser.find_all('input[name="district"]')  # no policy in force reads it
    # asked first: every document's applicability reads where the enterprise is registered and operates
    Select(browser.find('select[name="registered_region"]')).select_by_value("310112")
    Select(browser.find('select[name="operating_region"]')).select_by_value("310112")
    choose(browser, "is_manufacturing", "true")
    choose(browser, "ic_industry_entity", "false")
    choose(browser, "industry_tracks", "high_end_equipment")
    browser.screenshot("selfcheck-2-basic")
    next_step(browser, "/self-check/step/operations/")

    assert "万元" in browser.text("#q-output_value")
    type_into(browser, "output_value", "20000")  # 2 亿元
    next_step(browser, "/self-check/step/recognitions/")

    choose(browser, "recognitions_new", "little_giant")
    next_step(browser, "/self-check/step/projects/")

    # not an IC enterprise: the IC purchase and insurance questions were skipped
    assert not browser.find_all('input[name="eda_tool_purchase_amount"]')
    assert not browser.find_all('input[name="ic_verification_insurance_premium"]')
    choose(browser, "is_new_key_industry_project", "true")
    type_into(browser, "new_factory_lease_area_m2", "-5000")
    next_step(browser, "/self-check/step/projects/")  # refused: stays on the step with the message
    assert "不能为负数" in browser.text('#q-new_factory_lease_area_m2 [role="alert"]')
    assert browser.find('input[name="new_factory_lease_area_m2"]').get_attribute("value") == "-5000"
    browser.screenshot("selfcheck-3-projects-error")
    type_into(browser, "new_factory_lease_area_m2", "5000")
    type_into(browser, "rent_total", "1000").send_keys(Keys.ENTER)  # Enter moves forward
    browser.wait_for_path("/self-check/results/")

    total = browser.text("#selfcheck-total")
    assert total.endswith("万元") and total != "0 万元"
    articles = browser.find_all("article.sc-benefit")
    lease = next(a for a in articles if "新租赁自用工业厂房补贴" in a.find_element(By.TAG_NAME, "h3").text)
    assert "待认定" in lease.find_element(By.CSS_SELECTOR, ".badge").text
    assert "最高 1000 万元" in lease.text
    assert "约 300 万元（按比例计算），分 3 年，每年 100 万元" in browser.text()
    browser.screenshot("selfcheck-4-results", full_page=False)
    badges = {badge.text for badge in browser.find_all("article.sc-benefit .badge")}
    assert {"符合", "待认定", "需补充信息"} <= badges and "不符合" not in badges  # folded away
    browser.find("#refused summary").click()
    assert "不符合" in {badge.text for badge in browser.find_all("#refused article .badge")}
    # the clause text is folded away until asked for
    clause = lease.find_element(By.CSS_SELECTOR, "details blockquote")
    assert not clause.is_displayed()
    lease.find_element(By.CSS_SELECTOR, "details summary").click()
    assert clause.is_displayed() and "租赁面积超过5000平方米（含）以上" in clause.text
    assert "还缺哪些信息" in browser.text("#missing")
    browser.screenshot("selfcheck-4-results-full")

    # on a phone the page still fits its width
    browser.driver.set_window_size(390, 844)
    try:
        width = browser.driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390
        browser.screenshot("selfcheck-5-results-mobile")
    finally:
        browser.driver.set_window_size(*WINDOW)

    # a "what is missing" prompt leads back to the question
    browser.find("#missing li a").click()
    browser.wait_until_loaded()
    assert browser.path.startswith("/self-check/step/")

    # registering: the answers are still there, nothing was written outside the session
    browser.visit("/self-check/register/")
    assert "新租赁自用工业厂房面积" in browser.text() and "5000 平方米" in browser.text()
    assert "注册并登记企业" in browser.text()
    session_cookie = browser.driver.get_cookie("sessionid")
    from django.contrib.sessions.models import Session

    stored = Session.objects.get(session_key=session_cookie["value"]).get_decoded()
    assert stored[ANSWERS_SESSION_KEY]["new_factory_lease_area_m2"] == "5000"
    assert stored[ANSWERS_SESSION_KEY]["rent_total"] == "10000000"
