"""Reads of the applications app: an enterprise's applications and match dashboard, the staff queue,
the 免申即享 list and the reports. Visibility: an enterprise user reads only its own enterprise's
rows (others are a 404); staff pages require applications.review_application (views check it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Substr, TruncMonth
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications import explanations
from applications.models import OPEN_STATES, Application, ApplicationEvent, State
from enterprises.facts import FactSheet, facts_for, facts_table
from enterprises.models import Enterprise
from enterprises.taxonomy import INDUSTRY_DIVISIONS
from matching import selectors as matching_selectors
from matching.engine import (
    FactColumns,
    Stack,
    Status,
    Verdict,
    best_total,
    evaluate_table,
    explain,
    validity_on,
)
from matching.engine.conditions import compile_condition
from matching.engine.spec import IN_FORCE
from matching.engine.verdict import input_codes
from matching.models import MatchStatus
from policies.models import Benefit

MET_STATUSES = (Status.ELIGIBLE, Status.PENDING_RECOGNITION)
AUTHORITATIVE_SOURCE = "register"
DEADLINE_SOON_DAYS = 90
AUTO_GRANT_CHUNK = 500  # candidates whose facts are read at once


# ---------------------------------------------------------------- enterprise side


def applications_of(enterprise: Enterprise) -> QuerySet[Application]:
    return Application.objects.filter(enterprise=enterprise).select_related(
        "benefit__clause__document", "item"
    )


def application_of(enterprise: Enterprise | None, pk: int) -> Application:
    """The enterprise's own application; Http404 for any other (no hint that it exists)."""
    if enterprise is None:
        raise Http404
    application = applications_of(enterprise).filter(pk=pk).first()
    if application is None:
        raise Http404
    return application


def events_of(application: Application) -> QuerySet[ApplicationEvent]:
    return application.events.select_related("actor").order_by("at", "id")


@dataclass(frozen=True)
class Explained:
    """One benefit explained for one enterprise, with the fact sheet it was explained from."""

    verdict: Verdict
    sheet: FactSheet
    catalog: Mapping[str, Any]
    enterprise: Enterprise

    @property
    def explanation(self) -> dict:
        return explanations.snapshot_of(self.verdict)

    @property
    def facts(self) -> dict:
        return explanations.facts_snapshot(self.enterprise, self.sheet, self.verdict, self.catalog)


def explain_benefit(
    enterprise: Enterprise, benefit: Benefit, as_of: dt.date, *, item_id: int | None = None
) -> Explained:
    """What the engine says about the enterprise and the benefit on `as_of` (one facts_for and one
    explain, as matching.selectors.verdicts_for does), kept with the facts it read. With `item_id`
    (an application for one item of a per-item benefit): the verdict of that item alone."""
    catalog = matching_selectors.catalog()
    sheet = facts_for(enterprise, as_of, catalog=catalog)
    spec = matching_selectors.spec_for(benefit)
    verdict = explain(
        spec,
        sheet.values,
        as_of=as_of,
        catalog=catalog,
        sources=sheet.sources,
        items=[
            item for item in sheet.items.get(spec.per_item or "", []) if item_id is None or item.id == item_id
        ],
    )
    return Explained(verdict, sheet, catalog, enterprise)


def deadline_of(benefit_or_spec: Any) -> dt.date | None:
    """The last day the benefit is in force: the earlier of the document's and the benefit's end."""
    ends = [
        day
        for day in (
            getattr(benefit_or_spec, "effective_to", None),
            getattr(benefit_or_spec, "valid_to", None),
        )
        if day is not None
    ]
    return min(ends) if ends else None


@dataclass
class MatchRow:
    verdict: Verdict
    application: Application | None
    deadline: dt.date | None
    days_left: int | None
    counted: bool = False  # part of the best non-conflicting total
    claimed: bool = False  # a one-time benefit already approved for the enterprise: not offered again
    # the next open or upcoming window of the benefit's calls (None: 暂无申报通知); never the policy's end
    window: WindowInfo | None = None

    @property
    def status(self) -> str:
        return self.verdict.status.slug

    @property
    def status_label(self) -> str:
        return MatchStatus(self.status).label

    @property
    def deadline_soon(self) -> bool:
        return self.days_left is not None and self.days_left <= DEADLINE_SOON_DAYS

    @property
    def can_apply(self) -> bool:
        return not self.claimed and (self.application is None or not self.application.is_open)

    @property
    def document_url(self) -> str:
        """The benefit on its policy document's page."""
        spec = self.verdict.spec
        return f"{reverse('policies:document', args=[spec.document_key])}#benefit-{spec.benefit_id}"


