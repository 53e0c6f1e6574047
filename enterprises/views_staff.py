"""Staff pages: import (upload, background check, confirm, background import, with progress) and
export. Permission-checked; writes are audited (history rows name the staff user who uploaded)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from enterprises import import_jobs, profile_files, selectors, verification
from enterprises.models import ImportJob
from enterprises.query import EnterpriseExportQuery, read_query

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
RECENT_JOBS = 10
IMPORT_PERMISSIONS = ["enterprises.add_enterprise", "enterprises.change_enterprise"]


def import_required(view):
    return login_required(permission_required(IMPORT_PERMISSIONS, raise_exception=True)(view))


@import_required
def import_enterprises(request: HttpRequest) -> HttpResponse:
    """Upload a file: it is stored as a job and checked in the background; the job page follows."""
    if request.method == "POST":
        job = _job_from_upload(request)
        target = reverse("enterprises:import_job", args=[job.pk]) if job else reverse("enterprises:import")
        if request.htmx:  # the form showed its busy note; the browser now goes to the page
            return HttpResponseClientRedirect(target)
        if job:
            return redirect(target)
    jobs = ImportJob.objects.defer("content", "row_errors", "sample")[:RECENT_JOBS]
    return render(request, "enterprises/import.html", {"jobs": jobs})


def _job_from_upload(request: HttpRequest) -> ImportJob | None:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择文件。"))
    elif upload.size > MAX_UPLOAD_BYTES:
        messages.error(request, _("文件过大（上限10MB）。"))
    else:
        return import_jobs.start_import(content=upload.read(), filename=upload.name, actor=request.user)
    return None


@import_required
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    """The job: its progress while running (polled every 2 s by HTMX, reloaded without JavaScript),
    then what the check found, the confirm button, or the result."""
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=job_id)
    return _job_response(request, job)


@import_required
@require_POST
def confirm_import(request: HttpRequest, job_id: int) -> HttpResponse:
    """Import a checked job; a second click (or a stale page) changes nothing and shows the job."""
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=job_id)
    if not import_jobs.confirm_import(job_id=job.pk) and not request.htmx:
        messages.info(request, _("该文件已在导入或已导入，未重复导入。"))
    job.refresh_from_db()
    if request.htmx:
        return _job_response(request, job)
    return redirect("enterprises:import_job", job_id=job.pk)


def _job_response(request: HttpRequest, job: ImportJob) -> HttpResponse:
    htmx = getattr(request, "htmx", None)
    region = htmx and not htmx.history_restore_request
    response = render(
        request,
        "enterprises/_import_job.html" if region else "enterprises/import_job.html",
        {"job": job, "problems": job.row_errors[:500]},
    )
    patch_vary_headers(response, ["HX-Request"])  # a cache must not serve the region for the page
    return response


@login_required
@permission_required("enterprises.view_enterprise", raise_exception=True)
def export_enterprises(request: HttpRequest) -> HttpResponse:
    query, refused = read_query(EnterpriseExportQuery, request.GET)
    if refused:
        return refused
    year = query["year"] or timezone.localdate().year - 1
    enterprises = selectors.search_enterprises(query["q"])
    if query["format"] == "xlsx":
        content = profile_files.export_xlsx(enterprises, year=year)
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response["Content-Disposition"] = f'attachment; filename="enterprises-{year}.xlsx"'
        return response
    response = HttpResponse(
        profile_files.export_csv(enterprises, year=year), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="enterprises-{year}.csv"'
    return response


class DecisionForm(forms.Form):
    """One staff decision on the registrations page (the ids come from the page's own buttons)."""

    kind = forms.ChoiceField(choices=[("registration", "registration"), ("claim", "claim")])
    id = forms.IntegerField(min_value=1, max_value=2**31 - 1)
    decision = forms.ChoiceField(choices=[("confirm", "confirm"), ("reject", "reject"), ("reopen", "reopen")])


DECISIONS = {
    ("registration", "confirm"): (
        verification.confirm_registration,
        "enterprise_id",
        _("企业登记已核实通过。"),
    ),
    ("registration", "reject"): (verification.reject_registration, "enterprise_id", _("企业登记已驳回。")),
    ("registration", "reopen"): (
        verification.reopen_registration,
        "enterprise_id",
        _("该登记已退回待核实列表。"),
    ),
    ("claim", "confirm"): (verification.confirm_claim, "claim_id", _("认领已确认，该账号现可代表企业。")),
    ("claim", "reject"): (verification.reject_claim, "claim_id", _("认领已驳回。")),
}


@login_required
@permission_required(verification.VERIFY_PERMISSION, raise_exception=True)
def registrations(request: HttpRequest) -> HttpResponse:
    """Pending self-registrations and claims, each with confirm / reject (audited in the history)."""
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("操作无效，请刷新页面后重试。"))
        else:
            decision = DECISIONS.get((form.cleaned_data["kind"], form.cleaned_data["decision"]))
            if decision is None:
                messages.error(request, _("操作无效，请刷新页面后重试。"))
                return redirect("enterprises:registrations")
            service, argument, done = decision
            try:
                service(actor=request.user, **{argument: form.cleaned_data["id"]})
            except ObjectDoesNotExist:
                messages.error(request, _("该登记或认领不存在，可能已被处理。"))
            except PermissionDenied:
                raise
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, str(done))
        return redirect("enterprises:registrations")
    return render(
        request,
        "enterprises/registrations.html",
        {
            "registrations": verification.pending_registrations().prefetch_related("memberships__user"),
            "claims": verification.claims_with_answer_labels(verification.pending_claims()),
            "rejected": verification.rejected_registrations(),
        },
    )
