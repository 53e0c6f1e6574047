"""Match results and the change feed (scope read_matches), limited to the enterprises the caller sees.

A list row carries the stored verdict and its reasons rebuilt from the stored outcome of each
condition (cheap: no facts are read); the detail explains the result from the enterprise's facts,
adding each value and where it came from. Both answer conditional GETs (ETag / If-None-Match).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import django_filters
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from enterprises.catalog import to_json
from matching import selectors as matching_selectors
from matching.engine import Outcome, Verdict
from matching.models import MatchChange, MatchResult, MatchStatus
from policies import selectors as policy_selectors
from policies.models import Benefit, FactDefinition
from policies.rules import parse, requirement
from portal.api import edge, examples
from portal.api.access import access_for
from portal.api.base import ReadOnlyApiViewSet, bilingual
from portal.api.conditional import ConditionalGetMixin, etag_of, is_not_modified, not_modified, tag
from portal.api.fields import MoneyField, WanField, wan_text
from portal.api.pagination import FeedPagination
from portal.api.serializers import InstantFilter, StrictFilterSet
from portal.models import Scope

TAG = "匹配 Matches"
OUTCOMES = {Outcome.MET.letter: "met", Outcome.UNMET.letter: "unmet", Outcome.UNKNOWN.letter: "unknown"}
# Changes younger than this are held back, so that rows of transactions still committing (with
# lower ids) are never skipped by a client that stored the cursor after a higher id.
FEED_SETTLE = dt.timedelta(seconds=2)


class VisibleEnterpriseFilterMixin(StrictFilterSet):
    enterprise = django_filters.NumberFilter(
        method="filter_enterprise",
        help_text=bilingual(
            "企业 id；看不到的企业返回 404。", "Enterprise id; one you may not see is a 404."
        ),
    )

    def filter_enterprise(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # The queryset is already limited to visible enterprises; naming another one is a 404, like its page.
        visible = access_for(self.request).enterprises()
        if not visible.filter(pk=value).exists():
            raise NotFound(_("未找到该企业，或您无权查看。"))
        return queryset.filter(enterprise_id=value)


class MatchResultFilter(VisibleEnterpriseFilterMixin):
    benefit = django_filters.NumberFilter(
        field_name="benefit_id", help_text=bilingual("扶持项目 id。", "Benefit id.")
    )
    document = django_filters.CharFilter(
        field_name="benefit__clause__document__key", help_text=bilingual("政策文件标识。", "Document key.")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=MatchStatus.choices, help_text=bilingual("结论，可重复。", "Status; repeat for several.")
    )
    min_amount = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="gte",
        help_text=bilingual("预估金额不低于（元）。", "Estimated amount at least (yuan)."),
    )
    changed_since = InstantFilter(
        field_name="evaluated_at",
        lookup_expr="gte",
        help_text=bilingual(
            "只返回此后结论或输入有变化、重新评估的结果（ISO 8601）。",
            "Only results re-evaluated since (their inputs changed), ISO 8601.",
        ),
    )

    class Meta:
        model = MatchResult
        fields = ["enterprise", "benefit", "document", "status", "min_amount", "changed_since"]


class ChangeFilter(VisibleEnterpriseFilterMixin):
    benefit = django_filters.NumberFilter(
        field_name="benefit_id", help_text=bilingual("扶持项目 id。", "Benefit id.")
    )
    since = InstantFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text=bilingual("只返回此后记录的变化（ISO 8601）。", "Only changes recorded since (ISO 8601)."),
    )
    snapshot = django_filters.BooleanFilter(
        method="filter_snapshot",
        help_text=bilingual(
            "true：先逐页给出当前的全部结果（cause 为 snapshot），最后一页的 next_cursor 接上此后的变化。"
            "首次同步用它，之后只用 ?cursor=。",
            "true: first every current result, page by page (cause snapshot); the last page's next_cursor "
            "continues with the changes since. Use it for the first sync, then ?cursor= only.",
        ),
    )

    class Meta:
        model = MatchChange
        fields = ["enterprise", "benefit", "since", "snapshot"]

    def filter_snapshot(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # chooses the mode (ChangeViewSet.list), filters nothing


# --- serializers ----------------------------------------------------------------------------------------


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


def stored_reasons(leaf_outcomes: str, conditions: list[dict]) -> list[dict]:
    """Reasons from the stored outcome string (one letter per condition, in `leaves` order); when the
    benefit's conditions changed since, the outcomes are unknown (null)."""
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
            result.leaf_outcomes, benefit_conditions(result.benefit, self.context["catalog"])
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
        return self.context["verdict"].fingerprint == result.fingerprint

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
# Lists build their rows as plain dicts, field for field what the serializers above return (they stay
# the documented contract; test_api_contract compares both): a DRF serializer costs ~100 µs per row,
# which a 60-result page, and a full sync of millions of rows, cannot afford.

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
            "reasons": stored_reasons(result.leaf_outcomes, self.conditions(result.benefit_id)),
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


