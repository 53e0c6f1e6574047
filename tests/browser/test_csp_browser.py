"""The pages under the Content-Security-Policy in a real browser: the language switch (static
script, no inline handler) still works, and Chromium reports no CSP violation on the way."""

import pytest
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import WAIT_SECONDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_the_language_switch_works_and_nothing_is_blocked(browser, transactional_db):
    browser.visit("/")
    browser.wait_until_loaded()
    # count violations from here on: the page's own scripts report them as events
    browser.driver.execute_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective));"
    )
    assert "政策" in browser.text("header")
    Select(browser.find("#lang-select")).select_by_value("en")
    WebDriverWait(browser.driver, WAIT_SECONDS).until(
        lambda driver: driver.find_element("css selector", "html").get_attribute("lang") == "en",
        message="the page to reload in English",
    )
    browser.wait_until_loaded()
    assert "Policy" in browser.text("header")
    browser.driver.execute_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective));"
    )
    browser.visit("/policies/")
    browser.wait_until_loaded()
    # the library's filters refresh the results in place (an htmx trigger without an eval'd filter)
    select = Select(browser.find("#library-search .policy-filters select"))
    name = browser.find("#library-search .policy-filters select").get_attribute("name")
    value = [option.get_attribute("value") for option in select.options if option.get_attribute("value")][0]
    browser.driver.execute_script("window.notReloaded = true;")
    select.select_by_value(value)
    WebDriverWait(browser.driver, WAIT_SECONDS).until(
        lambda driver: f"{name}={value}" in driver.current_url, message="the filter to refresh the results"
    )
    assert browser.driver.execute_script("return window.notReloaded === true"), "updated in place, no reload"
    logs = [
        entry for entry in browser.driver.get_log("browser") if "Content Security Policy" in entry["message"]
    ]
    assert logs == [], logs
