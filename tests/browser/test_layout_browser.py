"""The dashboard on a 390 px phone (issue 14, step 12): no element outside the viewport, the 申报 buttons
in view and tappable, the page never wider than the screen. Waits on conditions only."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import WAIT_SECONDS

pytestmark = pytest.mark.browser

OUTSIDE = """
const width = document.documentElement.clientWidth;
const outside = [];
for (const element of document.querySelectorAll('body *')) {
  if (element.closest('.sr-only, .skip')) continue;  // off-screen on purpose, for screen readers
  const box = element.getBoundingClientRect();
  if (box.width === 0 && box.height === 0) continue;  // not rendered (folded details, hidden)
  if (getComputedStyle(element).visibility === 'hidden') continue;
  if (box.left < -1 || box.right > width + 1) {
    outside.push(`${element.tagName.toLowerCase()}#${element.id}.${element.className} ${Math.round(box.left)}..${Math.round(box.right)}`);
  }
}
return {width, scrollWidth: document.documentElement.scrollWidth, outside: outside.slice(0, 20)};
"""


@pytest.fixture
def phone(browser):
    browser.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    )
    yield browser
    browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_dashboard_at_390_px_clips_nothing(phone, portal):
    phone.log_in(*portal.enterprise_login, then="/applications/dashboard/")
    phone.find("#match-table tbody tr")
    WebDriverWait(phone.driver, WAIT_SECONDS).until(
        lambda driver: driver.execute_script("return document.documentElement.clientWidth") == 390
    )
    layout = phone.driver.execute_script(OUTSIDE)
    assert layout["outside"] == [] and layout["scrollWidth"] <= layout["width"], layout
    buttons = phone.find_all("#match-table a.button[id^=apply-]")
    assert buttons, "the dashboard offers 申报"
    for button in buttons[:5]:
        box = phone.driver.execute_script("return arguments[0].getBoundingClientRect().toJSON()", button)
        assert box["left"] >= 0 and box["right"] <= 390 and box["width"] >= 40, box
    phone.screenshot("dashboard-390", max_height=1600)
