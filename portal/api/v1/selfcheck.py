"""The stateless self-check (scope read_policies): facts in, a verdict for every benefit out, nothing stored.

The evaluation is portal.selfcheck.evaluation.evaluate_answers, the same one the public wizard uses.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from matching.engine import Verdict
from matching.models import MatchStatus
from policies import selectors as policy_selectors
from portal.api import examples
from portal.api.base import ApiViewMixin, bilingual
from portal.api.fields import MoneyField, WanField
from portal.api.serializers import StrictSerializerMixin
from portal.api.v1.matches.output import ExplainedReasonSerializer, explained_reasons
from portal.models import Scope
from portal.selfcheck import evaluation as selfcheck

TAG = "自查 Self-check"
MAX_FACTS = 500


def _acceptable(value) -> bool:
    """JSON scalars, or a list of choice values (a set fact)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


class SelfCheckSerializer(StrictSerializerMixin, serializers.Serializer):
    as_of = serializers.DateField(
        required=False,
        help_text=bilingual("评估日期，默认今天（YYYY-MM-DD）。", "Date to judge on, default today."),
    )
    facts = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        allow_empty=True,
        help_text=bilingual(
            "事实代码 → 值（见 /api/v1/facts/）：金额以元计；多选为可选值列表，[] 表示确知没有；null 或不填表示未知。",
            "Fact code → value (see /api/v1/facts/): money in yuan; a set as a list of choice values, [] "
            "meaning known to have none; null or absent means unknown.",
        ),
    )

    def validate_facts(self, facts: Mapping) -> Mapping:
        if len(facts) > MAX_FACTS:
            raise serializers.ValidationError(_("最多提交 %(n)s 项事实。") % {"n": MAX_FACTS})
        wrong = {
            code: [_("值应为数字、文本、是/否或可选值列表。")]
            for code, value in facts.items()
            if not _acceptable(value)
        }
        if wrong:
            raise serializers.ValidationError(wrong)
        return facts


class BenefitOfVerdictSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="benefit_id", help_text="扶持项目 id Benefit id")
    global_key = serializers.CharField(help_text="全局标识 Global key")
    name = serializers.CharField()
    kind = serializers.CharField()
    document_title = serializers.CharField()
    clause_number = serializers.CharField()


class VerdictSerializer(serializers.Serializer):
    benefit = BenefitOfVerdictSerializer(source="spec")
    status = serializers.ChoiceField(
        choices=MatchStatus.choices, source="status.slug", help_text=bilingual("结论。", "Status.")
    )
    status_label = serializers.SerializerMethodField(help_text="结论名称 Status label")
    score = serializers.IntegerField(help_text=bilingual("匹配度 0-100。", "Score 0-100."))
    amount = MoneyField(
        source="amount.value",
        help_text=bilingual("预估金额（元）；null 表示无法估算。", "Yuan; null: no figure."),
    )
    amount_wan = WanField(source="amount.value", help_text="预估金额（万元）Amount in 万元")
    amount_basis = serializers.CharField(
        source="amount.basis", help_text=bilingual("金额依据。", "Basis of the figure.")
    )
    per_instalment = MoneyField(
        source="amount.per_instalment",
        help_text=bilingual("分年兑现时每年金额（元）。", "Per yearly instalment."),
    )
    reasons = serializers.SerializerMethodField(help_text=bilingual("逐项条件。", "Each condition."))
    missing_facts = serializers.ListField(
        child=serializers.CharField(),
        help_text=bilingual("补充即可得出结论的事实。", "Facts that would settle it."),
    )

    def get_status_label(self, verdict: Verdict) -> str:
        return str(MatchStatus(verdict.status.slug).label)

    @extend_schema_field(ExplainedReasonSerializer(many=True))
    def get_reasons(self, verdict: Verdict) -> list[dict]:
        return explained_reasons(verdict, self.context["catalog"])


class MissingFactSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="事实代码 Fact code")
    label = serializers.CharField(help_text="事实名称 Fact label")
    could_unlock = MoneyField(
        help_text=bilingual("补充后可能涉及的金额（元）。", "Money it could unlock (yuan).")
    )
    could_unlock_wan = WanField(source="could_unlock", help_text="同上（万元）The same in 万元")
    benefits = serializers.ListField(
        child=serializers.CharField(), help_text="涉及的扶持项目 Benefits it settles"
    )


class SelfCheckResultSerializer(serializers.Serializer):
    as_of = serializers.DateField(help_text=bilingual("评估日期。", "Date judged on."))
    total = MoneyField(
        help_text=bilingual(
            "不重复计算的最佳合计（元）：只含原文定额和按所给事实算出的金额，不含只给出上限的项目。",
            "Best total without double counting (yuan): fixed and computed amounts only, no ceilings.",
        )
    )
    total_wan = WanField(source="total", help_text="合计（万元）Total in 万元")
    computed_total = MoneyField(
        source="total",
        help_text=bilingual("同 total：按事实算出的合计（元）。", "Same as total: computed money (yuan)."),
    )
    ceiling_total = MoneyField(
        source="stack.ceiling_total",
        help_text=bilingual(
            "上限合计，需认定（元）：原文只给出最高额的项目，不计入 total。",
            "Sum of ceilings (yuan) of benefits that state only a maximum; not part of total.",
        ),
    )
    high_total = MoneyField(
        source="stack.high_total",
        help_text=bilingual(
            "比例区间按最高比例计算时的合计（元）。",
            "The total with every ratio range at its high end (yuan).",
        ),
    )
    total_is_lower_bound = serializers.BooleanField(
        source="stack.has_unfixed",
        help_text=bilingual(
            "有未定金额的项目，合计只是下限。", "Some benefit has no figure: the total is a lower bound."
        ),
    )
    counts = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=bilingual("各结论的项目数。", "Number of verdicts per status."),
    )
    verdicts = VerdictSerializer(
        many=True, help_text=bilingual("现行扶持项目逐项结论。", "One per benefit in force.")
    )
    missing_facts = MissingFactSerializer(
        many=True,
        source="missing",
        help_text=bilingual("缺少的事实，按可能金额排序。", "Missing facts, most money first."),
    )
    open_questions = serializers.ListField(
        child=serializers.CharField(),
        help_text=bilingual(
            "仍可能改变结论或金额的事实。", "Facts whose answer could still change a verdict."
        ),
    )

    def to_representation(self, result):
        data = super().to_representation(result)
        data["counts"] = result.counts()
        return data


class SelfCheckView(ApiViewMixin, APIView):
    scopes = (Scope.READ_POLICIES,)

    @extend_schema(
        tags=[TAG],
        operation_id="self_check",
        summary="政策自查 Self-check",
        description=(
            "提交企业事实，得到每个现行扶持项目的结论、预估金额和逐项理由；不保存任何数据。"
            "未知事实代码或类型不符的值返回 400，errors 中逐项列出（facts.<代码>）。"
            "Send facts, get a verdict, an estimate and reasons for every benefit in force; nothing is "
            "stored. An unknown fact code or a value of the wrong type is a 400 listing each (facts.<code>)."
        ),
        request=SelfCheckSerializer,
        responses={200: SelfCheckResultSerializer},
        examples=[
            OpenApiExample("租赁厂房的企业 A lessee", value=examples.SELF_CHECK_REQUEST, request_only=True),
            examples.reply("结论 Verdicts", examples.SELF_CHECK_RESULT),
        ],
    )
    def post(self, request):
        payload = SelfCheckSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        as_of = payload.validated_data.get("as_of") or timezone.localdate()
        catalog = policy_selectors.catalog()
        try:
            result = selfcheck.evaluate_answers(payload.validated_data["facts"], as_of=as_of, catalog=catalog)
        except selfcheck.AnswerError as error:
            errors = {code: [message] for code, message in error.errors.items()}
            raise serializers.ValidationError({"facts": errors}) from None
        return Response(
            SelfCheckResultSerializer(result, context={"catalog": catalog, "request": request}).data
        )
