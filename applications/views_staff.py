"""Staff pages under /applications/review/: the queue, the review page with its decisions, the
免申即享 list and the reports. Every page needs applications.review_application (else 403);
assignment needs applications.assign_application."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from io import BytesIO

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from openpyxl import Workbook

from applications import explanations, forms, selectors, services
from applications.filters import ReviewQueueFilter, SubmittedRangeFilter
from applications.models import Action, Application
from applications.views import application_call, call_context, refusal
from enterprises import spreadsheets
from enterprises.query import FORMATS, QueryForm, read_query
from matching.engine.render import label, source_text, value_text
from policies import money
from policies.models import Benefit, Clause

PAGE_SIZE = 50


def review_required(view):
    return login_required(permission_required(services.REVIEW_PERMISSION, raise_exception=True)(view))


# ---------------------------------------------------------------- queue


@review_required
def review_queue(request: HttpRequest) -> HttpResponse:
    applications = selectors.staff_applications()
    queue = ReviewQueueFilter(request.GET or None, queryset=applications, request=request)
    # Counts per state for the current filters, whatever state is selected.
    without_state = request.GET.copy()
    without_state.pop("state", None)
    counted = ReviewQueueFilter(without_state or None, queryset=applications, request=request).qs
    page = Paginator(queue.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    can_assign = request.user.has_perm(services.ASSIGN_PERMISSION)
    rows = [
        {
            "application": application,
            "assign_form": forms.AssignForm(
                initial={"version": application.version, "reviewer": application.reviewer_id},
                form_id=f"assign{application.pk}",
            )
            if can_assign and Action.ASSIGN in services.allowed_actions(application)
            else None,
        }
        for application in page
    ]
    query = request.GET.copy()
    query.pop("page", None)
    without_state.pop("page", None)
    response = render(
        request,
        _region_or_page(request, "applications/review/_queue.html", "applications/review/queue.html"),
        {
            "filter": queue,
            "rows": rows,
            "page": page,
            "counts": selectors.state_counts(counted),
            "selected_state": request.GET.get("state", ""),
            "query": query.urlencode(),
            "state_query": without_state.urlencode(),
            "can_assign": can_assign,
        },
    )
    patch_vary_headers(response, ["HX-Request"])  # a cache must not serve the region for the page
    return response


def _region_or_page(request: HttpRequest, region: str, page: str) -> str:
    """HTMX requests (filters, tabs, pages) get the region alone; a normal request or HTMX restoring a
    page missing from its history cache gets the whole page."""
    htmx = getattr(request, "htmx", None)
    return region if htmx and not htmx.history_restore_request else page


# ---------------------------------------------------------------- review page and decisions

DECISIONS = {
    "start_review": forms.StartReviewForm,
    "approve": forms.ApproveForm,
    "reject": forms.RejectForm,
    "return": forms.ReturnForm,
    "assign": forms.AssignForm,
    "check_material": forms.MaterialCheckForm,
}


@review_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = selectors.staff_application(pk)
    bound: dict[str, object] = {}
    alerts: list[str] = []
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        form_class = DECISIONS.get(action)
        if form_class is None:
            return HttpResponse(_("未知操作。"), status=400)
        form = form_class(request.POST)
        bound[action] = form
        status = 400
        if form.is_valid():
            try:
                _decide(action, request, application, form.cleaned_data)
            except ValidationError as error:
                status, alerts = refusal(error, form, bound, action)
            else:
                return redirect("applications:review_detail", pk=application.pk)
        application = selectors.staff_application(pk)
    return render(
        request,
        "applications/review/detail.html",
        _review_context(request, application, bound) | {"alerts": alerts},
        status=status,
    )


def _decide(action: str, request: HttpRequest, application: Application, data: dict) -> None:
    common = {"actor": request.user, "application_id": application.pk, "expected_version": data["version"]}
    if action == "start_review":
        services.start_review(**common)
        messages.success(request, _("已开始审核。"))
    elif action == "approve":
        services.approve(**common, amount=money.yuan_from_wan(data["amount"]), comment=data["comment"])
        messages.success(request, _("已批准。"))
    elif action == "reject":
        services.reject(**common, reason=data["reason"])
        messages.success(request, _("已作出不予通过的决定。"))
    elif action == "return":
        services.return_for_information(**common, needed=data["needed"])
        messages.success(request, _("已退回企业补充材料。"))
    elif action == "assign":
        reviewer = data["reviewer"]
        services.assign_reviewer(**common, reviewer_id=reviewer.pk if reviewer else None)
        messages.success(request, _("已分派审核人。"))
    elif action == "check_material":
        services.check_material(
            **common, material_id=data["material"], verdict=data["verdict"], comment=data["comment"]
        )
        messages.success(request, _("材料审核结果已保存。"))


def _review_context(request: HttpRequest, application: Application, bound: dict) -> dict:
    today = timezone.localdate()
    explained = selectors.explain_benefit(application.enterprise, application.benefit, today)
    now, sheet = explained.explanation, explained.sheet
    before = application.explanation_snapshot or {}
    allowed = services.allowed_actions(application)
    version = {"version": application.version}
    read_codes = {fact["code"] for fact in explained.facts["facts"]}
    enterprise_facts = [
        {
            "code": code,
            "label": label(definition),
            "value": value_text(definition, sheet.values.get(code)),
            "known": sheet.values.get(code) is not None,
            "source": sheet.sources.get(code, ""),
            "source_text": source_text(sheet.sources.get(code, "")),
            "read_by_benefit": code in read_codes,
        }
        for code, definition in sorted(
            explained.catalog.items(), key=lambda item: (item[0] not in read_codes, item[0])
        )
    ]
    clause: Clause = application.benefit.clause
    call = application_call(application)
    return call_context(call, timezone.now()) | {
        "checklist": selectors.material_checklist(application, call),
        "material_review_form": Action.CHECK_MATERIAL in allowed,
        "material_form": bound.get("check_material"),
        "application": application,
        "enterprise": application.enterprise,
        "benefit": application.benefit,
        "clause": clause,
        "document": clause.document,
        "events": selectors.events_of(application),
        "attachments": application.attachments.all(),
        "before": explanations.readable(before, explained.catalog),
        "now": explanations.readable(now, explained.catalog),
        "before_amount": explanations.amount_text(before) if before else "—",
        "now_amount": explanations.amount_text(now),
        "comparison": explanations.compare(before, now, catalog=explained.catalog),
        "enterprise_facts": enterprise_facts,
        "today": today,
        "ceiling": services.approval_ceiling(application.benefit),
        "can_start": Action.START_REVIEW in allowed,
        "can_decide": Action.APPROVE in allowed,
        "can_assign": Action.ASSIGN in allowed and request.user.has_perm(services.ASSIGN_PERMISSION),
        "start_form": bound.get("start_review") or forms.StartReviewForm(initial=version),
        "approve_form": bound.get("approve")
        or forms.ApproveForm(initial=version | {"amount": money.wan_number(application.requested_amount)}),
        "reject_form": bound.get("reject") or forms.RejectForm(initial=version),
        "return_form": bound.get("return") or forms.ReturnForm(initial=version),
        "assign_form": bound.get("assign")
        or forms.AssignForm(initial=version | {"reviewer": application.reviewer_id}),
    }


@review_required
@require_POST
def assign_from_queue(request: HttpRequest, pk: int) -> HttpResponse:
    """The queue's per-row assignment; errors come back as messages on the queue."""
    application = selectors.staff_application(pk)
    form = forms.AssignForm(request.POST, form_id=f"assign{pk}")
    query = QueryDict(request.POST.get("query", "")).urlencode()  # re-encoded: only a query string
    back = reverse("applications:review_queue") + (f"?{query}" if query else "")
    if not form.is_valid():
        messages.error(
            request, _("分派失败：%(errors)s") % {"errors": " ".join(form.errors.get("reviewer", []))}
        )
        return redirect(back)
    reviewer = form.cleaned_data["reviewer"]
    try:
        services.assign_reviewer(
            actor=request.user,
            application_id=application.pk,
            expected_version=form.cleaned_data["version"],
            reviewer_id=reviewer.pk if reviewer else None,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("申报 %(ref)s 已分派给 %(who)s。")
            % {"ref": application.reference, "who": reviewer or _("（无人）")},
        )
    return redirect(back)


