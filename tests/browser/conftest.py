"""Real-browser tests: Debian's headless Chromium driven by Selenium against pytest-django's live server.

`browser` gives a fresh-cookie Browser on the live server (its database is the test database, so a
test loads what it needs, e.g. the policy fixtures). One Chromium runs for the whole session with a
throw-away profile. Screenshots go to test-artifacts/screenshots/; a failing test leaves one named
FAILED-<test>.png. Chromium and chromedriver come from the Debian packages (scripts/ensure_browser.sh
installs them); CHROMIUM_BINARY and CHROMEDRIVER override their paths. Uploaded files go to a
temporary MEDIA_ROOT; the cache (login throttling) is cleared around each test.
"""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.support import WINDOW, Portal, load_portal

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
    f"--window-size={WINDOW[0]},{WINDOW[1]}",
)
WAIT_SECONDS = 20


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real headless Chromium against the live server")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"report_{report.when}", report)  # the browser fixture screenshots failures
    return report


class Browser:
    """A thin layer over the WebDriver: paths relative to the live server, waits, screenshots."""

    def __init__(self, driver: WebDriver, base_url: str) -> None:
        self.driver, self.base_url = driver, base_url.rstrip("/")

    def visit(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    @property
    def path(self) -> str:
        return self.driver.current_url.removeprefix(self.base_url)

    def wait_for_path(self, path: str) -> None:
        WebDriverWait(self.driver, WAIT_SECONDS).until(
            lambda driver: driver.current_url.removeprefix(self.base_url).split("#")[0] == path,
            message=f"waiting for {path}",
        )
        self.wait_until_loaded()

    def wait_until_loaded(self) -> None:
        WebDriverWait(self.driver, WAIT_SECONDS).until(
            lambda driver: driver.execute_script("return document.readyState") == "complete"
        )

    def find(self, css: str) -> WebElement:
        return WebDriverWait(self.driver, WAIT_SECONDS).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)), message=css
        )

    def find_all(self, css: str) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "main") -> str:
        return self.find(css).text

    def fill(self, css: str, text: str) -> WebElement:
        field = self.find(css)
        field.clear()
        field.send_keys(text)
        return field

    def click_and_wait(self, css: str, path: str | None = None) -> None:
        """Click (a submit button, a link) and wait for the next page: `path`, or any new page load."""
        marker = self.driver.find_element(By.TAG_NAME, "html")
        self.find(css).click()
        # Always wait for the old document to go first: a form that posts back to its own URL (submit
        # on /applications/N/ redirecting to /applications/N/) already matches `path` before it loads.
        WebDriverWait(self.driver, WAIT_SECONDS).until(lambda _: _is_gone(marker), message=css)
        if path is not None:
            self.wait_for_path(path)
        else:
            self.wait_until_loaded()

    def scroll_to(self, css: str) -> WebElement:
        """Bring an element into the middle of the window (for a screenshot of what matters)."""
        element = self.find(css)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        return element

    def new_session(self) -> None:
        """Forget the cookies: the next visit is a new visitor (another person at another computer)."""
        self.visit("/robots.txt")  # cookies can only be cleared for the site being shown (a 404 is enough)
        self.driver.delete_all_cookies()

    def log_in(self, username: str, password: str, *, then: str) -> None:
        """Log in through the login page as a new session, landing on `then`."""
        self.new_session()
        self.visit(f"/accounts/login/?next={then}")
        self.fill("#id_username", username)
        self.fill("#id_password", password)
        self.click_and_wait("main form button[type=submit]", then)

    def screenshot(self, name: str, *, full_page: bool = True, max_height: int | None = None) -> Path:
        """A PNG of the page in test-artifacts/screenshots/: its whole length (cut at `max_height` CSS
        pixels from the top when given), or with full_page=False what the window shows."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        if full_page:
            # A window as tall as the page (or max_height) for one capture: Chromium paints all of it,
            # which capturing beyond a short window does not always do.
            metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
            size = metrics["cssContentSize"]
            width = metrics["cssLayoutViewport"]["clientWidth"]  # the layout width, without a scrollbar
            height = size["height"] if max_height is None else min(size["height"], max_height)
            self.driver.execute_script("window.scrollTo(0, 0)")
            self.driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": int(width), "height": int(height), "deviceScaleFactor": 1, "mobile": False},
            )
            try:
                shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
            finally:
                self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            path.write_bytes(base64.b64decode(shot["data"]))
        else:
            self.driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="session")
def chromium(django_db_setup, live_server) -> Iterator[WebDriver]:
    """One Chromium for the session. It quits before the test database is dropped: its kept-alive
    connections hold live-server threads, each with a database connection that would block the drop."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():  # the suite requires the browser: fail, don't skip
            pytest.fail(
                f"{binary} is missing: run scripts/ensure_browser.sh (Debian chromium, chromium-driver)"
            )
    profile = tempfile.mkdtemp(prefix="portal-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Headless Chromium ignores --lang for Accept-Language; the portal's default visitor reads Chinese.
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    ARTIFACTS.mkdir(exist_ok=True)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(ARTIFACTS / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(request: pytest.FixtureRequest, chromium: WebDriver, live_server) -> Iterator[Browser]:
    """The shared Chromium, its cookies cleared (an anonymous visitor), pointed at the live server."""
    page = Browser(chromium, live_server.url)
    page.new_session()
    chromium.set_window_size(*WINDOW)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        page.screenshot(f"FAILED-{request.node.name}")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Uploads of the live server (same process) land in a temporary folder, not in the project."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def clear_cache() -> Iterator[None]:
    """Login throttling counts live in the cache: every test starts without failed attempts."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def portal(transactional_db) -> Portal:
    """Policies, demo enterprises with the demo account, and reviewers, committed for the live server."""
    return load_portal()


def _is_gone(element: WebElement) -> bool:
    """Whether the element's document has been replaced. Chromium answers a query on a node of a document
    being torn down either with a stale-element error or, mid-navigation, with "Node with given id does not
    belong to the document" (an unknown error): both mean the old page is gone."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False
