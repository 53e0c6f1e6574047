"""Match results and the change feed (scope read_matches), limited to the enterprises the caller sees.

A list row carries the stored verdict and its reasons rebuilt from the stored outcome of each
condition (cheap: no facts are read); the detail explains the result from the enterprise's facts,
adding each value and where it came from. Both answer conditional GETs (ETag / If-None-Match).
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from enterprises.catalog import to_json
from matching import selectors as matching_selectors
from matching.engine import Outcome, Verdict
from matching.models import MatchChange, MatchResult, MatchStatus
from policies import selectors as policy_selectors
from policies.conditions import leaves, render_en, render_zh
from policies.models import Benefit
from portal.api import examples
from portal.api.access import access_for
from portal.api.base import ReadOnlyApiViewSet, bilingual
from portal.api.conditional import ConditionalGetMixin
from portal.api.fields import MoneyField, WanField, language
from portal.api.serializers import StrictFilterSet
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
    changed_since = django_filters.IsoDateTimeFilter(
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
    since = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text=bilingual("只返回此后记录的变化（ISO 8601）。", "Only changes recorded since (ISO 8601)."),
    )

    class Meta:
        model = MatchChange
        fields = ["enterprise", "benefit", "since"]


# --- serializers ----------------------------------------------------------------------------------------


class BenefitRefSerializer(serializers.ModelSerializer):
    global_key = serializers.CharField(read_only=True, help_text="全局标识 Global key")
    document_title = serializers.CharField(source="clause.document.title", read_only=True)
    clause_number = serializers.CharField(source="clause.number", read_only=True)

    class Meta:
        model = Benefit
        fields = ["id", "global_key", "name", "kind", "document_title", "clause_number"]


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


def stored_reasons(result: MatchResult, catalog) -> list[dict]:
    """Reasons from the stored outcome string (one letter per condition, in `leaves` order)."""
    benefit = result.benefit
    document = benefit.clause.document
    conditions = leaves(benefit.condition)
    letters = result.leaf_outcomes if len(result.leaf_outcomes) == len(conditions) else ""
    render = render_en if language() == "en" else render_zh
    return [
        {
            "fact": leaf["fact"],
            "requirement": render(leaf, catalog),
            "outcome": OUTCOMES.get(letters[index]) if letters else None,
            "citation": {
                "document_key": document.key,
                "document_title": document.title,
                "clause_number": benefit.clause.number,
                "quote": leaf.get("quote", ""),
            },
        }
        for index, leaf in enumerate(conditions)
    ]


def explained_reasons(verdict: Verdict, catalog) -> list[dict]:
    """Reasons of a live verdict: each condition with the enterprise's value and its source."""
    render = render_en if language() == "en" else render_zh
    rows = []
    for reason, leaf in zip(verdict.reasons, leaves(verdict.spec.condition), strict=False):
        fact = catalog.get(reason.fact)
        citation = reason.citation
        rows.append(
            {
                "fact": reason.fact,
                "requirement": render(leaf, catalog),
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
        return stored_reasons(result, self.context["catalog"])


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
    benefit = BenefitRefSerializer(read_only=True)
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
                    "变化原因（触发重新评估的事件）。", "What triggered the re-evaluation."
                )
            },
            "created_at": {"help_text": bilingual("记录时间。", "Recorded at.")},
        }


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
            "Every change of a result's status or amount, in recorded order. To sync incrementally store "
            "next_cursor and pass it as ?cursor= next time (it is given on the last page too). Changes "
            "appear 2 s after they are recorded so that none is skipped."
        ),
        examples=[examples.reply("补充信息后变为待认定 Now pending recognition", examples.CHANGE)],
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

    def get_queryset(self):
        settled = MatchChange.objects.filter(created_at__lte=timezone.now() - FEED_SETTLE)
        return self.access.restrict(settled.select_related("benefit__clause__document"))
