"""The output definition of match results and change-feed items: the one place that says what a
match result, a change and a snapshot item look like.

- The serializers are the contract: the OpenAPI schema is derived from them, the detail
  (`/matches/{id}/`) and a single change are rendered by them.
- `RowBuilder` renders the same fields for lists without a serializer per row (~140 µs a row, which
  a 60-result page and a full sync of millions of rows cannot afford): list rows, change-feed items,
  snapshot items (as dicts and as JSON text) and the changes of webhook deliveries
  (`change_items`, called by matching.notifications through settings.MATCHING_CHANGE_ITEMS).
  test_api_feed.py compares each with its serializer; test_api_webhook_payloads.py validates
  webhook changes against the schema.
- PostgreSQL writes snapshot items itself (snapshot_sql.py), compared with this module's output in
  test_api_snapshot_sql.py.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enterprises.catalog import to_json
from matching import selectors as matching_selectors
from matching.engine import Outcome, Verdict
from matching.models import MatchChange, MatchResult, MatchStatus
from policies.models import Benefit
from policies.rules import parse, requirement
from portal.api.base import bilingual
from portal.api.fields import MoneyField, WanField, wan_text

OUTCOMES = {Outcome.MET.letter: "met", Outcome.UNMET.letter: "unmet", Outcome.UNKNOWN.letter: "unknown"}
SNAPSHOT = "snapshot"  # the cause of a snapshot item: a current result, not a change


class BenefitRefSerializer(serializers.ModelSerializer):
    global_key = serializers.CharField(read_only=True, help_text="全局标识 Global key")
    document_title = serializers.CharField(source="clause.document.title", read_only=True)
    clause_number = serializers.CharField(source="clause.number", read_only=True)

    class Meta:
        model = Benefit
        fields = ["id", "global_key", "name", "kind", "document_title", "clause_number"]


class BenefitKeySerializer(serializers.ModelSerializer):
    global_key = serializers.CharField(
        read_only=True,
        help_text="全局标识（详情见 /api/v1/benefits/{id}/）Global key; details at /api/v1/benefits/{id}/",
    )

    class Meta:
        model = Benefit
        fields = ["id", "global_key"]


class CitationSerializer(serializers.Serializer):
    document_key = serializers.CharField(help_text="文件标识 Document key")
    document_title = serializers.CharField(help_text="文件标题 Document title")
    clause_number = serializers.CharField(help_text="条款编号 Clause number as printed")
    quote = serializers.CharField(help_text="原文引语 The words quoted")


class ReasonSerializer(serializers.Serializer):
    fact = serializers.CharField(help_text=bilingual("事实代码。", "Fact code."))
    requirement = serializers.CharField(help_text=bilingual("条件的文字表述。", "The condition in words."))
    outcome = serializers.ChoiceField(
        choices=["met", "unmet", "unknown"],
        allow_null=True,
        help_text=bilingual(
            "met 满足；unmet 不满足；unknown 缺少信息。",
            "met, unmet, or unknown (a fact is missing); null if the benefit changed since.",
        ),
    )
    citation = CitationSerializer()


class ExplainedReasonSerializer(ReasonSerializer):
    value = serializers.JSONField(
        allow_null=True, help_text=bilingual("企业的值；null 表示未知。", "The value; null: unknown.")
    )
    value_text = serializers.CharField(help_text=bilingual("企业的值（文字）。", "The value in words."))
    source = serializers.CharField(help_text=bilingual("值的来源代码。", "Where the value came from (code)."))
    source_text = serializers.CharField(help_text=bilingual("值的来源。", "Where the value came from."))


def benefit_conditions(benefit: Benefit, catalog) -> list[dict]:
    """Each condition of a benefit in words with its citation, in `leaves` order (the same for every
    result of the benefit: prepared once per benefit and request). The document's applicability comes
    first, as the engine evaluates it (matching.scenarios.spec_from_rows); a leaf naming its clause cites it."""
    document = benefit.clause.document
    condition = benefit.condition
    if document.applicability:
        condition = {"all": [document.applicability, condition]} if condition else document.applicability
    return [
        {
            "fact": leaf.fact,
            "requirement": requirement(leaf, catalog[leaf.fact]),
            "citation": {
                "document_key": document.key,
                "document_title": document.title,
                "clause_number": leaf.clause or benefit.clause.number,
                "quote": leaf.quote,
            },
        }
        for leaf in parse(condition, catalog).leaves
    ]


def stored_reasons(leaf_outcomes: str, conditions: list[dict], *, out_of_scope: bool = False) -> list[dict]:
    """Reasons from the stored outcome string (one letter per condition, in `leaves` order); when the
    benefit's conditions changed since, the outcomes are unknown (null). An out-of-scope result's
    letters are those of the document's applicability only, the first conditions: the others were
    not asked (matching.engine.Verdict.out_of_scope)."""
    if out_of_scope:
        conditions = conditions[: len(leaf_outcomes)]
    letters = leaf_outcomes if len(leaf_outcomes) == len(conditions) else ""
    return [
        {
            "fact": condition["fact"],
            "requirement": condition["requirement"],
            "outcome": OUTCOMES.get(letters[index]) if letters else None,
            "citation": condition["citation"],
        }
        for index, condition in enumerate(conditions)
    ]


def explained_reasons(verdict: Verdict, catalog) -> list[dict]:
    """Reasons of a live verdict: each condition with the enterprise's value and its source."""
    rows = []
    for reason in verdict.reasons:
        fact = catalog.get(reason.fact)
        citation = reason.citation
        rows.append(
            {
                "fact": reason.fact,
                "requirement": reason.requirement,
                "outcome": OUTCOMES[reason.outcome.letter],
                "citation": {
                    "document_key": citation.document_key,
                    "document_title": citation.document_title,
                    "clause_number": citation.clause_number,
                    "quote": citation.quote,
                },
                "value": to_json(fact.type, reason.value) if fact is not None else None,
                "value_text": reason.value_text,
                "source": reason.source,
                "source_text": reason.source_text,
            }
        )
    return rows


