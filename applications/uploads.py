"""What an attachment may be: PDF, JPEG or PNG by content (magic bytes), matching its extension,
not empty and not above the size limit. The browser's content type is never trusted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 20
# kind -> (leading bytes, extensions)
SIGNATURES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "pdf": (b"%PDF-", (".pdf",)),
    "png": (b"\x89PNG\r\n\x1a\n", (".png",)),
    "jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
}
KIND_LABELS = {"pdf": "PDF", "png": "PNG", "jpeg": "JPEG"}


def max_bytes() -> int:
    return int(getattr(settings, "APPLICATION_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int) -> str:
    return str(filesizeformat(size)).replace("\xa0", " ")


@dataclass(frozen=True)
class CheckedUpload:
    kind: str
    size: int
    sha256: str
    original_name: str


def detect_kind(head: bytes) -> str | None:
    for kind, (magic, _extensions) in SIGNATURES.items():
        if head.startswith(magic):
            return kind
    return None


def safe_name(name: str) -> str:
    """The last path component only, trimmed to fit the column (keeps the extension)."""
    base = PurePath(name.replace("\\", "/")).name.strip() or "file"
    if len(base) > 200:
        suffix = PurePath(base).suffix[:10]
        base = base[: 200 - len(suffix)] + suffix
    return base


def check_upload(upload: UploadedFile) -> CheckedUpload:
    """The upload's kind, size and digest, or a ValidationError saying what is wrong with it."""
    name = safe_name(upload.name or "")
    extension = PurePath(name).suffix.lower()
    allowed = {ext: kind for kind, (_magic, extensions) in SIGNATURES.items() for ext in extensions}
    if extension not in allowed:
        raise ValidationError(
            _("只接受 PDF、JPEG 或 PNG 文件（扩展名 .pdf、.jpg、.jpeg、.png），“%(name)s”不符合。")
            % {"name": name},
            code="file_type",
        )
    limit = max_bytes()
    if upload.size is None or upload.size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": name}, code="empty_file")
    if upload.size > limit:
        raise ValidationError(
            _("文件“%(name)s”大小为 %(size)s，超过单个附件 %(limit)s 的上限。")
            % {"name": name, "size": human_size(upload.size), "limit": human_size(limit)},
            code="file_too_large",
        )
    upload.seek(0)
    detected = detect_kind(upload.read(16))
    expected = allowed[extension]
    if detected != expected:
        raise ValidationError(
            _("文件“%(name)s”的内容不是有效的 %(kind)s 文件（文件头不符），请上传原始文件。")
            % {"name": name, "kind": KIND_LABELS[expected]},
            code="file_content",
        )
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(kind=detected, size=upload.size, sha256=digest.hexdigest(), original_name=name)
