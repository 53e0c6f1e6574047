"""Policy data, read-only: documents, clauses, benefits and the fact catalog (scope read_policies)."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from policies import amount_rules
from policies import selectors as policy_selectors
from policies.models import Benefit, Clause, FactDefinition, PolicyDocument
from policies.rules import leaves, parse, requirement
from portal.api import examples
from portal.api.base import ReadOnlyApiViewSet, bilingual
from portal.api.fields import MoneyField, WanField
from portal.api.serializers import StrictFilterSet
from portal.models import Scope

TAG = "政策 Policies"
VALIDITY_REASONS = ["in_force", "draft", "not_yet_effective", "expired", "superseded"]


def as_of_from(request) -> dt.date:
    """The date validity is judged on: the as_of filter when given, else today."""
    raw = request.query_params.get("as_of") if request is not None else None
    try:
        return dt.date.fromisoformat(raw) if raw else timezone.localdate()
    except ValueError:
        return timezone.localdate()  # the filter itself reports the malformed date


# --- filters --------------------------------------------------------------------------------------------


class AsOfFilterMixin(StrictFilterSet):
    as_of = django_filters.DateFilter(
        method="filter_as_of",
        help_text=bilingual(
            "只返回该日有效（现行）的条目，YYYY-MM-DD。", "Only what is in force on this date."
        ),
    )

    def filter_as_of(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        # Validity is a method of the model (status and dates); the lists are small (hundreds).
        in_force = [row.pk for row in queryset if self.validity(row, value)[0]]
        return queryset.filter(pk__in=in_force)

    @staticmethod
    def validity(row, as_of: dt.date) -> tuple[bool, str]:
        raise NotImplementedError


class DocumentFilter(AsOfFilterMixin):
    level = django_filters.ChoiceFilter(
        choices=PolicyDocument.Level.choices, help_text=bilingual("层级。", "Level: municipal or district.")
    )
    status = django_filters.ChoiceFilter(
        choices=PolicyDocument.Status.choices, help_text=bilingual("文件状态。", "Document status.")
    )

    class Meta:
        model = PolicyDocument
        fields = ["level", "status"]

    @staticmethod
    def validity(row, as_of):
        return row.validity_on(as_of)


class ClauseFilter(AsOfFilterMixin):
    document = django_filters.CharFilter(
        field_name="document__key", help_text=bilingual("文件标识。", "Document key.")
    )
    kind = django_filters.ChoiceFilter(
        choices=Clause.Kind.choices, help_text=bilingual("条款类别。", "Clause kind.")
    )
    level = django_filters.ChoiceFilter(
        field_name="document__level",
        choices=PolicyDocument.Level.choices,
        help_text=bilingual("文件层级。", "Level of the document."),
    )
    status = django_filters.ChoiceFilter(
        field_name="document__status",
        choices=PolicyDocument.Status.choices,
        help_text=bilingual("文件状态。", "Status of the document."),
    )

    class Meta:
        model = Clause
        fields = ["document", "kind", "level", "status"]

    @staticmethod
    def validity(row, as_of):
        return row.document.validity_on(as_of)


class BenefitFilter(AsOfFilterMixin):
    document = django_filters.CharFilter(
        field_name="clause__document__key", help_text=bilingual("文件标识。", "Document key.")
    )
    clause = django_filters.NumberFilter(
        field_name="clause_id", help_text=bilingual("条款 id。", "Clause id.")
    )
    kind = django_filters.ChoiceFilter(
        choices=Benefit.Kind.choices, help_text=bilingual("扶持方式。", "Kind of benefit.")
    )
    level = django_filters.ChoiceFilter(
        field_name="clause__document__level",
        choices=PolicyDocument.Level.choices,
        help_text=bilingual("文件层级。", "Level of the document."),
    )
    status = django_filters.ChoiceFilter(
        field_name="clause__document__status",
        choices=PolicyDocument.Status.choices,
        help_text=bilingual("文件状态。", "Status of the document."),
    )
    industry_track = django_filters.CharFilter(
        method="filter_industry_track",
        help_text=bilingual(
            "只返回条件中点名该重点产业领域的扶持项目（事实 industry_tracks 的可选值，如 biomedicine）。",
            "Only benefits whose condition names this industry track (a value of fact industry_tracks).",
        ),
    )
    fact = django_filters.CharFilter(
        method="filter_fact",
        help_text=bilingual("只返回条件或计算基数读取该事实的项目。", "Only benefits reading this fact."),
    )
    requires_recognition = django_filters.BooleanFilter(
        help_text=bilingual("是否需经认定。", "Whether a recognition decision is required.")
    )

    class Meta:
        model = Benefit
        fields = ["document", "clause", "kind", "level", "status", "requires_recognition"]

    @staticmethod
    def validity(row, as_of):
        return row.validity_on(as_of)

    def filter_industry_track(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        tracks = FactDefinition.objects.filter(code="industry_tracks").first()
        if tracks is None or value not in tracks.choice_values():
            raise ValidationError({"industry_track": [_("未知的重点产业领域：%(v)s。") % {"v": value}]})
        named = [
            benefit.pk
            for benefit in queryset
            if any(
                leaf["fact"] == "industry_tracks" and value in _values_of(leaf["value"])
                for leaf in leaves(benefit.condition)
            )
        ]
        return queryset.filter(pk__in=named)

    def filter_fact(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if not FactDefinition.objects.filter(code=value).exists():
            raise ValidationError({"fact": [_("未知事实：%(code)s。") % {"code": value}]})
        return queryset.filter(pk__in=[b.pk for b in queryset if value in (b.fact_codes or [])])


class FactFilter(StrictFilterSet):
    type = django_filters.ChoiceFilter(
        choices=FactDefinition.Type.choices, help_text=bilingual("值的类型。", "Value type.")
    )
    derived = django_filters.ChoiceFilter(
        choices=FactDefinition.Derivation.choices,
        help_text=bilingual("builtin 由企业基础数据计算；stored 通用事实存储。", "builtin or stored."),
    )

    class Meta:
        model = FactDefinition
        fields = ["type", "derived"]


def _values_of(value) -> list:
    return list(value) if isinstance(value, list) else [value]


# --- serializers ----------------------------------------------------------------------------------------


class ValiditySerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text=bilingual("判断日期。", "The date judged."))
    in_force = serializers.BooleanField(help_text=bilingual("该日是否有效。", "In force on that date."))
    reason = serializers.ChoiceField(
        choices=VALIDITY_REASONS,
        help_text=bilingual(
            "in_force 现行；draft 征求意见稿；not_yet_effective 尚未施行；expired 已失效；superseded 已被替代。",
            "Why (not) in force.",
        ),
    )


class ValidityMixin(serializers.Serializer):
    validity = serializers.SerializerMethodField(
        help_text=bilingual("在 as_of（默认今天）是否有效。", "Validity on as_of (default today).")
    )

    @extend_schema_field(ValiditySerializer)
    def get_validity(self, obj) -> dict:
        as_of = as_of_from(self.context.get("request"))
        in_force, reason = obj.validity_on(as_of)
        return {"as_of": as_of, "in_force": in_force, "reason": reason}


class DocumentSerializer(ValidityMixin, serializers.ModelSerializer):
    level_label = serializers.CharField(
        source="get_level_display", read_only=True, help_text="层级名称 Level label"
    )
    status_label = serializers.CharField(
        source="get_status_display", read_only=True, help_text="状态名称 Status label"
    )
    clause_count = serializers.IntegerField(read_only=True, help_text="条款数 Number of clauses")
    benefit_count = serializers.IntegerField(read_only=True, help_text="扶持项目数 Number of benefits")

    class Meta:
        model = PolicyDocument
        fields = [
            "id", "key", "title", "issuer", "level", "level_label", "number", "source_file", "published_on",
            "effective_from", "effective_to", "status", "status_label", "validity", "clause_count",
            "benefit_count", "jurisdiction", "applicability", "supersedes",
        ]  # fmt: skip
        extra_kwargs = {
            "key": {"help_text": bilingual("文件标识（稳定，用于地址）。", "Stable key, used in URLs.")},
            "title": {"help_text": bilingual("标题。", "Title.")},
            "issuer": {"help_text": bilingual("发文机关。", "Issuing authority.")},
            "number": {"help_text": bilingual("文号。", "Document number.")},
            "jurisdiction": {
                "help_text": bilingual("管辖区域代码。", "Region code of the issuing jurisdiction.")
            },
            "applicability": {
                "help_text": bilingual(
                    "适用范围条件树，先于每个扶持项目判断；null 表示未限定。",
                    "Applicability condition, evaluated before every benefit; null: none.",
                )
            },
            "supersedes": {"help_text": bilingual("本文件替代的文件。", "Documents this one replaces.")},
            "effective_to": {
                "help_text": bilingual("有效期至；null 表示长期有效。", "Valid until; null: open-ended.")
            },
        }


class HeadingSerializer(serializers.Serializer):
    number = serializers.CharField(help_text=bilingual("章节编号。", "Heading number."))
    title = serializers.CharField(help_text=bilingual("章节标题。", "Heading title."))


class DocumentDetailSerializer(DocumentSerializer):
    headings = HeadingSerializer(many=True, read_only=True)

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "preamble", "notes", "headings"]


class BenefitBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Benefit
        fields = ["id", "key", "name", "kind"]


class ClauseSerializer(serializers.ModelSerializer):
    document = serializers.SlugRelatedField(
        slug_field="key", read_only=True, help_text=bilingual("文件标识。", "Document key.")
    )
    heading = HeadingSerializer(read_only=True, allow_null=True)
    kind_label = serializers.CharField(
        source="get_kind_display", read_only=True, help_text="类别名称 Kind label"
    )
    benefits = BenefitBriefSerializer(many=True, read_only=True)

    class Meta:
        model = Clause
        fields = [
            "id", "document", "heading", "number", "order", "kind", "kind_label", "title", "text",
            "figures_not_benefits", "benefits",
        ]  # fmt: skip
        extra_kwargs = {
            "number": {"help_text": bilingual("条款编号（与原文印刷一致）。", "Clause number as printed.")},
            "text": {"help_text": bilingual("原文。", "Verbatim text.")},
        }


class RequirementSerializer(serializers.Serializer):
    fact = serializers.CharField(help_text=bilingual("事实代码。", "Fact code."))
    op = serializers.CharField(
        help_text=bilingual("比较方式。", "Operator (eq ne lt lte gt gte in contains between exists within).")
    )
    value = serializers.JSONField(help_text=bilingual("比较值。", "Value compared with."))
    text = serializers.CharField(help_text=bilingual("条件的文字表述。", "The condition in words."))
    quote = serializers.CharField(help_text=bilingual("原文引语。", "The words of the clause it rests on."))


def requirements(condition, catalog) -> list[dict]:
    """Each comparison of a condition with its wording in the reader's language (policies.rules)."""
    return [
        {
            "fact": leaf.fact,
            "op": leaf.op,
            "value": leaf.source.get("value"),
            "text": requirement(leaf, catalog[leaf.fact]),
            "quote": leaf.quote,
        }
        for leaf in parse(condition, catalog).leaves
    ]