MONEY_HELP = bilingual(
    "预估金额（元，两位小数的字符串）；null 表示无法估算，不是 0。",
    "Estimated yuan; null: no figure (not 0).",
)


class MatchResultSerializer(serializers.ModelSerializer):
    benefit = BenefitRefSerializer(read_only=True)
    status_label = serializers.CharField(
        source="get_status_display", read_only=True, help_text="结论名称 Status label"
    )
    amount = MoneyField(read_only=True, help_text=MONEY_HELP)
    amount_wan = WanField(
        source="amount", help_text=bilingual("预估金额（万元）。", "Estimated amount in 万元.")
    )
    reasons = serializers.SerializerMethodField(
        help_text=bilingual(
            "逐项条件的结果及其原文出处。", "Each condition's outcome and the words it rests on."
        )
    )

    class Meta:
        model = MatchResult
        fields = [
            "id", "enterprise", "benefit", "status", "status_label", "score", "amount", "amount_wan",
            "amount_basis", "leaf_outcomes", "reasons", "benefit_version", "engine_version", "as_of",
            "evaluated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "enterprise": {"help_text": bilingual("企业 id。", "Enterprise id.")},
            "score": {"help_text": bilingual("匹配度 0-100。", "Score 0-100.")},
            "amount_basis": {
                "help_text": bilingual(
                    "金额依据：fixed 定额、computed 按比例计算、capped 达到上限、up_to_cap 最高可达上限、"
                    "base_unknown 缺计算基数、not_fixed 原文未定金额、non_monetary 非资金、not_applicable 不适用。",
                    "Where the figure comes from.",
                )
            },
            "leaf_outcomes": {
                "help_text": bilingual(
                    "每项条件一个字母：v 满足，x 不满足，? 未知。", "v met, x unmet, ? unknown."
                )
            },
            "as_of": {"help_text": bilingual("评估日期。", "Date evaluated on.")},
            "evaluated_at": {
                "help_text": bilingual("最近一次结论或输入变化的时间。", "When last re-evaluated.")
            },
        }

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, result: MatchResult) -> list[dict]:
        return stored_reasons(
            result.leaf_outcomes,
            benefit_conditions(result.benefit, self.context["catalog"]),
            out_of_scope=result.out_of_scope,
        )


