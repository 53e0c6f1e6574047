"""The enterprise import's progress in headless Chromium: the job page follows the background work by
itself (HTMX polling every 2 s, no reload), and confirming is an HTMX POST that passes CSRF."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model
from selenium.webdriver.support.ui import WebDriverWait

from enterprises import import_jobs
from enterprises.models import Enterprise, ImportJob
from enterprises.tests.test_profile_files import GOOD, HEADER, csv_bytes
from portal.roles import ensure_roles

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ADMIN = ("zhengce", "zhengce-admin-2026")


def wait_for_text(browser, css: str, text: str) -> None:
    WebDriverWait(browser.driver, 20).until(
        lambda driver: any(text in element.text for element in browser.find_all(css)), message=text
    )


def test_the_job_page_follows_the_check_and_the_import_without_reloading(browser, portal):
    admin = get_user_model().objects.create_user(ADMIN[0], password=ADMIN[1], is_staff=True)
    admin.groups.add(ensure_roles()["policy_admin"])
    content = csv_bytes([HEADER, *GOOD])
    # a job as an upload leaves it, its check still queued (no worker in this test)
    job = ImportJob.objects.create(
        created_by=admin, filename="企业名录.csv", content=content, sha256=hashlib.sha256(content).hexdigest()
    )
    page = f"/enterprises/import/{job.pk}/"
    browser.log_in(*ADMIN, then=page)
    assert "排队中" in browser.text("#import-job")
    browser.driver.execute_script("window.sameDocument = true")

    ImportJob.objects.filter(pk=job.pk).update(stage="validate", done=1, total=2)  # the worker's progress
    wait_for_text(browser, "#import-job", "正在校验第 1 / 2 行")
    assert browser.find("#import-progress").get_attribute("value") == "1"
    browser.screenshot("import-1-progress", full_page=False)

    import_jobs.check_job(job.pk)  # the worker finishes the check
    wait_for_text(browser, "#import-job", "校验通过：共 2 行，新增 2 家企业")
    assert not Enterprise.objects.filter(credit_code=GOOD[0][0]).exists()
    browser.find("#confirm-import button").click()  # an HTMX POST: the CSRF token rides in hx-headers
    wait_for_text(browser, "#import-job", "已导入 2 行")
    browser.screenshot("import-2-done", full_page=False)
    assert browser.driver.execute_script("return window.sameDocument === true")  # never reloaded
    assert browser.path == page
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert Enterprise.objects.get(credit_code=GOOD[0][0]).history.first().history_user == admin
