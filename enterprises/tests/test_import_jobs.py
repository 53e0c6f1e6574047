"""The staff import as a background job: upload → check (dry run) → confirm → import, with progress
polled by HTMX; all-or-nothing per file; no second import on a double submit or a repeated task."""

import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections
from django.urls import reverse

from enterprises import import_jobs, profile_files
from enterprises.models import Enterprise, ImportJob
from enterprises.tests.factories import UserFactory
from enterprises.tests.test_profile_files import GOOD, HEADER, csv_bytes
from enterprises.validators import credit_code_for

pytestmark = pytest.mark.django_db
Status = ImportJob.Status
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def staff_client(client, fact_catalog):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_enterprise", "change_enterprise", "view_enterprise"])
    )
    client.force_login(staff)
    client.staff = staff
    return client


def upload(client, rows, name="enterprises.csv"):
    file = io.BytesIO(csv_bytes(rows))
    file.name = name
    return client.post(reverse("enterprises:import"), {"file": file})


def test_upload_check_confirm_import_through_the_pages(staff_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as checks:
        response = upload(staff_client, [HEADER, *GOOD])
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("enterprises:import_job", args=[job.pk])
    assert len(checks) == 1  # the check was enqueued after commit (run in-process here)
    assert (job.status, job.rows, job.creates, job.updates, job.total, job.done) == (
        Status.READY,
        2,
        2,
        0,
        2,
        2,
    )
    assert not Enterprise.objects.exists()  # the check writes nothing
    page = staff_client.get(response.url).content.decode()
    assert "校验通过：共 2 行，新增 2 家企业" in page and "确认导入 2 行" in page
    assert "hx-trigger" not in page and "http-equiv" not in page  # nothing running: no polling
    confirm = reverse("enterprises:confirm_import", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(confirm).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.stage, job.done, job.total) == (Status.DONE, "write", 2, 2)
    assert job.content == b"" and job.finished_at is not None  # the file is not kept once imported
    assert Enterprise.objects.count() == 2
    assert Enterprise.objects.first().history.first().history_user == staff_client.staff
    assert "已导入 2 行：新增 2 家企业" in staff_client.get(response.url).content.decode()
    # a second click (double submit, stale page) imports nothing again
    history_rows = Enterprise.history.count()
    with django_capture_on_commit_callbacks(execute=True) as again:
        second = staff_client.post(confirm, follow=True)
    assert not again and Enterprise.history.count() == history_rows
    assert "未重复导入" in second.content.decode()


def test_a_bad_file_is_reported_per_row_and_nothing_is_kept(staff_client, django_capture_on_commit_callbacks):
    bad = [credit_code_for(600), "新企业", "", "", "", "", "", "2025", "", "-1", ""]
    duplicate = list(GOOD[0])
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(staff_client, [HEADER, *GOOD, bad, duplicate])
    job = ImportJob.objects.get()
    assert job.status == Status.INVALID and job.content == b""
    assert [row["line"] for row in job.row_errors] == [4, 5]
    page = staff_client.get(response.url).content.decode()
    assert "未写入任何数据" in page and "与第2行重复" in page and 'id="confirm-import"' not in page
    assert staff_client.post(reverse("enterprises:confirm_import", args=[job.pk])).status_code == 302
    assert ImportJob.objects.get().status == Status.INVALID and not Enterprise.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        upload(staff_client, [["名称"], ["x"]])
    assert ImportJob.objects.first().file_errors  # unknown column, no credit-code column


def test_the_job_region_polls_while_running_and_stops_when_done(staff_client):
    upload(staff_client, [HEADER, *GOOD])  # on-commit callbacks not run: the check is still queued
    job = ImportJob.objects.get()
    url = reverse("enterprises:import_job", args=[job.pk])
    region = staff_client.get(url, **HTMX)
    html = region.content.decode()
    assert "<html" not in html and html.count('id="import-job"') == 1
    assert 'hx-trigger="every 2s"' in html and 'aria-busy="true"' in html and "排队中" in html
    assert "HX-Request" in region["Vary"]
    page = staff_client.get(url).content.decode()
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page  # works without JS
    ImportJob.objects.filter(pk=job.pk).update(stage="validate", done=1, total=2)
    assert "正在校验第 1 / 2 行" in staff_client.get(url, **HTMX).content.decode()
    import_jobs.check_job(job.pk)
    finished = staff_client.get(url, **HTMX).content.decode()
    assert "hx-trigger" not in finished and "确认导入 2 行" in finished
    # confirming by HTMX answers with the region, polling again while the import is queued
    confirmed = staff_client.post(reverse("enterprises:confirm_import", args=[job.pk]), **HTMX)
    assert re.search(r'data-status="importing"[^>]*hx-trigger="every 2s"', confirmed.content.decode())


def test_a_repeated_task_imports_once_and_a_failure_writes_nothing(fact_catalog, monkeypatch):
    job = import_jobs.start_import(content=csv_bytes([HEADER, *GOOD]), filename="x.csv", actor=None)
    import_jobs.check_job(job.pk)
    assert import_jobs.confirm_import(job_id=job.pk) and not import_jobs.confirm_import(job_id=job.pk)
    real_write = profile_files._write_batch
    calls = []

    def dies_on_the_second_batch(rows, *args, **kwargs):
        calls.append(rows[0].line)
        if len(calls) == 2:
            raise RuntimeError("worker lost")
        real_write(rows, *args, **kwargs)

    monkeypatch.setattr(profile_files, "WRITE_BATCH", 1)  # one row per batch
    monkeypatch.setattr(profile_files, "_write_batch", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        import_jobs.import_job(job.pk)
    job.refresh_from_db()
    assert not Enterprise.objects.exists()  # the first row was rolled back with the rest
    assert job.status == Status.IMPORTING and "worker lost" in job.error  # a redelivery will run it again
    monkeypatch.setattr(profile_files, "_write_batch", real_write)
    import_jobs.import_job(job.pk)  # the redelivered task
    history_rows = Enterprise.history.count()
    import_jobs.import_job(job.pk)  # delivered once more: nothing to do
    assert Enterprise.objects.count() == 2 and Enterprise.history.count() == history_rows
    assert ImportJob.objects.get(pk=job.pk).status == Status.DONE


def test_a_task_that_fails_for_good_marks_the_job_failed(fact_catalog, monkeypatch):
    from enterprises import tasks

    job = import_jobs.start_import(content=csv_bytes([HEADER, *GOOD]), filename="x.csv", actor=None)
    import_jobs.check_job(job.pk)
    import_jobs.confirm_import(job_id=job.pk)

    def broken(*args, **kwargs):
        raise ValueError("unexpected")

    monkeypatch.setattr(profile_files, "apply_import", broken)
    tasks.run_import.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == Status.FAILED and "unexpected" in job.error and not Enterprise.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="progress over a second connection: PostgreSQL")
def test_progress_is_visible_to_other_connections_while_the_import_transaction_is_open(
    transactional_db, fact_catalog, monkeypatch
):
    monkeypatch.setattr(profile_files, "PROGRESS_EVERY", 1)
    job = import_jobs.start_import(content=csv_bytes([HEADER, *GOOD]), filename="x.csv", actor=None)
    assert ImportJob.objects.get(pk=job.pk).status == Status.READY  # autocommit: checked at once
    real_write = profile_files._write_batch
    seen = []

    def write_and_look(rows, *args, **kwargs):
        real_write(rows, *args, **kwargs)
        other = connections.create_connection("default")  # what a poller sees
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT stage, done, total FROM enterprises_importjob WHERE id = %s", [job.pk])
                progress = cursor.fetchone()
                cursor.execute("SELECT count(*) FROM enterprises_enterprise")
                seen.append((progress, cursor.fetchone()[0]))
        finally:
            other.close()

    monkeypatch.setattr(profile_files, "WRITE_BATCH", 1)  # one row per batch, progress after each
    monkeypatch.setattr(profile_files, "_write_batch", write_and_look)
    assert import_jobs.confirm_import(job_id=job.pk)  # imported in-process right after (no broker)
    # after batch 1 the poller sees validation complete; after batch 2, one row written; no enterprise yet
    assert seen == [(("validate", 2, 2), 0), (("write", 1, 2), 0)]
    assert Enterprise.objects.count() == 2


def test_an_htmx_upload_sends_the_browser_to_the_job_page(staff_client):
    file = io.BytesIO(csv_bytes([HEADER, *GOOD]))
    file.name = "enterprises.csv"
    response = staff_client.post(reverse("enterprises:import"), {"file": file}, **HTMX)
    job = ImportJob.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("enterprises:import_job", args=[job.pk])
    missing = staff_client.post(reverse("enterprises:import"), {}, **HTMX)
    assert missing["HX-Redirect"] == reverse("enterprises:import") and ImportJob.objects.count() == 1
    page = staff_client.get(reverse("enterprises:import")).content.decode()
    assert "请选择文件" in page and "enterprises.csv" in page  # the message, and the recent jobs