SNAPSHOT = "snapshot"
CHANGE_COLUMNS = (
    "pk", "enterprise_id", "benefit_id", "old_status", "new_status", "old_amount", "new_amount", "cause",
    "as_of", "created_at",
)  # fmt: skip
# A snapshot item as PostgreSQL writes it, byte for byte what RowBuilder.snapshot_json writes (tested):
# a full sync is 6,000,000 items, and converting each row's amount and date to Python objects and
# back to text cost more than the query. Python puts in the benefit ({"id", "global_key"}, encoded
# once per page) and the time (formatted once per distinct value: a run writes many rows at once).
# Money: numeric(16, 2) as text has its two decimals; 万元 rounds half away from zero as wan_text does.
SNAPSHOT_HEAD_SQL = """'{"id":null,"enterprise":' || matching_matchresult.enterprise_id || ',"benefit":'"""
SNAPSHOT_TAIL_SQL = """
',"old_status":null,"new_status":' || to_json(matching_matchresult.status)::text
|| ',"old_amount":null,"old_amount_wan":null,"new_amount":'
|| COALESCE('"' || matching_matchresult.amount::text || '"', 'null')
|| ',"new_amount_wan":'
|| COALESCE('"' || round(matching_matchresult.amount / 10000, 2)::text || ' 万元"', 'null')
|| ',"cause":"snapshot","as_of":"' || to_char(matching_matchresult.as_of, 'YYYY-MM-DD') || '","created_at":'
"""


def snapshot_sql_pieces(results: QuerySet) -> QuerySet:
    """(pk, benefit id, text before the benefit, text after it up to the time, the time) of each result."""
    return results.annotate(
        head=RawSQL(SNAPSHOT_HEAD_SQL, ()), tail=RawSQL(SNAPSHOT_TAIL_SQL, ())
    ).values_list("pk", "benefit_id", "head", "tail", "evaluated_at")


SNAPSHOT_COLUMNS = ("pk", "enterprise_id", "benefit_id", "status", "amount", "as_of", "evaluated_at")


# --- the match list's ETag -------------------------------------------------------------------------------
# A page of the list is a function of: the stored columns of its rows (those shown, and those of
# their benefit, clause and document), the fact catalog (labels and units in the reasons), the
# language, time zone, media type and URL (the `next` link), and the code that renders it. The
# ETag is a hash of all of these, read by one query over the page's rows and one over the catalog —
# not of the body, which costs far more to build than to send.

DIGEST_COLUMNS = (
    "pk", "enterprise_id", "benefit_id", "status", "score", "amount", "amount_basis", "leaf_outcomes",
    "benefit_version", "engine_version", "as_of", "evaluated_at", "benefit__key", "benefit__name",
    "benefit__kind", "benefit__version", "condition_text", "benefit__clause__number",
    "benefit__clause__document__key", "benefit__clause__document__title", "benefit__clause__document__applicability",
)  # fmt: skip
BODY_CACHE_SECONDS = 600
_CODE_FILES = ("portal/api/v1/matches.py", "portal/api/fields.py", "portal/api/pagination.py",
               "policies/rules/render.py", "policies/rules/parse.py", "policies/rules/values.py")  # fmt: skip


def digest_rows(window: QuerySet) -> QuerySet:
    # JSON read as text: decoding every condition would cost more than the rest of the query.
    return window.annotate(condition_text=Cast("benefit__condition", TextField())).values_list(
        *DIGEST_COLUMNS
    )


def catalog_digest_rows() -> QuerySet:
    """What the reasons' wording reads of each fact (policies.rules: label, type, unit, choice labels)."""
    return (
        FactDefinition.objects.annotate(choices_text=Cast("choices", TextField()))
        .order_by("pk")
        .values_list("pk", "code", "type", "unit", "label_zh", "label_en", "choices_text")
    )


