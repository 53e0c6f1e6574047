"""Reads of the matching app: BenefitSpecs from policy rows, stored results, live explanations."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from enterprises.facts import facts_for
from enterprises.models import Enterprise, EnterpriseChange
from matching.engine import BenefitSpec, Reason, Status, Verdict, explain
from matching.models import (
    STATUS_BADGES,
    JobChunk,
    JobRun,
    MatchChange,
    MatchItemResult,
    MatchResult,
    Notice,
    WebhookDelivery,
    WebhookSubscription,
)
from matching.scenarios import spec_from_rows
from policies import selectors as policy_selectors
from policies.models import Benefit, FactDefinition, PolicyChange, PolicyDocument
from policies.money import wan
from policies.supersession import superseded_dates

BENEFIT_FIELDS = (
    "key", "name", "kind", "cap", "amount", "ratio", "base_fact", "instalments", "recurrence",
    "requires_recognition", "recognition_phrase", "amount_quote", "stacking_group", "valid_from",
    "valid_to", "condition", "amount_rule", "exclusion_groups", "per_item",
)  # fmt: skip


DOCUMENT_FIELDS = ("key", "title", "status", "effective_from", "effective_to", "applicability")


def _superseded() -> dict:
    """Document key → the date a replacing document takes effect (policies/supersession.py)."""
    return superseded_dates(PolicyDocument.objects.values("status", "effective_from", "supersedes"))


def spec_for(benefit: Benefit) -> BenefitSpec:
    """The engine's view of a Benefit row (with its clause and document loaded)."""
    clause, document = benefit.clause, benefit.clause.document
    return spec_from_rows(
        {name: getattr(document, name) for name in DOCUMENT_FIELDS},
        {"number": clause.number, "text": clause.text},
        {name: getattr(benefit, name) for name in BENEFIT_FIELDS},
        version=benefit.version,
        benefit_id=benefit.pk,
        superseded_from=_superseded().get(document.key),
    )


def benefit_specs(benefit_ids: list[int] | None = None) -> list[BenefitSpec]:
    """Every benefit (or those of `benefit_ids`) in id order, in one query of plain values."""
    benefits = Benefit.objects.order_by("pk")
    if benefit_ids is not None:
        benefits = benefits.filter(pk__in=benefit_ids)
    document_fields = [f"clause__document__{name}" for name in DOCUMENT_FIELDS]
    rows = benefits.values(
        "pk", "version", *BENEFIT_FIELDS, "clause__number", "clause__text", *document_fields
    )
    replaced = _superseded()
    return [
        spec_from_rows(
            {name: row[f"clause__document__{name}"] for name in DOCUMENT_FIELDS},
            {"number": row["clause__number"], "text": row["clause__text"]},
            row,
            version=row["version"],
            benefit_id=row["pk"],
            superseded_from=replaced.get(row["clause__document__key"]),
        )
        for row in rows
    ]


def catalog() -> dict[str, FactDefinition]:
    return policy_selectors.catalog()


def verdicts_for(
    enterprise: Enterprise,
    as_of: dt.date,
    benefit_ids: list[int] | None = None,
    *,
    specs: list[BenefitSpec] | None = None,
) -> list[Verdict]:
    """Benefits (all, those of `benefit_ids`, or `specs`) explained for one enterprise from its
    current facts: full reasons, ready for gap analysis and stacking."""
    facts = catalog()
    sheet = facts_for(enterprise, as_of, catalog=facts)
    if specs is None:
        specs = benefit_specs(benefit_ids)
    return [
        explain(
            spec,
            sheet.values,
            as_of=as_of,
            catalog=facts,
            sources=sheet.sources,
            items=sheet.items.get(spec.per_item or "", []),
        )
        for spec in specs
    ]


def explain_match(result: MatchResult) -> Verdict:
    """The reasons of a stored result, rendered on read from the enterprise's facts on its date."""
    return verdicts_for(result.enterprise, result.as_of, [result.benefit_id])[0]


