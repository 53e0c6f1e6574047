"""Pages of the matching app: the staff jobs page (backlog, last runs, re-run everything), the
impact preview of a benefit edit, and the enterprise user's notifications. Thin: services decide."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from enterprises.query import QueryForm, bad_query
from enterprises.selectors import enterprise_for_user
from matching import jobs, notifications, selectors
from matching.forms import BenefitChangeForm, NotificationPreferenceForm
from matching.models import NotificationPreference
from matching.preview import preview_benefit_change
from policies import services as policy_services
from policies.models import Benefit


@login_required
@permission_required("matching.view_jobrun", raise_exception=True)
def job_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not request.user.has_perm("matching.rerun_all"):
            raise PermissionDenied
        job = jobs.schedule_rerun()
        messages.success(request, _("已安排全部重新评估（任务 %(id)s）。") % {"id": job.pk})
        return redirect("matching:jobs")
    recent = list(selectors.recent_jobs())
    context = {
        "backlog": selectors.backlog(),
        "queue_length": selectors.broker_queue_length(),
        "jobs": recent,
        "running": any(job.status == job.Status.RUNNING for job in recent),
        "can_rerun": request.user.has_perm("matching.rerun_all"),
    }
    return render(request, "matching/jobs.html", context)


@login_required
@permission_required("policies.change_benefit", raise_exception=True)
def benefit_preview(request: HttpRequest, pk: int) -> HttpResponse:
    benefit = get_object_or_404(Benefit.objects.select_related("clause__document"), pk=pk)
    impact = None
    form = BenefitChangeForm(request.POST or None, instance=benefit)
    if request.method == "POST" and form.is_valid():
        edited = form.instance
        if "publish" in request.POST:
            try:
                policy_services.save_benefit(
                    benefit=edited,
                    reason=_("经影响预览后发布（%(user)s）") % {"user": request.user.get_username()},
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("已发布；匹配结果正在后台更新。"))
                return redirect("matching:jobs")
        else:
            impact = preview_benefit_change(edited=edited, as_of=jobs.today())
    return render(
        request, "matching/benefit_preview.html", {"benefit": benefit, "form": form, "impact": impact}
    )


class MarkSeenForm(QueryForm):
    up_to = django_forms.IntegerField(min_value=1, required=False)  # the newest change shown
    notice_up_to = django_forms.IntegerField(min_value=1, required=False)  # the newest notice shown


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The enterprise's notices (its applications' events) and match changes. Reading them changes
    nothing (a GET never writes): "全部标为已读" posts the newest notice and change shown, and only then
    does the unread badge go."""
    enterprise = enterprise_for_user(request.user)
    if enterprise is None:
        raise Http404(_("您的账号未关联企业。"))
    preference = NotificationPreference.objects.filter(user=request.user).first()
    if request.method == "POST" and request.POST.get("action") == "mark_seen":
        seen_form = MarkSeenForm(request.POST)
        if not seen_form.is_valid():
            return bad_query(seen_form)
        up_to, notice_up_to = seen_form.cleaned_data["up_to"], seen_form.cleaned_data["notice_up_to"]
        # only this enterprise's changes and notices
        last = up_to and (
            selectors.changes_for_enterprise(enterprise.pk)
            .filter(pk__lte=up_to)
            .order_by("-pk")
            .values_list("pk", flat=True)
            .first()
        )
        last_notice = notice_up_to and (
            selectors.notices_for_enterprise(enterprise.pk)
            .filter(pk__lte=notice_up_to)
            .values_list("pk", flat=True)
            .first()
        )
        if last or last_notice:
            notifications.mark_seen(
                user=request.user, last_change_id=last or 0, last_notice_id=last_notice or 0
            )
        messages.success(request, _("已全部标为已读。"))
        return redirect("matching:notifications")
    form = NotificationPreferenceForm(
        request.POST or None, initial={"email_enabled": bool(preference and preference.email_enabled)}
    )
    if request.method == "POST" and form.is_valid():
        notifications.set_email_preference(user=request.user, enabled=form.cleaned_data["email_enabled"])
        messages.success(request, _("通知设置已保存。"))
        return redirect("matching:notifications")
    page = Paginator(selectors.changes_for_enterprise(enterprise.pk), 50).get_page(request.GET.get("page"))
    seen = preference.last_seen_change_id if preference else 0
    rows = [
        {"change": change, "kind": kind, "text": text, "new": change.pk > seen}
        for change in page
        for kind, text in [notifications.describe(change)]
    ]
    seen_notice = preference.last_seen_notice_id if preference else 0
    notices = [
        {"notice": notice, "text": notifications.notice_text(notice), "new": notice.pk > seen_notice}
        for notice in selectors.notices_for_enterprise(enterprise.pk)[:50]
    ]
    newest_unread = max((row["change"].pk for row in rows if row["new"]), default=None)
    newest_unread_notice = max((row["notice"].pk for row in notices if row["new"]), default=None)
    return render(
        request,
        "matching/notifications.html",
        {
            "enterprise": enterprise,
            "page": page,
            "rows": rows,
            "notices": notices,
            "form": form,
            "newest_unread": newest_unread,
            "newest_unread_notice": newest_unread_notice,
        },
    )