@dataclass
class Dashboard:
    as_of: dt.date
    rows: list[MatchRow]  # eligible, pending recognition, needs information: best first
    not_eligible: list[MatchRow]
    not_in_force: int
    stack: Stack
    open_applications: int
    approved_total: Decimal

    @property
    def met_count(self) -> int:
        return sum(1 for row in self.rows if row.verdict.status in MET_STATUSES and not row.claimed)

    @property
    def needs_info_count(self) -> int:
        return sum(1 for row in self.rows if row.verdict.status is Status.NEEDS_INFO)

    @property
    def windows(self) -> list[MatchRow]:
        """Rows with an open window (closing first), then those whose window is yet to open."""
        found = [row for row in self.rows if row.window is not None and not row.claimed]
        return sorted(
            found, key=lambda row: (not row.window.is_open, row.window.last_day, row.window.first_day)
        )


def _row_order(verdict: Verdict) -> tuple:
    amount = verdict.amount.value
    return (-int(verdict.status), amount is None, -(amount or 0), -verdict.score, verdict.spec.global_key)


def claimed_benefit_ids(enterprise: Enterprise) -> set[int]:
    """Benefits paid once whose application of this enterprise was approved: no longer to be claimed."""
    return set(
        Application.objects.filter(
            enterprise=enterprise, state=State.APPROVED, benefit__recurrence=Benefit.Recurrence.ONE_TIME
        ).values_list("benefit_id", flat=True)
    )


def approved_one_time(enterprise: Enterprise, benefit: Benefit) -> Application | None:
    if benefit.recurrence != Benefit.Recurrence.ONE_TIME:
        return None
    return (
        Application.objects.filter(enterprise=enterprise, benefit=benefit, state=State.APPROVED)
        .order_by("-decided_at", "-id")
        .first()
    )


def dashboard(enterprise: Enterprise, as_of: dt.date, now: dt.datetime | None = None) -> Dashboard:
    """Every benefit explained for the enterprise today, with its own applications and the next window
    of each benefit's calls (`now`: the moment windows are read at, default the current time)."""
    verdicts = matching_selectors.verdicts_for(enterprise, as_of)
    applications: dict[int, Application] = {}
    for application in applications_of(enterprise).order_by("created_at", "id"):
        current = applications.get(application.benefit_id)
        if current is None or not current.is_open:  # an open one wins; else the latest
            applications[application.benefit_id] = application
    claimed = claimed_benefit_ids(enterprise)
    # what is still to claim: not a granted one-time benefit, nor one that does not stack with it
    claimed_groups = {v.spec.stacking_group for v in verdicts if v.spec.benefit_id in claimed} - {None, ""}
    stack = best_total(
        verdict
        for verdict in verdicts
        if verdict.spec.benefit_id not in claimed and verdict.spec.stacking_group not in claimed_groups
    )
    counted = {verdict.spec.benefit_id for verdict in stack.chosen}
    windows = next_windows((v.spec.benefit_id for v in verdicts), now or timezone.now())
    rows, not_eligible, not_in_force = [], [], 0
    for verdict in sorted(verdicts, key=_row_order):
        if verdict.status is Status.NOT_IN_FORCE:
            not_in_force += 1
            continue
        deadline = deadline_of(verdict.spec)
        row = MatchRow(
            verdict,
            applications.get(verdict.spec.benefit_id),
            deadline,
            (deadline - as_of).days if deadline else None,
            verdict.spec.benefit_id in counted,
            verdict.spec.benefit_id in claimed,
            windows.get(verdict.spec.benefit_id),
        )
        (not_eligible if verdict.status is Status.NOT_ELIGIBLE else rows).append(row)
    mine = Application.objects.filter(enterprise=enterprise)
    return Dashboard(
        as_of=as_of,
        rows=rows,
        not_eligible=not_eligible,
        not_in_force=not_in_force,
        stack=stack,
        open_applications=mine.filter(state__in=OPEN_STATES).count(),
        approved_total=mine.filter(state=State.APPROVED).aggregate(total=Sum("approved_amount"))["total"]
        or Decimal(0),
    )


# ---------------------------------------------------------------- staff side


def staff_applications() -> QuerySet[Application]:
    """What staff see: everything the enterprise has submitted at least once (drafts stay private)."""
    return (
        Application.objects.filter(submitted_at__isnull=False)
        .select_related("enterprise", "benefit__clause__document", "reviewer", "item")
        .order_by("-last_submitted_at", "-id")
    )