class MatchResultDetailSerializer(MatchResultSerializer):
    up_to_date = serializers.SerializerMethodField(
        help_text=bilingual(
            "企业资料自评估后未变（否则新结论稍后由后台更新）。",
            "False when the enterprise's facts changed since; a background job re-evaluates soon.",
        )
    )
    missing_facts = serializers.SerializerMethodField(
        help_text=bilingual(
            "补充这些事实即可得出结论或金额。", "Facts that would settle the verdict or its amount."
        )
    )

    class Meta(MatchResultSerializer.Meta):
        fields = [*MatchResultSerializer.Meta.fields, "up_to_date", "missing_facts"]

    @extend_schema_field(ExplainedReasonSerializer(many=True))
    def get_reasons(self, result: MatchResult) -> list[dict]:
        return explained_reasons(self.context["verdict"], self.context["catalog"])

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_up_to_date(self, result: MatchResult) -> bool:
        return matching_selectors.is_current(result, self.context["verdict"])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_missing_facts(self, result: MatchResult) -> list[str]:
        return list(self.context["verdict"].missing_facts)


class ChangeSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=bilingual(
            "变化 id；快照中的当前结果为 null。", "Change id; null for a current result in a snapshot."
        ),
    )
    benefit = BenefitKeySerializer(read_only=True)
    old_status = serializers.ChoiceField(
        choices=MatchStatus.choices,
        read_only=True,
        allow_null=True,
        help_text=bilingual("原结论；快照中为 null。", "Previous status; null in a snapshot."),
    )
    old_amount = MoneyField(read_only=True, help_text=bilingual("原金额（元）。", "Previous amount (yuan)."))
    old_amount_wan = WanField(source="old_amount", help_text="原金额（万元）Previous amount in 万元")
    new_amount = MoneyField(read_only=True, help_text=bilingual("新金额（元）。", "New amount (yuan)."))
    new_amount_wan = WanField(source="new_amount", help_text="新金额（万元）New amount in 万元")

    class Meta:
        model = MatchChange
        fields = [
            "id", "enterprise", "benefit", "old_status", "new_status", "old_amount", "old_amount_wan",
            "new_amount", "new_amount_wan", "cause", "as_of", "created_at",
        ]  # fmt: skip
        extra_kwargs = {
            "cause": {
                "help_text": bilingual(
                    "变化原因：enterprise_data 企业资料变化，policy 政策变化，date 日期变化（政策生效或到期），"
                    "rerun 全部重新评估；snapshot 表示快照中的当前结果（不是变化）。",
                    "What triggered the re-evaluation: enterprise_data, policy, date (a policy came into "
                    "or went out of force), rerun (everything re-evaluated); snapshot: a current result "
                    "sent by a snapshot, not a change.",
                )
            },
            "created_at": {"help_text": bilingual("记录时间。", "Recorded at.")},
        }


# --- rows for lists -------------------------------------------------------------------------------------
# Lists build their rows as plain dicts, field for field what the serializers above return
# (test_api_feed compares both).

_MONEY = MoneyField()
_DATE = serializers.DateField()


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if value.as_tuple().exponent == -2:  # as stored (numeric(16, 2)): nothing to round
        return f"{value:f}"
    return _MONEY.to_representation(value)


