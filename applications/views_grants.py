"""免申即享 confirmation and payout pages: staff send 意愿确认 from the auto-grant list, the enterprise
answers on its confirmation page; staff record each payout stage; the payout report. The writes are
applications.services; staff pages need the review permission (recording payouts record_payout)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from applications import forms, selectors, services
from applications.explanations import readable
from applications.models import Confirmation, PayoutStage
from applications.views import apply_error, own_enterprise
from applications.views_staff import csv_response, review_required
from matching import selectors as matching_selectors
from policies import money
from policies.models import Benefit

# ---------------------------------------------------------------- staff: send 意愿确认


@review_required
@require_POST
def send_confirmations(request: HttpRequest) -> HttpResponse:
    benefit = get_object_or_404(Benefit, pk=request.POST.get("benefit") or 0)
    as_of = request.POST.get("as_of", "")
    back = reverse("applications:auto_grant") + "?" + urlencode({"benefit": benefit.pk, "as_of": as_of})
    try:
        chosen = [int(value) for value in request.POST.getlist("enterprise")]
        items = [int(value) for value in request.POST.getlist("item")]  # (enterprise, item) pairs, by item
    except ValueError:
        chosen, items = [], []
    try:
        result = services.request_confirmations(
            actor=request.user, benefit_id=benefit.pk, enterprise_ids=chosen, item_ids=items
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    if result.sent:
        sent = (
            _("已发送 %(n)s 份意愿确认（每个项目一份）：%(names)s。")
            if benefit.per_item
            else _("已向 %(n)s 家企业发送意愿确认：%(names)s。")
        )
        messages.success(
            request,
            sent
            % {
                "n": len(result.sent),
                "names": "、".join(
                    f"{c.enterprise.name}（{c.item.title}）" if c.item_id else c.enterprise.name
                    for c in result.sent
                ),
            },
        )
    for enterprise, why in result.skipped:
        messages.warning(request, _("%(name)s：%(why)s。") % {"name": enterprise.name, "why": why})
    return redirect(back)


# ---------------------------------------------------------------- enterprise: answer


def _refused(form, error: ValidationError) -> tuple[int, list[str]]:
    """A stale, repeated or impossible action is told at the top of the page (the page shows the
    current state); other refusals stay next to the form's fields."""
    if isinstance(error, services.StaleVersion | services.DuplicateApplication | services.InvalidTransition):
        return 409, list(error.messages)
    return apply_error(form, error), []


@login_required
def confirmations(request: HttpRequest) -> HttpResponse:
    enterprise = own_enterprise(request)
    return render(
        request,
        "applications/confirmations.html",
        {"enterprise": enterprise, "confirmations": selectors.confirmations_of(enterprise)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def confirmation(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = own_enterprise(request)
    item = selectors.confirmation_of(enterprise, pk)
    version = {"version": item.version}
    confirm_form = forms.ConfirmGrantForm(initial=version)
    decline_form = forms.DeclineGrantForm(initial=version)
    status, alerts = 200, []
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ("confirm", "decline"):
            return HttpResponse(_("未知操作。"), status=400)
        form = (forms.ConfirmGrantForm if action == "confirm" else forms.DeclineGrantForm)(request.POST)
        status = 400
        if form.is_valid():
            common = {
                "actor": request.user,
                "confirmation_id": item.pk,
                "expected_version": form.cleaned_data["version"],
            }
            try:
                if action == "confirm":
                    application = services.confirm_grant(**common)
                else:
                    services.decline_grant(**common, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                status, alerts = _refused(form, error)
            else:
                if action == "confirm":
                    messages.success(
                        request,
                        _("已确认享受，已形成申报 %(ref)s，等待审核。") % {"ref": application.reference},
                    )
                    return redirect("applications:detail", pk=application.pk)
                if item.item_id:
                    messages.success(
                        request,
                        _("已记录放弃享受，不再就“%(item)s”向贵企业发起确认。") % {"item": item.item.title},
                    )
                else:
                    messages.success(request, _("已记录放弃享受，该项目不再向贵企业发起确认。"))
                return redirect("applications:confirmation", pk=item.pk)
        if action == "confirm":
            confirm_form = form
        else:
            decline_form = form
        item = selectors.confirmation_of(enterprise, pk)
    evidence = None
    if item.state == Confirmation.State.REQUESTED:
        rows = selectors.auto_grant_list(
            item.benefit, timezone.localdate(), enterprise.__class__.objects.filter(pk=enterprise.pk)
        ).rows
        # a per-item request shows that item's own comparison
        verdicts = (
            [entry.verdict for row in rows for entry in row.items if entry.item_id == item.item_id]
            if item.item_id
            else [row.verdict for row in rows]
        )
        if verdicts:
            from applications.explanations import snapshot_of

            evidence = readable(snapshot_of(verdicts[0]), matching_selectors.catalog())
    elif item.application is not None:
        evidence = readable(item.application.explanation_snapshot, matching_selectors.catalog())
    return render(
        request,
        "applications/confirmation.html",
        {
            "enterprise": enterprise,
            "item": item,
            "evidence": evidence,
            "confirm_form": confirm_form,
            "decline_form": decline_form,
            "alerts": alerts,
        },
        status=status,
    )


# ---------------------------------------------------------------- staff: payouts


@review_required
@require_http_methods(["GET", "POST"])
def payouts(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.staff_application(pk)
    bound: dict[int, object] = {}
    status, alerts = 200, []
    if request.method == "POST":
        if not services.can_record_payouts(request.user):
            raise PermissionDenied
        stage = get_object_or_404(PayoutStage, pk=request.POST.get("stage") or 0, application=application)
        form = forms.PayoutStageForm(request.POST, stage_id=stage.pk)
        bound[stage.pk] = form
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.record_payout_stage(
                    actor=request.user,
                    stage_id=stage.pk,
                    expected_version=data["version"],
                    publicised_on=data["publicised_on"],
                    payment_order=data["payment_order"],
                    paid_on=data["paid_on"],
                )
            except ValidationError as error:
                status, alerts = _refused(form, error)
            else:
                messages.success(request, _("第 %(n)s 期拨付信息已登记。") % {"n": stage.order})
                return redirect("applications:payouts", pk=application.pk)
    can_record = services.can_record_payouts(request.user)
    rows = [
        {
            "stage": stage,
            "form": bound.get(stage.pk)
            or forms.PayoutStageForm(
                initial={
                    "version": stage.version,
                    "publicised_on": stage.publicised_on,
                    "payment_order": stage.payment_order,
                    "paid_on": stage.paid_on,
                },
                stage_id=stage.pk,
            ),
        }
        for stage in application.payout_stages.all()
    ]
    return render(
        request,
        "applications/review/payouts.html",
        {"application": application, "rows": rows, "can_record": can_record, "alerts": alerts},
        status=status,
    )


@review_required
def payout_report(request: HttpRequest) -> HttpResponse:
    tables = selectors.payout_report()
    if request.GET.get("format") == "csv":
        header = [_("分组方式"), _("分组"), _("批准金额（万元）"), _("已到账（万元）"), _("待拨付（万元）")]
        rows = [
            [
                table.title,
                row.label,
                money.wan_number(row.granted),
                money.wan_number(row.paid),
                money.wan_number(row.outstanding),
            ]
            for table in tables
            for row in [*table.rows, table.total]
        ]
        return csv_response(f"payouts-{timezone.localdate().isoformat()}.csv", header, rows)
    return render(request, "applications/review/payout_report.html", {"tables": tables})
