"""Attachments: PDF/JPEG/PNG by content, size limit, storage place, who may add, remove and read them."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications import services
from applications.models import ApplicationEvent, Attachment, State
from applications.services import ApplicationError, InvalidTransition
from applications.tests.support import bring_to, draft, fresh

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def upload(world, application, name, content, actor=None):
    return services.add_attachment(
        actor=actor or world.user,
        application_id=application.pk,
        upload=SimpleUploadedFile(name, content, content_type="application/octet-stream"),
        description="营业执照",
    )


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [("执照.pdf", PDF, "pdf"), ("照片.PNG", PNG, "png"), ("扫描件.jpeg", JPEG, "jpeg")],
)
def test_real_pdf_png_and_jpeg_files_are_stored_under_the_application(world, media_root, name, content, kind):
    application = draft(world)
    attachment = upload(world, application, name, content)
    assert (attachment.kind, attachment.size, attachment.original_name) == (kind, len(content), name)
    stored = Path(attachment.file.path)
    assert stored.parent == Path(media_root) / "applications" / str(application.pk)
    assert stored.read_bytes() == content
    assert stored.name != name  # the uploaded name is never used as a path
    event = ApplicationEvent.objects.filter(application=application).latest("id")
    assert (event.action, event.comment) == ("attach", name)
    assert fresh(application).version == application.version + 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("合同.pdf", b"<html>not a pdf</html>", "内容不是有效的 PDF 文件"),
        ("合同.pdf", PNG, "内容不是有效的 PDF 文件"),  # a PNG renamed to .pdf
        ("照片.png", JPEG, "内容不是有效的 PNG 文件"),
        ("程序.exe", b"MZ\x90\x00", "只接受 PDF、JPEG 或 PNG 文件"),
        ("说明.txt", b"hello", "只接受 PDF、JPEG 或 PNG 文件"),
        ("伪装.pdf.exe", PDF, "只接受 PDF、JPEG 或 PNG 文件"),
        ("空.pdf", b"", "是空文件"),
    ],
)
def test_files_that_are_not_what_they_claim_are_refused(world, media_root, name, content, message):
    application = draft(world)
    with pytest.raises(ApplicationError) as refused:
        upload(world, application, name, content)
    assert message in refused.value.message_dict["file"][0]
    assert not Attachment.objects.exists()
    folder = Path(media_root) / "applications" / str(application.pk)
    assert not folder.exists() or not any(folder.iterdir())


def test_files_above_the_size_limit_are_refused(world, settings):
    application = draft(world)
    too_big = PDF + b"0" * (10 * 1024 * 1024)
    with pytest.raises(ApplicationError) as refused:
        upload(world, application, "大文件.pdf", too_big)
    assert "大小为 10.0 MB，超过单个附件 10.0 MB 的上限" in refused.value.message_dict["file"][0]
    settings.APPLICATION_ATTACHMENT_MAX_BYTES = 1024
    with pytest.raises(ApplicationError, match="超过单个附件 1.0 KB 的上限"):
        upload(world, application, "小文件.pdf", PDF + b"0" * 1024)
    assert upload(world, application, "刚好.pdf", PDF + b"0" * (1024 - len(PDF))).size == 1024


def test_attachments_can_change_only_while_the_enterprise_holds_the_application(world):
    submitted = bring_to(world, State.SUBMITTED)
    with pytest.raises(InvalidTransition, match="不能修改附件"):
        upload(world, submitted, "补充.pdf", PDF)


def test_another_enterprises_user_cannot_attach(world):
    from django.core.exceptions import PermissionDenied

    application = draft(world)
    with pytest.raises(PermissionDenied):
        upload(world, application, "x.pdf", PDF, actor=world.other_user)


def test_removing_an_attachment_deletes_its_file_after_commit(world, django_capture_on_commit_callbacks):
    application = draft(world)
    attachment = upload(world, application, "执照.pdf", PDF)
    path = Path(attachment.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_attachment(actor=world.user, attachment_id=attachment.pk)
    assert not path.exists()
    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert ApplicationEvent.objects.filter(application=application, action="detach").count() == 1


def test_the_upload_page_shows_the_error_next_to_the_file_field(world, client):
    application = draft(world)
    client.force_login(world.user)
    response = client.post(
        reverse("applications:detail", args=[application.pk]),
        {"action": "attach", "file": SimpleUploadedFile("假.pdf", b"GIF89a....")},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="attachment_file_errors"' in html
    assert "“假.pdf”的内容不是有效的 PDF 文件" in html
    assert 'aria-invalid="true"' in html

    response = client.post(
        reverse("applications:detail", args=[application.pk]),
        {"action": "attach", "file": SimpleUploadedFile("真.pdf", PDF), "description": "租赁合同"},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get(application=application)
    assert attachment.description == "租赁合同"


def test_downloads_for_the_owner_and_reviewers_only(world, client):
    application = draft(world)
    attachment = upload(world, application, "执照.pdf", PDF)
    url = reverse("applications:attachment", args=[application.pk, attachment.pk])

    client.force_login(world.user)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]

    client.force_login(world.other_user)
    assert client.get(url).status_code == 404

    client.force_login(world.reviewer)
    assert client.get(url).status_code == 404  # a draft is the enterprise's own business
    bring_to(world, State.SUBMITTED, application)
    assert client.get(url).status_code == 200

    client.force_login(world.staff_without_permission)
    assert client.get(url).status_code == 404