@functools.cache
def rendering_version() -> str:
    """The code and translations that turn rows into a page: a new release may render differently."""
    root = Path(settings.BASE_DIR)
    files = [root / name for name in _CODE_FILES]
    files += sorted(root.glob("locale/*/LC_MESSAGES/*.mo")) + sorted(root.glob("*/locale/*/LC_MESSAGES/*.mo"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def list_etag(request, window: QuerySet) -> str:
    """Two queries: the page's rows (one more than the page, as the page reads them) and the catalog."""
    state = (
        rendering_version(),
        request.accepted_media_type,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        request.build_absolute_uri(),
        list(catalog_digest_rows()),
        list(digest_rows(window)),
    )
    return etag_of(repr(state))


def body_cache_key(access, etag: str) -> str:
    """Per caller as well: a body is never served to another key or user, even one seeing the same rows."""
    return f"api:v1:matches:{access.client_id}:{etag}"


# --- views ----------------------------------------------------------------------------------------------

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=bilingual("上次得到的 ETag；未变化时返回 304。", "The ETag you have; 304 when unchanged."),
)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="匹配结果 Match results",
        description=(
            "只含在评估日有效的扶持项目。按企业、项目、结论、最低金额、变化时间筛选；游标分页；"
            "带 If-None-Match 可得 304。"
            "Only benefits in force on the evaluation date. Filter by enterprise, benefit, status, minimum "
            "amount, changed since; cursor pages; send If-None-Match for a 304."
        ),
        parameters=[IF_NONE_MATCH],
        examples=[examples.reply("厂房租赁补贴 Factory lease", examples.MATCH)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一条匹配结果及理由 One result, explained",
        description=(
            "每项条件附企业的值、来源和原文出处。Each condition with the enterprise's value, its source and citation."
        ),
        parameters=[IF_NONE_MATCH],
        examples=[examples.reply("厂房租赁补贴 Factory lease", examples.MATCH_DETAIL)],
    ),
)
class MatchResultViewSet(ConditionalGetMixin, ReadOnlyApiViewSet):
    scopes = (Scope.READ_MATCHES,)
    filterset_class = MatchResultFilter

    def get_queryset(self):
        return self.access.restrict(MatchResult.objects.select_related("benefit__clause__document"))

    def get_serializer_class(self):
        return MatchResultDetailSerializer if self.action == "retrieve" else MatchResultSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "catalog": policy_selectors.catalog()}

    def list(self, request, *args, **kwargs):
        window = self.paginator.window(self.filter_queryset(self.get_queryset()), request)
        # JSON only: the browsable page shows who is signed in.
        cached = type(request.accepted_renderer) is JSONRenderer
        if cached:
            # What the page is made of, read without building it: a syncing client's unchanged
            # page is a 304 after these two small queries, and another request's a cached body.
            etag = list_etag(request, window)
            if is_not_modified(request, etag):
                return not_modified(etag)
            body = cache.get(body_cache_key(self.access, etag))
            if body is not None:
                return self._storable(tag(HttpResponse(body, content_type=JSONRenderer.media_type), etag))
        # Only the columns a row shows: a clause's text and a document's other fields are long.
        page = self.paginator.paginate_window(window.only(*LIST_COLUMNS))
        rows = RowBuilder(policy_selectors.catalog())
        rows.add_benefits(result.benefit for result in page)
        response = self.get_paginated_response([rows.match(result) for result in page])
        if not cached or list_etag(request, window) != etag:
            return response  # changed while being read: tagged by a hash of the body (the mixin)
        body = request.accepted_renderer.render(
            response.data, request.accepted_media_type, self.get_renderer_context()
        )
        cache.set(body_cache_key(self.access, etag), body, BODY_CACHE_SECONDS)
        return self._storable(tag(HttpResponse(body, content_type=JSONRenderer.media_type), etag))

    def _storable(self, response: HttpResponse) -> HttpResponse:
        """A page read consistently, for a machine key: the edge cache may replay it (portal/api/edge.py).
        Keys acting for a person are left to Django: their visibility follows the person's memberships."""
        key = self.access.key
        if key is not None and self.access.user is None:
            edge.mark_storable(self.request, key_id=key.pk, rate_limit=key.rate_limit, response=response)
        return response

    def retrieve(self, request, *args, **kwargs):
        result = self.get_object()
        context = {**self.get_serializer_context(), "verdict": matching_selectors.explain_match(result)}
        return Response(MatchResultDetailSerializer(result, context=context).data)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="变化订阅 Change feed",
        description=(
            "结论或金额的每次变化，按记录顺序。增量同步：保存返回的 next_cursor，下次带 ?cursor= 只取新变化"
            "（最后一页也返回 next_cursor）。最近 2 秒内的变化稍后才出现，以保证不遗漏。"
            "首次同步用 ?snapshot=true：先给出当前的全部结果（每个企业×项目一条，cause 为 snapshot），"
            "跟随 next 直到为 null，保存最后的 next_cursor，之后只取快照开始以来的变化（可能重复给出快照中"
            "已含的变化，按企业和项目覆盖即可）。"
            "Every change of a result's status or amount, in recorded order. To sync incrementally store "
            "next_cursor and pass it as ?cursor= next time (it is given on the last page too). Changes "
            "appear 2 s after they are recorded so that none is skipped. "
            "For the first sync use ?snapshot=true: every current result first (one per enterprise and "
            "benefit, cause snapshot); follow next until it is null and store the last next_cursor, which "
            "continues with the changes since the snapshot began (a change the snapshot already showed may "
            "come again: upsert by enterprise and benefit)."
        ),
        examples=[
            examples.reply("补充信息后变为待认定 Now pending recognition", examples.CHANGE),
            examples.reply("快照中的当前结果 A current result in a snapshot", examples.SNAPSHOT_ITEM),
        ],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一条变化 One change",
        description="原结论和金额、新结论和金额、原因。Old and new status and amount, and the cause.",
        examples=[examples.reply("补充信息后变为待认定 Now pending recognition", examples.CHANGE)],
    ),
)
class ChangeViewSet(ReadOnlyApiViewSet):
    scopes = (Scope.READ_MATCHES,)
    serializer_class = ChangeSerializer
    filterset_class = ChangeFilter
    pagination_class = FeedPagination

    def settled_before(self) -> dt.datetime:
        return timezone.now() - FEED_SETTLE

    def get_queryset(self):
        settled = MatchChange.objects.filter(created_at__lte=self.settled_before())
        return self.access.restrict(settled.select_related("benefit__clause__document"))

    def list(self, request, *args, **kwargs):
        token = request.query_params.get(self.paginator.cursor_query_param)
        snapshot = self.paginator.snapshot_position(token) if token else None
        changes = self.filter_queryset(self.get_queryset())  # validates every parameter
        if snapshot is not None or request.query_params.get("snapshot", "").lower() in ("true", "1"):
            return self._snapshot(request, snapshot)
        page = self.paginator.paginate_queryset(changes.values_list(*CHANGE_COLUMNS), request, view=self)
        rows = RowBuilder(catalog=None)
        rows.load_benefits(row[2] for row in page)
        return self.paginator.get_paginated_response([rows.change(row) for row in page])

    def _snapshot(self, request, position: tuple[int, int] | None) -> Response:
        if "since" in request.query_params:
            raise ValidationError({"since": [_("快照给出当前的全部结果，不能与 since 同用。")]})
        if position is None:  # the feed's position when the snapshot begins: it continues from there
            mark = (
                MatchChange.objects.filter(created_at__lte=self.settled_before())
                .order_by("-pk")
                .values_list("pk", flat=True)
                .first()
            )
            position = (mark or 0, 0)
        results = self.access.restrict(MatchResult.objects.all())
        # The parameters were checked by filter_queryset (an invisible enterprise is a 404 already).
        form = ChangeFilter(request.query_params, queryset=MatchChange.objects.none(), request=request).form
        form.is_valid()
        for name, column in (("enterprise", "enterprise_id"), ("benefit", "benefit_id")):
            if form.cleaned_data.get(name) is not None:
                results = results.filter(**{column: int(form.cleaned_data[name])})
        rows = RowBuilder(catalog=None)
        if connection.vendor == "postgresql":
            # PostgreSQL writes each item's text but the benefit (see snapshot_sql_pieces).
            page = self.paginator.paginate_snapshot(
                snapshot_sql_pieces(results), request, mark=position[0], after=position[1]
            )
            rows.load_benefits(row[1] for row in page)
            times: dict[dt.datetime, str] = {}
            items = []
            for _pk, benefit, head, tail, evaluated_at in page:
                time = times.get(evaluated_at)
                if time is None:
                    time = times[evaluated_at] = encode(rows.time(evaluated_at))
                items.append(f"{head}{rows.benefit_json(benefit)}{tail}{time}}}")
        else:
            page = self.paginator.paginate_snapshot(
                results.values_list(*SNAPSHOT_COLUMNS), request, mark=position[0], after=position[1]
            )
            rows.load_benefits(row[2] for row in page)
            items = [rows.snapshot_json(row) for row in page]
        return self.paginator.get_paginated_json_response(items)