class BenefitSerializer(ValidityMixin, serializers.ModelSerializer):
    global_key = serializers.CharField(
        read_only=True,
        help_text=bilingual("全局标识：文件/条款/项目。", "Global key: document/clause/benefit."),
    )
    document = serializers.CharField(
        source="clause.document.key", read_only=True, help_text="文件标识 Document key"
    )
    document_title = serializers.CharField(
        source="clause.document.title", read_only=True, help_text="文件标题 Document title"
    )
    clause_number = serializers.CharField(
        source="clause.number", read_only=True, help_text="条款编号 Clause number as printed"
    )
    kind_label = serializers.CharField(
        source="get_kind_display", read_only=True, help_text="方式名称 Kind label"
    )
    cap = MoneyField(
        read_only=True,
        help_text=bilingual("上限（元）；null 表示原文未给出。", "Cap in yuan; null: not stated."),
    )
    cap_wan = WanField(source="cap", help_text=bilingual("上限（万元）。", "Cap in 万元 (10,000 yuan)."))
    amount = MoneyField(
        read_only=True, help_text=bilingual("定额（元）。", "Fixed amount in yuan; null: none.")
    )
    amount_wan = WanField(source="amount", help_text=bilingual("定额（万元）。", "Fixed amount in 万元."))
    ratio = serializers.DecimalField(
        max_digits=8,
        decimal_places=4,
        read_only=True,
        allow_null=True,
        help_text=bilingual("比例：10% 为 0.1000；1:0.5 配套为 0.5000。", "Ratio: 10% is 0.1000."),
    )
    requirements = serializers.SerializerMethodField(
        help_text=bilingual("各项条件（深度优先，与匹配结果的顺序一致）。", "Conditions, in matching order.")
    )
    amount_terms = serializers.SerializerMethodField(
        help_text=bilingual(
            "金额规则的文字说明（单价、比例区间、年度上限、分年或分阶段拨付）。",
            "The amount rule in words (rates, ranges, yearly caps, schedules).",
        )
    )

    class Meta:
        model = Benefit
        fields = [
            "id", "global_key", "document", "document_title", "clause", "clause_number", "key", "name", "kind",
            "kind_label", "cap", "cap_wan", "amount", "amount_wan", "ratio", "base_fact", "instalments",
            "recurrence", "requires_recognition", "recognition_phrase", "amount_quote", "stacking_group",
            "valid_from", "valid_to", "condition", "requirements", "fact_codes", "version", "validity",
            "amount_rule", "amount_terms", "per_item", "exclusion_groups",
        ]  # fmt: skip
        extra_kwargs = {
            "amount_rule": {
                "help_text": bilingual(
                    "金额规则（JSON，policies/amount_rules.py）：单价×数量、比例区间、分档、上限、拨付安排、按日期变化的数值。",
                    "Amount rule (JSON): per-unit rates, ranges, tiers, caps, schedules, dated values.",
                )
            },
            "per_item": {"help_text": bilingual("按事项计的事项类型。", "Item kind it is paid per.")},
            "exclusion_groups": {"help_text": bilingual("排斥组。", "Exclusion groups.")},
            "clause": {"help_text": bilingual("条款 id。", "Clause id.")},
            "name": {"help_text": bilingual("名称。", "Name.")},
            "condition": {
                "help_text": bilingual("条件树（JSON）；null 表示无附加条件。", "Condition tree; null: none.")
            },
            "version": {
                "help_text": bilingual("内容版本，每次修改 +1。", "Content version, +1 on every change.")
            },
        }

    @extend_schema_field(RequirementSerializer(many=True))
    def get_requirements(self, benefit: Benefit) -> list[dict]:
        return requirements(benefit.condition, self.context["catalog"])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_amount_terms(self, benefit: Benefit) -> list[str]:
        try:
            return amount_rules.describe(amount_rules.parse(benefit.amount_rule))
        except ValueError:
            return []


