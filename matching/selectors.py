"""Reads of the matching app: BenefitSpecs from policy rows, stored results, live explanations."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db import connection
from django.db.models import Q, QuerySet

from enterprises.facts import facts_for, region_codes
from enterprises.models import Enterprise, EnterpriseChange
from matching.dependencies import BenefitIndex
from matching.engine import BenefitSpec, ConditionError, Reason, Status, Verdict, compile_condition, explain
from matching.engine.conditions import CompiledCondition
from matching.engine.verdict import input_codes
from matching.models import (
    OUT_OF_SCOPE_BASE,
    STATUS_BADGES,
    JobChunk,
    JobRun,
    MatchChange,
    MatchItemResult,
    MatchResult,
    Notice,
    OutOfScopeResult,
    WebhookDelivery,
    WebhookSubscription,
)
from matching.scenarios import spec_from_rows
from policies import selectors as policy_selectors
from policies.models import (
    Benefit,
    Clause,
    ExclusionGroup,
    FactDefinition,
    ItemKind,
    PolicyChange,
    PolicyDocument,
    Region,
)
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


# What the engine reads of the policy data: documents, clauses, benefits, exclusion groups, the fact
# catalog, item kinds and the region tree. Each table is summed as its row count and the sum of its
# rows' xmin (the id of the transaction that last wrote each row): any write moves it — through the
# services, the admin, update() or raw SQL — also within the writing transaction, and a write rolled
# back leaves it where it was, so a set built inside a transaction that rolled back is never taken
# again. About a thousand small rows: well under a millisecond (bench/README.md, "One enterprise").
POLICY_TABLES = tuple(
    model._meta.db_table
    for model in (PolicyDocument, Clause, Benefit, ExclusionGroup, FactDefinition, ItemKind, Region)
)
POLICY_VERSION_SQL = "SELECT " + " || '/' || ".join(
    f"(SELECT count(*)::text || ':' || coalesce(sum(xmin::text::bigint), 0)::text FROM {table})"
    for table in POLICY_TABLES
)


def policy_version() -> str | None:
    """A token that differs whenever the policy data the engine reads may have changed (benefits,
    clauses, documents, exclusion groups, fact definitions, item kinds, the region tree), however
    written, also within the transaction that wrote it; None when it cannot be told (not PostgreSQL):
    then nothing may be kept. The one place that says what "policy data unchanged" means (policy_set() below)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(POLICY_VERSION_SQL)
        return cursor.fetchone()[0]


# ---------------------------------------------------------------- the policy set, kept per process
#
# Reading the policy rows and compiling every condition against the catalog (`within` region
# expansions above all) took most of the time of re-evaluating one enterprise, and a drain did it
# twice (bench/README.md). policy_set() keeps them per process: it reads policy_version() first and
# returns the kept set when that token is the one it was built under, otherwise builds a new one
# (kept only when the token, read again after building, is still the same). So a kept set never
# holds data older than its token, and a token seen in a transaction that rolled back is never seen
# again (it names the writing transaction). Without a token (SQLite) every call builds.


@dataclass
class PolicySet:
    """The policy data as the engine needs it: every benefit spec, the fact catalog, each benefit's
    compiled condition and the facts it reads, the fact → benefits index, the region codes of the
    fact derivations. Read-only: callers must not change the specs, the catalog's definitions or
    the compiled conditions (they are shared by every evaluation of the process)."""

    version: str | None
    specs: list[BenefitSpec]  # every benefit, in id order
    catalog: dict[str, FactDefinition]
    compiled: dict[int, CompiledCondition]  # benefit id -> its condition, for those that compile
    codes: dict[int, list[str]]  # benefit id -> the facts it reads (condition and amount), sorted
    broken: dict[int, str]  # benefit id -> why its rule does not compile against the catalog
    regions: dict[tuple[str, str], str]  # enterprises.facts.region_codes()
    by_id: dict[int, BenefitSpec] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {spec.row_id: spec for spec in self.specs}

    @classmethod
    def build(cls, version: str | None) -> PolicySet:
        specs = benefit_specs()
        facts = catalog()
        compiled, codes, broken = {}, {}, {}
        for spec in specs:
            try:
                condition = compile_condition(spec.condition, facts)
                codes[spec.row_id] = input_codes(spec, condition, facts)
            except (ConditionError, KeyError) as exc:  # a poison row is reported, not failing every chunk
                broken[spec.row_id] = f"{spec.global_key}: {exc}"[:1000]
            else:
                compiled[spec.row_id] = condition
        return cls(version, specs, facts, compiled, codes, broken, region_codes())

    def select(self, benefit_ids: Iterable[int] | None) -> list[BenefitSpec]:
        """The specs of `benefit_ids` (None: all) that exist, in id order."""
        if benefit_ids is None:
            return list(self.specs)
        wanted = set(benefit_ids)
        return [spec for spec in self.specs if spec.benefit_id in wanted]

    def usable(self, specs: Iterable[BenefitSpec]) -> tuple[list[BenefitSpec], dict[int, str]]:
        """The specs whose rule compiles against the catalog, and why each other one does not (from
        what is compiled already)."""
        usable, broken = [], {}
        for spec in specs:
            if spec.benefit_id in self.compiled:
                usable.append(spec)
            else:
                broken[spec.row_id] = self.broken[spec.row_id]
        return usable, broken

    def facts_read(self, specs: Iterable[BenefitSpec]) -> list[str]:
        """engine.facts_read of usable specs, from what is compiled already."""
        return sorted(set().union(*(self.codes[spec.row_id] for spec in specs)))

    @cached_property
    def index(self) -> BenefitIndex:
        """fact → the benefits reading it, over the benefits that compile."""
        return BenefitIndex.build(self.usable(self.specs)[0], self.catalog)


