"""Enterprise pages: the match dashboard, applying, attachments, submitting, answering a return,
withdrawing. A user sees only its own enterprise: anything else is a 404."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from applications import explanations, forms, selectors, services
from applications.explanations import amount_text, readable
from applications.models import OPEN_STATES, Action, Application, Attachment
from enterprises.models import Enterprise
from enterprises.query import QueryForm, read_query
from enterprises.selectors import enterprise_for_user
from policies import money
from policies.models import Benefit


def own_enterprise(request: HttpRequest) -> Enterprise:
    enterprise = enterprise_for_user(request.user)
    if enterprise is None:
        raise Http404
    return enterprise


def refusal(error: ValidationError, form, bound: dict, action: str) -> tuple[int, list[str]]:
    """The status and page-level alerts of a refused action. A stale or impossible action is told
    at the top of the page and its form is rebuilt from the current version (what the user typed
    was based on an outdated page); other refusals stay next to the form's fields."""
    if isinstance(error, services.StaleVersion | services.InvalidTransition):
        bound.pop(action, None)
        return 409, list(error.messages)
    return apply_error(form, error), []


def apply_error(form, error: ValidationError) -> int:
    """Put a refused action's messages on the form; the HTTP status says what kind of refusal."""
    if hasattr(error, "error_dict"):
        for name, problems in error.message_dict.items():
            form.add_error(name if name in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)
    if isinstance(error, services.StaleVersion | services.DuplicateApplication):
        return 409
    return 400


@login_required
def index(request: HttpRequest) -> HttpResponse:
    enterprise = enterprise_for_user(request.user)
    if enterprise is None:
        if services.can_review(request.user):
            return redirect("applications:review_queue")
        raise Http404
    applications = selectors.applications_of(enterprise).order_by("-created_at", "-id")
    return render(
        request, "applications/index.html", {"enterprise": enterprise, "applications": applications}
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    enterprise = own_enterprise(request)
    board = selectors.dashboard(enterprise, timezone.localdate())
    return render(
        request,
        "matching/dashboard.html",
        {"enterprise": enterprise, "board": board},
    )


@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, benefit_id: int) -> HttpResponse:
    enterprise = own_enterprise(request)
    benefit = get_object_or_404(Benefit.objects.select_related("clause__document"), pk=benefit_id)
    approved = None if benefit.per_item else selectors.approved_one_time(enterprise, benefit)
    if approved is not None:  # paid once and granted: nothing left to apply for
        messages.info(
            request,
            _("该项目为一次性支持，贵企业的申报 %(ref)s 已获批准，不能重复申报。")
            % {"ref": approved.reference},
        )
        return redirect("applications:detail", pk=approved.pk)
    # a benefit paid per item: one application per item, the page asks which of the enterprise's own items
    items = list(enterprise.items.filter(kind=benefit.per_item).order_by("pk")) if benefit.per_item else None
    if request.method == "GET" and items is None:
        open_one = (
            selectors.applications_of(enterprise).filter(benefit=benefit, state__in=OPEN_STATES).first()
        )
        if open_one is not None:
            messages.info(request, _("贵企业对该项目已有进行中的申报，以下为该申报。"))
            return redirect("applications:detail", pk=open_one.pk)
    # What the engine says today, shown above the form (frozen again when the enterprise submits).
    explained = selectors.explain_benefit(enterprise, benefit, timezone.localdate())
    explanation = explained.explanation
    # a per-item benefit: each item's own status, amount and reasons
    item_explanations = [
        {"title": entry.title, "explanation": readable(explanations.snapshot_of(entry.verdict))}
        for entry in explained.verdict.items
    ]
    status = 200
    if request.method == "POST":
        form = forms.ApplicationForm(request.POST, items=items)
        status = 400
        if form.is_valid():
            try:
                application = services.create_draft(
                    actor=request.user,
                    enterprise_id=enterprise.pk,
                    benefit_id=benefit.pk,
                    **form.service_kwargs(),
                )
            except ValidationError as error:
                status = apply_error(form, error)
            else:
                messages.success(request, _("已保存为草稿。请上传附件并提交申报。"))
                return redirect("applications:detail", pk=application.pk)
    else:
        estimate = explanation.get("amount")
        form = forms.ApplicationForm(
            initial={
                "contact_name": request.user.get_full_name(),
                "requested_amount": money.wan_number(estimate),
            },
            items=items,
        )
    return render(
        request,
        "applications/apply.html",
        {
            "enterprise": enterprise,
            "benefit": benefit,
            "form": form,
            "explanation": readable(explanation),
            "amount_text": amount_text(explanation),
            "ceiling": services.approval_ceiling(benefit),
            "items": items,
            "item_explanations": item_explanations,
        }
        | call_context(selectors.call_for(benefit.pk, timezone.now()), timezone.now()),
        status=status,
    )