def staff_application(pk: int) -> Application:
    application = staff_applications().filter(pk=pk).first()
    if application is None:
        raise Http404
    return application


def state_counts(applications: QuerySet[Application]) -> list[tuple[str, str, int]]:
    """(state, label, count) for every state staff see, zeros included, in workflow order."""
    counts = dict(applications.order_by().values_list("state").annotate(n=Count("id")))
    return [(state.value, state.label, counts.get(state.value, 0)) for state in State if state != State.DRAFT]


# ---------------------------------------------------------------- 免申即享


@dataclass
class AutoGrantRow:
    enterprise: Enterprise
    verdict: Verdict  # evaluated on register-sourced facts only
    # a per-item benefit: the enterprise's items that meet every condition and are not applied for
    # (the list's (enterprise, item) pairs)
    items: tuple = ()


@dataclass
class AutoGrantList:
    benefit: Benefit
    as_of: dt.date
    validity: str
    rows: list[AutoGrantRow]
    met_on_all_data: int  # enterprises meeting every condition when self-declared facts count too
    prefiltered: bool  # the set-wise pass on all data narrowed the candidates
    already_applied: int = 0  # left out: an open or decided application for the benefit exists


def _monotone(tree: Mapping[str, Any] | None, negated: bool = False) -> bool:
    """True when removing facts can never turn the outcome into MET (so MET on register data alone
    implies MET on all data). Only `exists` breaks that: an absent fact makes `exists: false` true."""
    if not tree:
        return True
    if "all" in tree or "any" in tree:
        return all(_monotone(child, negated) for child in tree.get("all", tree.get("any", [])))
    if "not" in tree:
        return _monotone(tree["not"], not negated)
    if tree.get("op") == "exists":
        return bool(tree.get("value")) != negated
    return True