def timestamp(value: dt.datetime, zone) -> str:
    """As DRF's DateTimeField writes it (ISO 8601 in the current time zone, "Z" for UTC)."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class RowBuilder:
    """Per request: each benefit's reference and conditions prepared once, status labels translated once."""

    def __init__(self, catalog) -> None:
        self.catalog = catalog
        self.status_labels = {status.value: str(status.label) for status in MatchStatus}
        self.zone = timezone.get_current_timezone()
        self._keys: dict[int, dict] = {}
        self._benefits: dict[int, Benefit] = {}
        self._refs: dict[int, dict] = {}
        self._conditions: dict[int, list[dict]] = {}
        # Rows of a page share few distinct amounts, dates and times (a run writes many at once):
        # each is formatted once.
        self._amounts: dict[Decimal | None, tuple[str | None, str | None]] = {None: (None, None)}
        self._times: dict[dt.datetime, str] = {}
        self._dates: dict[dt.date, str] = {}
        self._json: dict[object, str] = {}

    def amount(self, value: Decimal | None) -> tuple[str | None, str | None]:
        """(yuan, 万元) strings."""
        texts = self._amounts.get(value)
        if texts is None:
            texts = self._amounts[value] = (money(value), wan_text(value))
        return texts

    def time(self, value: dt.datetime) -> str:
        text = self._times.get(value)
        if text is None:
            text = self._times[value] = timestamp(value, self.zone)
        return text

    def date(self, value: dt.date) -> str:
        text = self._dates.get(value)
        if text is None:
            text = self._dates[value] = value.isoformat()
        return text

    def _benefit(self, benefit_id: int) -> Benefit:
        if benefit_id not in self._benefits:
            self.add_benefits([Benefit.objects.select_related("clause__document").get(pk=benefit_id)])
        return self._benefits[benefit_id]

    def add_benefits(self, benefits) -> None:
        for benefit in benefits:
            self._benefits.setdefault(benefit.pk, benefit)

    def load_benefits(self, benefit_ids) -> None:
        """One query for the benefits of a page not seen yet."""
        wanted = set(benefit_ids) - set(self._benefits)
        if wanted:
            # Feed items name a benefit by id and global key only: not its clause's text.
            benefits = Benefit.objects.filter(pk__in=wanted).select_related("clause__document")
            self.add_benefits(benefits.only("key", "clause__number", "clause__document__key"))

    def benefit_ref(self, benefit_id: int) -> dict:
        ref = self._refs.get(benefit_id)
        if ref is None:
            benefit = self._benefit(benefit_id)
            ref = self._refs[benefit_id] = {
                "id": benefit.pk,
                "global_key": benefit.global_key,
                "name": benefit.name,
                "kind": benefit.kind,
                "document_title": benefit.clause.document.title,
                "clause_number": benefit.clause.number,
            }
        return ref

    def benefit_key(self, benefit_id: int) -> dict:
        key = self._keys.get(benefit_id)
        if key is None:
            key = self._keys[benefit_id] = {
                "id": benefit_id,
                "global_key": self._benefit(benefit_id).global_key,
            }
        return key

    def conditions(self, benefit_id: int) -> list[dict]:
        conditions = self._conditions.get(benefit_id)
        if conditions is None:
            conditions = self._conditions[benefit_id] = benefit_conditions(
                self._benefit(benefit_id), self.catalog
            )
        return conditions

    def match(self, result: MatchResult) -> dict:
        return {
            "id": result.pk,
            "enterprise": result.enterprise_id,
            "benefit": self.benefit_ref(result.benefit_id),
            "status": result.status,
            "status_label": self.status_labels.get(result.status, result.status),
            "score": result.score,
            "amount": money(result.amount),
            "amount_wan": wan_text(result.amount),
            "amount_basis": result.amount_basis,
            "leaf_outcomes": result.leaf_outcomes,
            "reasons": stored_reasons(
                result.leaf_outcomes, self.conditions(result.benefit_id), out_of_scope=result.out_of_scope
            ),
            "benefit_version": result.benefit_version,
            "engine_version": result.engine_version,
            "as_of": _DATE.to_representation(result.as_of),
            "evaluated_at": timestamp(result.evaluated_at, self.zone),
        }

    def change(self, row: tuple) -> dict:
        """A row of CHANGE_COLUMNS as the change feed shows it."""
        pk, enterprise, benefit, old_status, new_status, old_amount, new_amount, cause, as_of, created_at = (
            row
        )
        old_yuan, old_wan = self.amount(old_amount)
        new_yuan, new_wan = self.amount(new_amount)
        return {
            "id": pk,
            "enterprise": enterprise,
            "benefit": self.benefit_key(benefit),
            "old_status": old_status,
            "new_status": new_status,
            "old_amount": old_yuan,
            "old_amount_wan": old_wan,
            "new_amount": new_yuan,
            "new_amount_wan": new_wan,
            "cause": cause,
            "as_of": self.date(as_of),
            "created_at": self.time(created_at),
        }

    def benefit_json(self, benefit_id: int) -> str:
        text = self._json.get(benefit_id)
        if text is None:
            text = self._json[benefit_id] = encode(self.benefit_key(benefit_id))
        return text

    def snapshot_json(self, row: tuple) -> str:
        """`snapshot(row)` as JSON text, put together from pieces each encoded once per page: a full sync
        is millions of items, and encoding each dict cost more than building it."""
        _pk, enterprise, benefit, status, amount, as_of, evaluated_at = row
        cache = self._json
        benefit_json = self.benefit_json(benefit)
        status_json = cache.get(status)
        if status_json is None:
            status_json = cache[status] = encode(status)
        amount_json = cache.get(("amount", amount))
        if amount_json is None:
            yuan, wan = self.amount(amount)
            amount_json = cache[("amount", amount)] = (
                f'"new_amount":{encode(yuan)},"new_amount_wan":{encode(wan)}'
            )
        dates_json = cache.get((as_of, evaluated_at))
        if dates_json is None:
            dates_json = cache[(as_of, evaluated_at)] = (
                f'"as_of":{encode(self.date(as_of))},"created_at":{encode(self.time(evaluated_at))}'
            )
        return (
            f'{{"id":null,"enterprise":{int(enterprise)},"benefit":{benefit_json},"old_status":null,'
            f'"new_status":{status_json},"old_amount":null,"old_amount_wan":null,{amount_json},'
            f'"cause":"snapshot",{dates_json}}}'
        )

    def snapshot(self, row: tuple) -> dict:
        """A current result (SNAPSHOT_COLUMNS) as a feed item: no previous state, cause "snapshot"."""
        _pk, enterprise, benefit, status, amount, as_of, evaluated_at = row
        yuan, wan = self.amount(amount)
        return {
            "id": None,
            "enterprise": enterprise,
            "benefit": self.benefit_key(benefit),
            "old_status": None,
            "new_status": status,
            "old_amount": None,
            "old_amount_wan": None,
            "new_amount": yuan,
            "new_amount_wan": wan,
            "cause": SNAPSHOT,
            "as_of": self.date(as_of),
            "created_at": self.time(evaluated_at),
        }