ENTERPRISE_ACTIONS = {
    "edit": forms.EditApplicationForm,
    "submit": forms.SubmitForm,
    "withdraw": forms.WithdrawForm,
    "resubmit": forms.ResubmitForm,
    "attach": forms.AttachmentForm,
}


@login_required
@require_http_methods(["GET", "POST"])
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = own_enterprise(request)
    application = selectors.application_of(enterprise, pk)
    bound: dict[str, object] = {}
    alerts: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "detach":
            return _detach(request, application)
        form_class = ENTERPRISE_ACTIONS.get(action)
        if form_class is None:
            return HttpResponse(_("未知操作。"), status=400)
        if action == "attach":
            form = form_class(request.POST, request.FILES, materials=_materials(application))
        else:
            form = form_class(request.POST, request.FILES)
        bound[action] = form
        if form.is_valid():
            try:
                _run(action, request, application, form)
            except ValidationError as error:
                status, alerts = refusal(error, form, bound, action)
            else:
                return redirect("applications:detail", pk=application.pk)
        else:
            status = 400
        application.refresh_from_db()
    return render(
        request,
        "applications/detail.html",
        _detail_context(application, bound) | {"enterprise": enterprise, "alerts": alerts},
        status=status,
    )


def _run(action: str, request: HttpRequest, application: Application, form) -> None:
    data = form.cleaned_data
    actor, pk = request.user, application.pk
    if action == "attach":
        services.add_attachment(
            actor=actor,
            application_id=pk,
            upload=data["file"],
            description=data["description"],
            material_id=data.get("material"),
        )
        messages.success(request, _("附件已上传。"))
        return
    version = data["version"]
    if action == "edit":
        services.update_draft(
            actor=actor, application_id=pk, expected_version=version, **form.service_kwargs()
        )
        messages.success(request, _("已保存。"))
    elif action == "submit":
        services.submit(actor=actor, application_id=pk, expected_version=version)
        messages.success(request, _("申报已提交，请等待审核。"))
    elif action == "withdraw":
        services.withdraw(actor=actor, application_id=pk, expected_version=version, reason=data["reason"])
        messages.success(request, _("申报已撤回。"))
    elif action == "resubmit":
        services.resubmit(actor=actor, application_id=pk, expected_version=version, answer=data["answer"])
        messages.success(request, _("补充材料已提交，请等待审核。"))


class DetachForm(QueryForm):
    attachment = django_forms.IntegerField(label=gettext_lazy("附件"), min_value=1)


def _detach(request: HttpRequest, application: Application) -> HttpResponse:
    values, refused = read_query(DetachForm, request.POST)
    if refused:
        return refused
    attachment = application.attachments.filter(pk=values["attachment"]).first()
    if attachment is None:
        raise Http404
    try:
        services.remove_attachment(actor=request.user, attachment_id=attachment.pk)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("附件已删除。"))
    return redirect("applications:detail", pk=application.pk)


def application_call(application: Application):
    """The call the application is made under (read at its last submission, else now); None: no call."""
    return selectors.call_for(application.benefit_id, application.last_submitted_at or timezone.now())


def _materials(application: Application) -> list:
    call = application_call(application)
    return list(call.materials.all()) if call else []


def call_context(call, now) -> dict:
    return {"call": call, "call_windows": selectors.windows_of([call], now) if call else []}


def _detail_context(application: Application, bound: dict) -> dict:
    allowed = services.allowed_actions(application)
    version = {"version": application.version}
    call = application_call(application)
    return call_context(call, timezone.now()) | {
        "checklist": selectors.material_checklist(application, call),
        "application": application,
        "events": selectors.events_of(application),
        "attachments": application.attachments.all(),
        "explanation": readable(application.explanation_snapshot),
        "amount_text": amount_text(application.explanation_snapshot),
        "ceiling": services.approval_ceiling(application.benefit),
        "can_edit": Action.EDIT in allowed,
        "can_submit": Action.SUBMIT in allowed,
        "can_withdraw": Action.WITHDRAW in allowed,
        "can_resubmit": Action.RESUBMIT in allowed,
        "edit_form": bound.get("edit")
        or forms.EditApplicationForm(initial=forms.ApplicationForm.initial_for(application)),
        "submit_form": bound.get("submit") or forms.SubmitForm(initial=version),
        "withdraw_form": bound.get("withdraw") or forms.WithdrawForm(initial=version),
        "resubmit_form": bound.get("resubmit") or forms.ResubmitForm(initial=version),
        "attachment_form": bound.get("attach")
        or forms.AttachmentForm(materials=list(call.materials.all()) if call else ()),
    }


@login_required
def attachment_file(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    """The file, for the enterprise's own users and for reviewers (once submitted)."""
    enterprise = enterprise_for_user(request.user)
    if enterprise is not None:
        application = selectors.application_of(enterprise, pk)
    elif services.can_review(request.user):
        application = selectors.staff_application(pk)
    else:
        raise Http404
    attachment = get_object_or_404(Attachment, pk=attachment_id, application=application)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