def authoritative_facts(values: Mapping[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
    """Only the values whose provenance is the authoritative register; everything else unknown."""
    return {
        code: value if sources.get(code) == AUTHORITATIVE_SOURCE else None for code, value in values.items()
    }


APPLIED_STATES = (*OPEN_STATES, State.APPROVED, State.REJECTED)


def auto_grant_list(
    benefit: Benefit, as_of: dt.date, enterprises: QuerySet[Enterprise] | None = None
) -> AutoGrantList:
    """Enterprises that meet every condition of the benefit on register data alone (免申即享).

    First the engine's set-wise path on all data keeps the enterprises that meet the conditions at
    all (exact whenever the condition is monotone, see `_monotone`); then each candidate is explained
    again with every non-register fact made unknown.
    """
    enterprises = (enterprises if enterprises is not None else Enterprise.objects.all()).order_by("pk")
    # an enterprise already applying, or decided, for the benefit is handled by its application
    applied = Application.objects.filter(benefit=benefit, state__in=APPLIED_STATES)
    applied_items: set[int] = set()
    if benefit.per_item:  # per item: an item applied for is handled by its application, not the enterprise
        applied_items = set(applied.exclude(item=None).values_list("item_id", flat=True))
        applied = applied.filter(item=None)
    applied = applied.values("enterprise_id")
    already_applied = enterprises.filter(pk__in=applied).count()
    enterprises = enterprises.exclude(pk__in=applied)
    catalog = matching_selectors.catalog()
    spec = matching_selectors.spec_for(benefit)
    validity = validity_on(spec, as_of)
    if validity != IN_FORCE:
        return AutoGrantList(benefit, as_of, validity, [], 0, False)
    codes = input_codes(spec, compile_condition(spec.condition, catalog), catalog)
    table = facts_table(enterprises, as_of, codes)
    verdicts = evaluate_table(
        spec, FactColumns(table.columns, len(table.enterprise_ids), catalog, table.items), as_of
    )
    met_ids = [
        pk
        for pk, status in zip(table.enterprise_ids, verdicts.status.tolist(), strict=True)
        if status in MET_STATUSES
    ]
    prefiltered = _monotone(spec.condition)
    candidates = Enterprise.objects.filter(pk__in=met_ids) if prefiltered else enterprises
    rows = []
    ordered = candidates.order_by("name", "pk").iterator(chunk_size=AUTO_GRANT_CHUNK)
    while chunk := list(islice(ordered, AUTO_GRANT_CHUNK)):
        # every fact with its provenance, set-wise for the chunk (the same as facts_for of each)
        table = facts_table([e.pk for e in chunk], as_of, with_sources=True, catalog=catalog)
        row_of = {pk: index for index, pk in enumerate(table.enterprise_ids)}
        for enterprise in chunk:
            sheet = table.sheet(row_of[enterprise.pk])
            verdict = explain(
                spec,
                authoritative_facts(sheet.values, sheet.sources),
                as_of=as_of,
                catalog=catalog,
                sources=sheet.sources,
                # an item's facts count only when the item itself comes from the register
                items=[
                    item if item.source == AUTHORITATIVE_SOURCE else replace(item, values={})
                    for item in sheet.items.get(spec.per_item or "", [])
                ],
            )
            if verdict.status not in MET_STATUSES:
                continue
            if spec.per_item:
                met_items = tuple(
                    entry
                    for entry in verdict.items
                    if entry.verdict.status in MET_STATUSES and entry.item_id not in applied_items
                )
                if met_items:
                    rows.append(AutoGrantRow(enterprise, verdict, met_items))
            else:
                rows.append(AutoGrantRow(enterprise, verdict))
    return AutoGrantList(benefit, as_of, validity, rows, len(met_ids), prefiltered, already_applied)


# ---------------------------------------------------------------- reports


@dataclass
class ReportRow:
    key: str
    label: str
    count: int
    requested: Decimal
    approved: Decimal
    approved_count: int
    count_share: int = 0  # percent of the largest count in the table (bar length)
    amount_share: int = 0


@dataclass
class ReportTable:
    title: Any
    dimension: str
    rows: list[ReportRow] = field(default_factory=list)

    @property
    def total(self) -> ReportRow:
        return ReportRow(
            "total",
            str(_("合计")),
            sum(row.count for row in self.rows),
            sum((row.requested for row in self.rows), Decimal(0)),
            sum((row.approved for row in self.rows), Decimal(0)),
            sum(row.approved_count for row in self.rows),
        )


def _aggregate(applications: QuerySet[Application], key: str) -> Iterable[dict]:
    return (
        applications.order_by()
        .values(key)
        .annotate(
            count=Count("id"),
            requested=Sum("requested_amount"),
            approved=Sum("approved_amount", filter=Q(state=State.APPROVED)),
            approved_count=Count("id", filter=Q(state=State.APPROVED)),
        )
        .order_by(key)
    )


def _table(title: str, dimension: str, rows: Iterable[dict], key: str, label_of) -> ReportTable:
    table = ReportTable(title, dimension)
    for row in rows:
        table.rows.append(
            ReportRow(
                key=str(row[key] if row[key] is not None else ""),
                label=label_of(row[key]),
                count=row["count"],
                requested=row["requested"] or Decimal(0),
                approved=row["approved"] or Decimal(0),
                approved_count=row["approved_count"],
            )
        )
    most = max((row.count for row in table.rows), default=0)
    most_amount = max((row.approved for row in table.rows), default=Decimal(0))
    for row in table.rows:
        row.count_share = round(100 * row.count / most) if most else 0
        row.amount_share = round(100 * row.approved / most_amount) if most_amount else 0
    return table


def reports(applications: QuerySet[Application]) -> list[ReportTable]:
    """Applications (submitted at least once) and amounts by policy, state, industry and month."""
    applications = applications.filter(submitted_at__isnull=False)
    state_labels = dict(State.choices)
    by_document = _aggregate(applications, "benefit__clause__document__title")
    by_state = sorted(
        _aggregate(applications, "state"), key=lambda row: list(state_labels).index(row["state"])
    )
    by_industry = _aggregate(
        applications.annotate(division=Substr("enterprise__industry_code", 1, 2)), "division"
    )
    by_month = _aggregate(applications.annotate(month=TruncMonth("submitted_at")), "month")
    return [
        _table(
            _("按政策文件"), "policy", by_document, "benefit__clause__document__title", lambda title: title
        ),
        _table(_("按状态"), "state", by_state, "state", lambda state: str(state_labels.get(state, state))),
        _table(
            _("按行业（国民经济行业大类）"),
            "industry",
            by_industry,
            "division",
            lambda code: (
                f"{code} {INDUSTRY_DIVISIONS.get(code, '')}".strip() if code else str(_("未填写行业"))
            ),
        ),
        _table(
            _("按提交月份"),
            "month",
            by_month,
            "month",
            lambda month: month.strftime("%Y-%m") if month else "—",
        ),
    ]


# ---------------------------------------------------------------- application calls (申报通知)


@dataclass(frozen=True)
class WindowInfo:
    """A call's window as people read it: dates in Asia/Shanghai, the last day inclusive."""

    window: Any  # CallWindow
    call: Any  # Call
    state: str  # "open", "upcoming" or "closed"
    now: dt.datetime

    @property
    def first_day(self) -> dt.date:
        return timezone.localtime(self.window.opens_at).date()

    @property
    def last_day(self) -> dt.date:
        # closes_at is the first moment no longer taken: 7月5日24:00 is stored as 7月6日 0:00
        return timezone.localtime(self.window.closes_at - dt.timedelta(microseconds=1)).date()

    @property
    def days_left(self) -> int:
        return (self.last_day - timezone.localtime(self.now).date()).days

    @property
    def days_to_open(self) -> int:
        return (self.first_day - timezone.localtime(self.now).date()).days

    @property
    def period(self) -> str:
        return f"{self.first_day:%Y-%m-%d} {_('至')} {self.last_day:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def calls_of(benefit_ids: Iterable[int]) -> dict[int, list[Any]]:
    """Each benefit's calls (with windows, departments, levels and materials read at once)."""
    from applications.models import Call

    found: dict[int, list[Any]] = {}
    calls = (
        Call.objects.filter(benefits__in=set(benefit_ids))
        .distinct()
        .prefetch_related("windows", "departments", "levels", "materials", "benefits")
    )
    for call in calls:
        for benefit in call.benefits.all():
            found.setdefault(benefit.pk, []).append(call)
    return found


def windows_of(calls: Iterable[Any], now: dt.datetime) -> list[WindowInfo]:
    infos = []
    for call in calls:
        for window in call.windows.all():
            if window.opens_at <= now < window.closes_at:
                state = "open"
            elif now < window.opens_at:
                state = "upcoming"
            else:
                state = "closed"
            infos.append(WindowInfo(window, call, state, now))
    return sorted(infos, key=lambda info: (info.window.opens_at, info.window.closes_at))


def next_window(calls: Iterable[Any], now: dt.datetime) -> WindowInfo | None:
    """The open window closing first, else the upcoming one opening first; None when neither exists."""
    infos = windows_of(calls, now)
    open_ones = sorted((i for i in infos if i.state == "open"), key=lambda i: i.window.closes_at)
    if open_ones:
        return open_ones[0]
    upcoming = [i for i in infos if i.state == "upcoming"]
    return upcoming[0] if upcoming else None


def next_windows(benefit_ids: Iterable[int], now: dt.datetime) -> dict[int, WindowInfo | None]:
    """Per benefit: its next open or upcoming window (None: no call, or every window has closed)."""
    ids = list(benefit_ids)
    calls = calls_of(ids)
    return {benefit_id: next_window(calls.get(benefit_id, []), now) for benefit_id in ids}


def call_for(benefit_id: int, now: dt.datetime) -> Any | None:
    """The call an application for the benefit is made under: the one open now, else the next upcoming,
    else the latest closed one; None when the benefit has no call (today's rules apply)."""
    calls = calls_of([benefit_id]).get(benefit_id, [])
    if not calls:
        return None
    info = next_window(calls, now)
    if info is not None:
        return info.call
    infos = windows_of(calls, now)
    return infos[-1].call if infos else calls[0]


@dataclass(frozen=True)
class MaterialLine:
    material: Any  # CallMaterial
    attachments: list[Any]
    check: Any | None  # MaterialCheck

    @property
    def present(self) -> bool:
        return bool(self.attachments)

    @property
    def missing(self) -> bool:
        return self.material.required and not self.attachments


def material_checklist(application: Application, call: Any | None) -> list[MaterialLine]:
    """Each material of the call with the files attached for it and the reviewer's mark."""
    if call is None:
        return []
    attachments: dict[int, list[Any]] = {}
    for attachment in application.attachments.all():
        if attachment.material_id:
            attachments.setdefault(attachment.material_id, []).append(attachment)
    checks = {check.material_id: check for check in application.material_checks.all()}
    return [
        MaterialLine(material, attachments.get(material.pk, []), checks.get(material.pk))
        for material in call.materials.all()
    ]


# ---------------------------------------------------------------- 免申即享 confirmations and payouts


def confirmations_of(enterprise: Enterprise) -> QuerySet:
    from applications.models import Confirmation

    return Confirmation.objects.filter(enterprise=enterprise).select_related(
        "item", "benefit__clause__document", "application"
    )


def confirmation_of(enterprise: Enterprise | None, pk: int):
    """The enterprise's own confirmation request; Http404 for any other."""
    if enterprise is None:
        raise Http404
    confirmation = confirmations_of(enterprise).filter(pk=pk).first()
    if confirmation is None:
        raise Http404
    return confirmation


def confirmation_states(benefit: Benefit) -> dict[tuple[int, int | None], str]:
    """(enterprise id, item id) → the state of its confirmation request for the benefit (the auto-grant
    list); the item id is None for a benefit not paid per item."""
    from applications.models import Confirmation

    return {
        (enterprise_id, item_id): state
        for enterprise_id, item_id, state in Confirmation.objects.filter(benefit=benefit).values_list(
            "enterprise_id", "item_id", "state"
        )
    }


@dataclass(frozen=True)
class AutoGrantLine:
    """One line of the auto-grant list as staff tick it: an enterprise, or one (enterprise, item) pair
    of a benefit paid per item, with that line's verdict and the state of its 意愿确认 ("" not sent)."""

    enterprise: Enterprise
    verdict: Verdict
    item_id: int | None = None
    item_title: str = ""
    asked: str = ""


def auto_grant_lines(result: AutoGrantList) -> list[AutoGrantLine]:
    """The list's rows one line per enterprise, or per (enterprise, item) pair when paid per item."""
    states = confirmation_states(result.benefit)
    lines = []
    for row in result.rows:
        if not row.items:
            lines.append(
                AutoGrantLine(row.enterprise, row.verdict, asked=states.get((row.enterprise.pk, None), ""))
            )
            continue
        for entry in row.items:
            lines.append(
                AutoGrantLine(
                    row.enterprise,
                    entry.verdict,
                    entry.item_id,
                    entry.title,
                    states.get((row.enterprise.pk, entry.item_id), ""),
                )
            )
    return lines


@dataclass
class PayoutRow:
    label: str
    granted: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)

    @property
    def outstanding(self) -> Decimal:
        return self.granted - self.paid


@dataclass
class PayoutTable:
    title: str
    dimension: str
    rows: list[PayoutRow]

    @property
    def total(self) -> PayoutRow:
        return PayoutRow(
            str(_("合计")),
            sum((r.granted for r in self.rows), Decimal(0)),
            sum((r.paid for r in self.rows), Decimal(0)),
        )


def payout_report(applications: QuerySet[Application] | None = None) -> list[PayoutTable]:
    """Granted (approved amounts) against paid (stages recorded 到账) by document, benefit and month
    (granted in the month of the decision, paid in the month of 到账)."""
    from applications.models import PayoutStage

    approved = (applications if applications is not None else Application.objects.all()).filter(
        state=State.APPROVED, approved_amount__isnull=False
    )
    stages = PayoutStage.objects.filter(application__in=approved, paid_on__isnull=False)
    tables = []
    for title, dimension, key, label_key in (
        (_("按政策文件"), "document", "benefit__clause__document_id", "benefit__clause__document__title"),
        (_("按扶持项目"), "benefit", "benefit_id", "benefit__name"),
    ):
        rows: dict[Any, PayoutRow] = {}
        for item in (
            approved.values(key, label_key).annotate(total=Sum("approved_amount")).order_by(label_key)
        ):
            rows[item[key]] = PayoutRow(item[label_key], granted=item["total"])
        for item in stages.values(f"application__{key}").annotate(total=Sum("amount")):
            rows[item[f"application__{key}"]].paid = item["total"]
        tables.append(PayoutTable(str(title), dimension, list(rows.values())))
    months: dict[Any, PayoutRow] = {}
    for item in (
        approved.annotate(month=TruncMonth("decided_at"))
        .values("month")
        .annotate(total=Sum("approved_amount"))
    ):
        month = item["month"].date() if hasattr(item["month"], "date") else item["month"]
        months.setdefault(month.replace(day=1), PayoutRow(month.strftime("%Y-%m"))).granted += item["total"]
    for item in stages.annotate(month=TruncMonth("paid_on")).values("month").annotate(total=Sum("amount")):
        month = item["month"]
        month = month.date() if hasattr(month, "date") else month
        months.setdefault(month.replace(day=1), PayoutRow(month.strftime("%Y-%m"))).paid += item["total"]
    tables.append(PayoutTable(str(_("按月份")), "month", [months[key] for key in sorted(months)]))
    return tables