LIST_COLUMNS = (
    *(field.name for field in MatchResult._meta.concrete_fields if field.name != "fingerprint"),
    "benefit__key", "benefit__name", "benefit__kind", "benefit__condition", "benefit__clause__number",
    "benefit__clause__document__key", "benefit__clause__document__title", "benefit__clause__document__applicability",
)  # fmt: skip


def encode(value) -> str:
    """JSON text as the API's renderer writes it (compact, UTF-8 as is)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# The columns each rendering reads.
CHANGE_COLUMNS = (
    "pk", "enterprise_id", "benefit_id", "old_status", "new_status", "old_amount", "new_amount", "cause",
    "as_of", "created_at",
)  # fmt: skip
SNAPSHOT_COLUMNS = ("pk", "enterprise_id", "benefit_id", "status", "amount", "as_of", "evaluated_at")


def change_row(change: MatchChange) -> tuple:
    """A loaded change as a row of CHANGE_COLUMNS."""
    return (
        change.pk, change.enterprise_id, change.benefit_id, change.old_status, change.new_status,
        change.old_amount, change.new_amount, change.cause, change.as_of, change.created_at,
    )  # fmt: skip


def change_items(changes: list[MatchChange]) -> list[dict]:
    """The changes of a webhook delivery, each exactly as the change feed shows it (GET /api/v1/changes/{id}/),
    in the portal's time zone (the reader is not known here; the API's default too)."""
    with timezone.override(None):
        rows = RowBuilder(catalog=None)
        rows.add_benefits(change.benefit for change in changes)
        return [rows.change(change_row(change)) for change in changes]
