"""Staff pages: import with a dry-run preview, and export. Permission-checked; writes are audited
(history rows name the staff user)."""

from __future__ import annotations

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises import selectors, transfer

SESSION_KEY = "enterprise_import"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@login_required
@permission_required(["enterprises.add_enterprise", "enterprises.change_enterprise"], raise_exception=True)
def import_enterprises(request: HttpRequest) -> HttpResponse:
    preview = None
    if request.method == "POST" and "confirm" in request.POST:
        pending = request.session.pop(SESSION_KEY, None)
        if not pending:
            messages.error(request, _("没有待导入的文件，请重新上传。"))
            return redirect("enterprises:import")
        content = base64.b64decode(pending["content"])
        preview = transfer.apply_import(content, pending["filename"], actor=request.user)
        if preview.ok:
            messages.success(request, _("已导入 %(count)d 行。") % {"count": len(preview.rows)})
            return redirect("enterprises:import")
        messages.error(request, _("数据已变化，校验未通过，未导入任何数据。"))
    elif request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择文件。"))
        elif upload.size > MAX_UPLOAD_BYTES:
            messages.error(request, _("文件过大（上限10MB）。"))
        else:
            content = upload.read()
            preview = transfer.preview_import(content, upload.name)
            if preview.ok:
                request.session[SESSION_KEY] = {
                    "content": base64.b64encode(content).decode("ascii"),
                    "filename": upload.name,
                }
    return render(request, "enterprises/import.html", {"preview": preview})


@login_required
@permission_required("enterprises.view_enterprise", raise_exception=True)
def export_enterprises(request: HttpRequest) -> HttpResponse:
    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() else timezone.localdate().year - 1
    enterprises = selectors.search_enterprises(request.GET.get("q", ""))
    if request.GET.get("format") == "xlsx":
        content = transfer.export_xlsx(enterprises, year=year)
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="enterprises-{year}.xlsx"'
        return response
    response = HttpResponse(
        transfer.export_csv(enterprises, year=year), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="enterprises-{year}.csv"'
    return response