class ChoiceSerializer(serializers.Serializer):
    value = serializers.CharField()
    label_zh = serializers.CharField()
    label_en = serializers.CharField(required=False)


class FactSerializer(serializers.ModelSerializer):
    choices = ChoiceSerializer(many=True, read_only=True, help_text=bilingual("可选值。", "Allowed values."))

    class Meta:
        model = FactDefinition
        fields = ["code", "type", "unit", "label_zh", "label_en", "description", "choices", "derived"]
        extra_kwargs = {
            "code": {"help_text": bilingual("事实代码。", "Fact code.")},
            "type": {"help_text": bilingual("值的类型。", "Value type.")},
            "derived": {
                "help_text": bilingual(
                    "builtin 由企业基础数据计算；stored 通用事实存储。",
                    "builtin: computed; stored: declared.",
                )
            },
        }


# --- views ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="政策文件列表 List policy documents",
        description="按层级、状态、某日是否有效筛选。Filter by level, status and validity on a date.",
        examples=[examples.reply("闵府规发〔2024〕1号", examples.DOCUMENT)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一个政策文件 One policy document",
        description="按文件标识读取，含序言、编码说明和章节。By key, with preamble, encoding notes and headings.",
        examples=[
            examples.reply(
                "闵府规发〔2024〕1号",
                {
                    **examples.DOCUMENT,
                    "preamble": "为深入贯彻落实……特制定本政策意见。",
                    "notes": "",
                    "headings": [examples.CLAUSE["heading"]],
                },
            )
        ],
    ),
)
class DocumentViewSet(ReadOnlyApiViewSet):
    scopes = (Scope.READ_POLICIES,)
    filterset_class = DocumentFilter
    lookup_field = "key"

    def get_queryset(self):
        return policy_selectors.library_documents().prefetch_related("headings")

    def get_serializer_class(self):
        return DocumentDetailSerializer if self.action == "retrieve" else DocumentSerializer


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="条款列表 List clauses",
        description="原文逐条，含各条的扶持项目。Verbatim clauses with their benefits.",
        examples=[examples.reply("第7条 Clause 7", examples.CLAUSE)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一个条款 One clause",
        description="条款原文（与印刷一致）及其扶持项目。The clause as printed, with its benefits.",
        examples=[examples.reply("第7条 Clause 7", examples.CLAUSE)],
    ),
)
class ClauseViewSet(ReadOnlyApiViewSet):
    scopes = (Scope.READ_POLICIES,)
    serializer_class = ClauseSerializer
    filterset_class = ClauseFilter

    def get_queryset(self):
        return Clause.objects.select_related("document", "heading").prefetch_related("benefits")


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="扶持项目列表 List benefits",
        description=(
            "每条可单独兑现的扶持：上限、定额、比例（金额为元的字符串，另附万元显示），条件逐项列出并引用原文。"
            "Each separately payable benefit: cap, amount, ratio (money as yuan strings plus 万元 display), "
            "its conditions with the words they rest on."
        ),
        examples=[examples.reply("厂房租赁补贴 Factory lease", examples.BENEFIT)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一个扶持项目 One benefit",
        description=(
            "金额、比例、条件树及其中文（或英文）表述和原文引语。"
            "Amounts, ratio, the condition tree in words (Chinese or English) and the quoted text."
        ),
        examples=[examples.reply("厂房租赁补贴 Factory lease", examples.BENEFIT)],
    ),
)
class BenefitViewSet(ReadOnlyApiViewSet):
    scopes = (Scope.READ_POLICIES,)
    serializer_class = BenefitSerializer
    filterset_class = BenefitFilter

    def get_queryset(self):
        return policy_selectors.benefits_with_context()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "catalog": policy_selectors.catalog()}


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="事实目录 The fact catalog",
        description=(
            "条件可以引用的全部企业事实：自查接口按这些代码和类型提交。"
            "Every enterprise fact a condition may name; the self-check takes these codes and types."
        ),
        examples=[examples.reply("厂房面积 Factory area", examples.FACT)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一个事实 One fact",
        description="按代码读取：类型、单位、中英文名称、可选值。By code: type, unit, labels, choices.",
        examples=[examples.reply("厂房面积 Factory area", examples.FACT)],
    ),
)
class FactViewSet(ReadOnlyApiViewSet):
    scopes = (Scope.READ_POLICIES,)
    serializer_class = FactSerializer
    filterset_class = FactFilter
    lookup_field = "code"
    queryset = FactDefinition.objects.all()