@dataclass(frozen=True)
class ItemResult:
    """The stored verdict of a per-item benefit for one item, with its reasons rendered on read."""

    benefit: Benefit
    status: Status
    badge: str
    amount: Decimal | None  # None: not stated or not estimable, never 0
    reasons: tuple[Reason, ...]

    @property
    def status_label(self) -> str:
        return self.status.label

    @property
    def amount_text(self) -> str:
        return "—" if self.amount is None else wan(self.amount)


def item_results_for_enterprise(enterprise: Enterprise) -> dict[int, list[ItemResult]]:
    """item id → the stored per-item results of its benefits (best first). The reasons are those of the
    item's own verdict, rendered from the enterprise's facts on the stored date (one explain per
    per-item benefit, as explain_match does for a pair)."""
    rows = list(
        MatchItemResult.objects.filter(enterprise=enterprise)
        .select_related("benefit")
        .order_by("item_id", "-score", "benefit_id")
    )
    reasons: dict[tuple[int, int], tuple[Reason, ...]] = {}
    for as_of in {row.as_of for row in rows}:
        benefit_ids = sorted({row.benefit_id for row in rows if row.as_of == as_of})
        for verdict in verdicts_for(enterprise, as_of, benefit_ids):
            for entry in verdict.items:
                reasons[(verdict.spec.benefit_id, entry.item_id)] = entry.verdict.reasons
    by_item: dict[int, list[ItemResult]] = {}
    for row in rows:
        status = Status.from_slug(row.status)
        by_item.setdefault(row.item_id, []).append(
            ItemResult(
                benefit=row.benefit,
                status=status,
                badge=STATUS_BADGES.get(row.status, ""),
                amount=row.amount,
                reasons=reasons.get((row.benefit_id, row.item_id), ()),
            )
        )
    return by_item


def results_for_enterprise(enterprise_id: int) -> QuerySet[MatchResult]:
    """Stored results, best first."""
    return (
        MatchResult.objects.filter(enterprise_id=enterprise_id)
        .select_related("benefit__clause__document")
        .order_by("-score", "-amount", "benefit_id")
    )


def changes_for_enterprise(enterprise_id: int) -> QuerySet[MatchChange]:
    return MatchChange.objects.filter(enterprise_id=enterprise_id).select_related("benefit__clause__document")


def backlog() -> dict[str, int]:
    """What waits in the database (the broker's queue length is read by the page separately)."""
    return {
        "pending_enterprises": EnterpriseChange.objects.values("enterprise_id").distinct().count(),
        "pending_policy_rows": PolicyChange.objects.count(),
        "pending_chunks": JobChunk.objects.filter(state=JobChunk.State.PENDING).count(),
        "undispatched_changes": MatchChange.objects.filter(dispatched=False).count(),
    }


def broker_queue_length() -> int | None:
    """Messages waiting in the task queue on the Redis broker; None in the embedded mode or when
    the broker does not answer."""
    from celery import current_app as app  # the project's app (portal/__init__ loads it): no upward import
    from django.conf import settings

    if not settings.CELERY_BROKER_URL:
        return None
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return int(conn.default_channel.client.llen(app.conf.task_default_queue))
    except Exception:  # noqa: BLE001 - the page shows "unknown"
        return None


def recent_jobs(limit: int = 30) -> QuerySet[JobRun]:
    return JobRun.objects.exclude(kind="ping").order_by("-started_at", "-id")[:limit]


def active_webhook_subscriptions() -> QuerySet[WebhookSubscription]:
    """Subscriptions still receiving changes (ended ones are kept for their delivery log)."""
    return WebhookSubscription.objects.filter(active=True)


def webhook_deliveries(subscription_id: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(subscription_id=subscription_id)


def notices_for_enterprise(enterprise_id: int):
    """The enterprise's notices (its applications' events…), newest first."""
    return Notice.objects.filter(enterprise_id=enterprise_id).order_by("-id")