# ---------------------------------------------------------------- exports


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so Excel opens the UTF-8 file as UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        # booleans in words; no cell a spreadsheet would run as a formula
        writer.writerow(spreadsheets.csv_row([cell_text(value) for value in row]))
    return response


def cell_text(value) -> object:
    """A CSV cell as people read it: 是/否, never True/False; blank for "not stated"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return value


def xlsx_response(
    filename: str, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]
) -> HttpResponse:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, header, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(list(header))
        for row in rows:
            sheet.append(spreadsheets.xlsx_row(sheet, row))  # text stays text, never a formula
        for column, name in zip(sheet.columns, header, strict=False):
            sheet.column_dimensions[column[0].column_letter].width = max(10, min(50, 2 * len(str(name)) + 4))
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---------------------------------------------------------------- 免申即享


class AutoGrantQuery(QueryForm):
    benefit = django_forms.IntegerField(label=gettext_lazy("扶持项目"), required=False, min_value=1)
    as_of = django_forms.DateField(label=gettext_lazy("评估日期"), required=False)
    format = django_forms.ChoiceField(label=gettext_lazy("格式"), required=False, choices=FORMATS)


@review_required
def auto_grant(request: HttpRequest) -> HttpResponse:
    benefits = Benefit.objects.select_related("clause__document").order_by(
        "clause__document__source_file", "clause__order", "id"
    )
    query, refused = read_query(AutoGrantQuery, request.GET)
    if refused:
        return refused
    as_of = query["as_of"] or timezone.localdate()
    chosen = query["benefit"]
    benefit = benefits.filter(pk=chosen).first() if chosen else None
    result = selectors.auto_grant_list(benefit, as_of) if benefit else None
    export = query["format"]
    lines = selectors.auto_grant_lines(result) if result is not None else []
    if result is not None and export in ("csv", "xlsx"):
        header = [
            _("企业名称"),
            _("统一社会信用代码"),
            _("申报事项"),  # the item's title for a benefit paid per item (one line per item), else blank
            _("所在区"),
            _("行业代码"),
            _("结论"),
            _("预估金额（万元）"),
            _("依据（条件：权威数据）"),
        ]
        rows = [
            [
                line.enterprise.name,
                line.enterprise.credit_code,
                line.item_title,
                line.enterprise.district,
                line.enterprise.industry_code,
                line.verdict.status.label,
                money.wan_number(line.verdict.amount.value),
                "；".join(f"{reason.requirement}：{reason.value_text}" for reason in line.verdict.reasons),
            ]
            for line in lines
        ]
        filename = f"auto-grant-{benefit.pk}-{as_of.isoformat()}.{export}"
        if export == "csv":
            return csv_response(filename, header, rows)
        return xlsx_response(filename, [(_("免申即享名单"), header, rows)])
    return render(
        request,
        "applications/review/auto_grant.html",
        {
            "benefits": benefits,
            "benefit": benefit,
            "result": result,
            "as_of": as_of,
            "lines": lines,
        },
    )


# ---------------------------------------------------------------- reports


@review_required
def reports(request: HttpRequest) -> HttpResponse:
    scope = SubmittedRangeFilter(request.GET or None, queryset=Application.objects.all())
    tables = selectors.reports(scope.qs)
    if request.GET.get("format") == "xlsx":
        header = [_("分组"), _("申报数"), _("申请金额（万元）"), _("批准数"), _("批准金额（万元）")]
        sheets = [
            (
                str(table.title),
                header,
                [
                    [
                        row.label,
                        row.count,
                        money.wan_number(row.requested),
                        row.approved_count,
                        money.wan_number(row.approved),
                    ]
                    for row in [*table.rows, table.total]
                ],
            )
            for table in tables
        ]
        return xlsx_response(f"applications-report-{timezone.localdate().isoformat()}.xlsx", sheets)
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(
        request,
        "applications/review/reports.html",
        {"filter": scope, "tables": tables, "export_query": query.urlencode()},
    )