_kept_lock = threading.Lock()
_kept: PolicySet | None = None


def policy_set() -> PolicySet:
    """The policy set of the data this transaction sees (kept per process while unchanged)."""
    global _kept
    version = policy_version()
    kept = _kept
    if version is not None and kept is not None and kept.version == version:
        return kept
    built = PolicySet.build(version)
    if version is not None and policy_version() == version:
        with _kept_lock:
            _kept = built
    return built


def forget_policy_set() -> None:
    """Drop the kept set (tests)."""
    global _kept
    with _kept_lock:
        _kept = None


def verdicts_for(
    enterprise: Enterprise,
    as_of: dt.date,
    benefit_ids: list[int] | None = None,
    *,
    specs: list[BenefitSpec] | None = None,
    policies: PolicySet | None = None,
) -> list[Verdict]:
    """Benefits (all, those of `benefit_ids`, or `specs`) explained for one enterprise from its
    current facts: full reasons, ready for gap analysis and stacking. The specs, catalog and
    compiled conditions come from `policies` (default: policy_set()); a spec passed in that
    is not one of its own is compiled here."""
    if policies is None:
        policies = policy_set()
    facts = policies.catalog
    sheet = facts_for(enterprise, as_of, catalog=facts, regions=policies.regions)
    if specs is None:
        specs = policies.select(benefit_ids)
    return [
        explain(
            spec,
            sheet.values,
            as_of=as_of,
            catalog=facts,
            sources=sheet.sources,
            items=sheet.items.get(spec.per_item or "", []),
            compiled=policies.compiled.get(spec.row_id) if policies.by_id.get(spec.row_id) is spec else None,
        )
        for spec in specs
    ]


def out_of_scope_after(
    results: QuerySet[OutOfScopeResult], position: int | None
) -> QuerySet[OutOfScopeResult]:
    """Out-of-scope results after a position (None or a stored row's id: from the first), in position
    order: by (enterprise, benefit), which the records' primary key serves."""
    results = results.order_by("enterprise_id", "benefit_id")
    if position is None or position < OUT_OF_SCOPE_BASE:
        return results
    enterprise_id, benefit_id = OutOfScopeResult.pair(position)
    return results.filter(enterprise_id__gte=enterprise_id).exclude(
        enterprise_id=enterprise_id, benefit_id__lte=benefit_id
    )


def out_of_scope_result(position: int) -> Q | None:
    """The lookup of the out-of-scope result at this position (an id), or None for a stored row's id."""
    if position < OUT_OF_SCOPE_BASE:
        return None
    enterprise_id, benefit_id = OutOfScopeResult.pair(position)
    return Q(enterprise_id=enterprise_id, benefit_id=benefit_id)


def is_current(result: MatchResult | OutOfScopeResult, verdict: Verdict) -> bool:
    """The stored result says what the enterprise's facts say now (else a re-evaluation is on its way)."""
    if result.out_of_scope:  # its verdict holds whatever the benefit's own inputs are
        return verdict.out_of_scope and verdict.leaf_outcomes == result.leaf_outcomes
    return verdict.fingerprint == result.fingerprint


def explain_match(result: MatchResult | OutOfScopeResult) -> Verdict:
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
    reasons: dict[tuple[int | None, int], tuple[Reason, ...]] = {}  # (benefit, item)
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


def results_for_enterprise(enterprise_id: int) -> list[MatchResult | OutOfScopeResult]:
    """Every stored verdict of an enterprise by benefit: its result rows and its out-of-scope ones."""
    rows: list[MatchResult | OutOfScopeResult] = [
        *MatchResult.objects.filter(enterprise_id=enterprise_id).select_related("benefit__clause__document"),
        *OutOfScopeResult.objects.filter(enterprise_id=enterprise_id).select_related(
            "benefit__clause__document"
        ),
    ]
    return sorted(rows, key=lambda row: row.benefit_id)


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
