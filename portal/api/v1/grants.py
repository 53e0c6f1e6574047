"""免申即享 confirmations (意愿确认), and the read-only shapes of an application's materials checklist
and payout plan (served by v1/applications.py under /applications/{id}/materials/ and …/payouts/).

Confirmations (scopes read_matches or applications to read, applications to answer): an enterprise's
user (session or its key) sees its own enterprise's requests and confirms or declines one; reviewers and
machine keys see every request (within the key's enterprises) but cannot answer for an enterprise. The
answer goes through applications.services (confirm_grant / decline_grant), which checks the actor, the
version and the state: a second answer is a 409 and changes nothing; the Idempotency-Key header replays
the first reply instead.
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from applications import services as application_services
from applications.models import Attachment, Confirmation, MaterialCheck, PayoutStage
from portal.api import examples
from portal.api.base import ApiViewMixin, bilingual
from portal.api.fields import MoneyField, WanField
from portal.api.idempotency import PARAMETER as IDEMPOTENCY_KEY
from portal.api.idempotency import idempotent
from portal.api.serializers import StrictSerializerMixin
from portal.api.v1.matches.filters import VisibleEnterpriseFilterMixin
from portal.api.v1.matches.output import BenefitRefSerializer
from portal.models import Scope

TAG = "免申即享与拨付 Auto-grants and payouts"
REVIEW_PERMISSION = application_services.REVIEW_PERMISSION

# --- 免申即享 confirmations -------------------------------------------------------------------------------


class ConfirmationFilter(VisibleEnterpriseFilterMixin):
    benefit = django_filters.NumberFilter(
        field_name="benefit_id", help_text=bilingual("扶持项目 id。", "Benefit id.")
    )
    state = django_filters.MultipleChoiceFilter(
        choices=Confirmation.State.choices,
        help_text=bilingual(
            "状态，可重复；待确认的用 requested。", "State; repeat for several; pending ones are requested."
        ),
    )

    class Meta:
        model = Confirmation
        fields = ["enterprise", "benefit", "state"]


class ConfirmationSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(
        source="enterprise.name", read_only=True, help_text=bilingual("企业名称。", "Enterprise name.")
    )
    benefit = BenefitRefSerializer(read_only=True)
    state_label = serializers.CharField(
        source="get_state_display", read_only=True, help_text=bilingual("状态名称。", "State label.")
    )
    estimated_amount = MoneyField(
        read_only=True,
        help_text=bilingual("按权威数据测算的金额（元）；null 表示无法测算。", "Estimated yuan, or null."),
    )
    estimated_amount_wan = WanField(
        source="estimated_amount", help_text=bilingual("测算金额（万元）。", "Estimate in 万元.")
    )
    application = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text=bilingual("确认后形成的申报 id；未确认时为 null。", "The application confirming made."),
    )
    item_id = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text=bilingual(
            "所确认的申报事项 id（按项目享受的扶持项目，每个项目一份意愿确认）；其他项目为 null。",
            "The item asked about (a per-item benefit is asked once per item); null for any other benefit.",
        ),
    )
    item_title = serializers.SerializerMethodField(
        help_text=bilingual("申报事项名称；不按项目时为 null。", "The item's title, or null.")
    )
    allowed_actions = serializers.SerializerMethodField(
        help_text=bilingual("当前可做的答复。", "The answers still possible: confirm, decline.")
    )

    class Meta:
        model = Confirmation
        fields = [
            "id", "enterprise", "enterprise_name", "benefit", "state", "state_label", "estimated_amount",
            "estimated_amount_wan", "requested_at", "responded_at", "decline_reason", "application", "version",
            "allowed_actions", "item_id", "item_title",
        ]  # fmt: skip
        extra_kwargs = {
            "version": {"help_text": bilingual("版本：答复时带上读取时的版本。", "Send it with the answer.")},
            "requested_at": {"help_text": bilingual("发起时间。", "Requested at.")},
            "responded_at": {"help_text": bilingual("答复时间。", "Answered at.")},
            "decline_reason": {"help_text": bilingual("放弃原因。", "Why declined.")},
        }

    @extend_schema_field({"type": "string", "nullable": True})
    def get_item_title(self, confirmation: Confirmation) -> str | None:
        return confirmation.item.title if confirmation.item_id else None

    @extend_schema_field({"type": "array", "items": {"type": "string", "enum": ["confirm", "decline"]}})
    def get_allowed_actions(self, confirmation: Confirmation) -> list[str]:
        return ["confirm", "decline"] if confirmation.state == Confirmation.State.REQUESTED else []


class ConfirmSerializer(StrictSerializerMixin, serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text=bilingual("读取时得到的版本。", "The version you read.")
    )


class DeclineSerializer(ConfirmSerializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text=bilingual("放弃原因（可空）。", "Why (optional)."),
    )


CONFIRMATION_EXAMPLE = {
    "id": 12,
    "enterprise": 42,
    "enterprise_name": "上海闵智精密机床有限公司",
    "benefit": examples.BENEFIT_REF,
    "state": "requested",
    "state_label": "待企业确认",
    "estimated_amount": "10000000.00",
    "estimated_amount_wan": "1000.00 万元",
    "requested_at": "2026-11-20T10:00:00+08:00",
    "responded_at": None,
    "decline_reason": "",
    "application": None,
    "version": 1,
    "allowed_actions": ["confirm", "decline"],
    "item_id": None,
    "item_title": None,
}
CONFIRMED_EXAMPLE = {
    **CONFIRMATION_EXAMPLE,
    "state": "confirmed",
    "state_label": "企业已确认",
    "responded_at": "2026-11-21T09:30:00+08:00",
    "application": 57,
    "version": 2,
    "allowed_actions": [],
}
ANSWER_DESCRIPTION = (
    "企业用户（会话或本企业的密钥）带上读取时的 version 答复；已答复过再答复返回 409（什么都不改变），"
    "版本过期返回 409，不是本企业的 404，机构密钥和审核人员 403。可带 Idempotency-Key 头安全重试。"
    "The enterprise's user (session or its key) answers with the version read; a second answer is a 409 "
    "and changes nothing, a stale version a 409, another enterprise's a 404, machine keys and reviewers a "
    "403. Send an Idempotency-Key header to retry safely."
)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="免申即享意愿确认列表 List 免申即享 confirmations",
        description=(
            "企业用户看到本企业收到的意愿确认（state=requested 为待确认的）；审核人员和机构密钥看到全部。"
            "An enterprise's user sees its own requests (state=requested: still to answer); reviewers and "
            "machine keys see them all."
        ),
        examples=[examples.reply("待确认 Pending", CONFIRMATION_EXAMPLE)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一份意愿确认 One confirmation request",
        description="看不到的企业的意愿确认一律 404。Another enterprise's request is a 404.",
        examples=[examples.reply("待确认 Pending", CONFIRMATION_EXAMPLE)],
    ),
    confirm=extend_schema(
        tags=[TAG],
        summary="确认享受 Confirm (enterprise)",
        description=(
            "确认后按最新的权威数据再比对一次，形成一份待审核的申报（application）；按项目享受的，"
            "只比对该申报事项（item_id）的结果，申报也是该事项的，同一事项已有申报时返回 409。"
            "Confirming re-runs the comparison on authoritative data and makes an application under "
            "review; for a per-item benefit, on that item's own result, and the application is for that "
            "item (a 409 when the item already has one). " + ANSWER_DESCRIPTION
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=ConfirmSerializer,
        responses={200: ConfirmationSerializer},
        examples=[
            OpenApiExample("确认 Confirm", value={"version": 1}, request_only=True),
            examples.reply("已确认 Confirmed", CONFIRMED_EXAMPLE),
        ],
    ),
    decline=extend_schema(
        tags=[TAG],
        summary="放弃享受 Decline (enterprise)",
        description=(
            "放弃后该项目不再向本企业发起确认；按项目享受的只针对该申报事项（item_id）。"
            "Declined: not asked again (for a per-item benefit: for that item only). " + ANSWER_DESCRIPTION
        ),
        parameters=[IDEMPOTENCY_KEY],
        request=DeclineSerializer,
        responses={200: ConfirmationSerializer},
        examples=[
            OpenApiExample("放弃 Decline", value={"version": 1, "reason": "暂不需要"}, request_only=True),
            examples.reply(
                "已放弃 Declined",
                {
                    **CONFIRMATION_EXAMPLE,
                    "state": "declined",
                    "state_label": "企业已放弃",
                    "responded_at": "2026-11-21T09:30:00+08:00",
                    "decline_reason": "暂不需要",
                    "version": 2,
                    "allowed_actions": [],
                },
            ),
        ],
    ),
)
class ConfirmationViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    scopes = (Scope.READ_MATCHES, Scope.APPLICATIONS)
    write_scopes = (Scope.APPLICATIONS,)
    serializer_class = ConfirmationSerializer
    filterset_class = ConfirmationFilter
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Confirmation]:
        access = self.access
        rows = Confirmation.objects.select_related("enterprise", "item", "benefit__clause__document")
        if access.member_of is not None:
            visible = rows.filter(enterprise=access.member_of)
        elif access.user is None or access.user.has_perm(REVIEW_PERMISSION):
            visible = rows  # machine keys read like staff
        else:
            visible = rows.none()
        return access.restrict(visible).order_by("pk")

    def _answer(self, serializer_class, answer) -> Response:
        confirmation = self.get_object()  # 404 for what the caller may not see
        if self.access.user is None or self.access.member_of is None:
            raise PermissionDenied(_("只有企业本身可以答复意愿确认：请使用企业用户的登录会话或其 API 密钥。"))
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        answer(
            actor=self.access.user,
            confirmation_id=confirmation.pk,
            expected_version=data.pop("version"),
            **data,
        )
        confirmation = self.get_queryset().get(pk=confirmation.pk)
        return Response(ConfirmationSerializer(confirmation, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        return idempotent(
            request, lambda: self._answer(ConfirmSerializer, application_services.confirm_grant)
        )

    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return idempotent(
            request, lambda: self._answer(DeclineSerializer, application_services.decline_grant)
        )


# --- an application's materials checklist ---------------------------------------------------------------


class AttachmentRefSerializer(serializers.ModelSerializer):
    original_name = serializers.CharField(help_text=bilingual("原文件名。", "File name as uploaded."))

    class Meta:
        model = Attachment
        fields = ["id", "original_name", "kind", "size", "description", "uploaded_at"]
        extra_kwargs = {"size": {"help_text": bilingual("大小（字节）。", "Size in bytes.")}}


class MaterialCheckSerializer(serializers.ModelSerializer):
    verdict_label = serializers.CharField(
        source="get_verdict_display", help_text=bilingual("审核结果名称。", "Verdict label.")
    )

    class Meta:
        model = MaterialCheck
        fields = ["verdict", "verdict_label", "comment", "at"]
        extra_kwargs = {
            "verdict": {
                "help_text": bilingual("accepted 已认可；replace 需重新提交。", "accepted, or replace.")
            },
            "comment": {"help_text": bilingual("审核人的说明。", "The reviewer's comment.")},
            "at": {"help_text": bilingual("审核时间。", "Marked at.")},
        }


class ChecklistLineSerializer(serializers.Serializer):
    material = serializers.IntegerField(
        source="material.pk", help_text=bilingual("材料 id。", "Material id.")
    )
    key = serializers.CharField(source="material.key", help_text=bilingual("材料标识。", "Material key."))
    name = serializers.CharField(source="material.name", help_text=bilingual("材料名称。", "Name."))
    description = serializers.CharField(
        source="material.description", help_text=bilingual("说明。", "Notes.")
    )
    required = serializers.BooleanField(
        source="material.required", help_text=bilingual("提交前必须上传。", "Needed before submission.")
    )
    file_types = serializers.ListField(
        source="material.file_types",
        child=serializers.ChoiceField(choices=["pdf", "jpeg", "png"]),
        help_text=bilingual("允许的文件类型。", "File types accepted."),
    )
    per_item = serializers.BooleanField(
        source="material.per_item", help_text=bilingual("每个项目一份。", "One per item.")
    )
    template_url = serializers.CharField(
        source="material.template_url", help_text=bilingual("模板下载（可空）。", "Template link.")
    )
    present = serializers.BooleanField(help_text=bilingual("已上传。", "A file is attached."))
    missing = serializers.BooleanField(
        help_text=bilingual("必须提交但尚未上传。", "Required and not attached yet.")
    )
    attachments = AttachmentRefSerializer(
        many=True, help_text=bilingual("为该材料上传的文件。", "Files attached for it.")
    )
    check = MaterialCheckSerializer(
        allow_null=True, help_text=bilingual("审核人的标记；未审核为 null。", "The reviewer's mark, or null.")
    )


class CallRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=bilingual("申报通知 id。", "Call id."))
    title = serializers.CharField(help_text=bilingual("标题。", "Title."))
    is_demo = serializers.BooleanField(help_text=bilingual("演示数据。", "Demo data."))


class ChecklistSerializer(serializers.Serializer):
    application = serializers.IntegerField(help_text=bilingual("申报 id。", "Application id."))
    call = CallRefSerializer(
        allow_null=True,
        help_text=bilingual(
            "申报所依据的申报通知；null 表示该项目没有申报通知（至少上传一份材料即可提交）。",
            "The call applied under; null: the benefit has no call (one file suffices).",
        ),
    )
    complete = serializers.BooleanField(
        help_text=bilingual("必须提交的材料都已上传。", "Every required material is attached.")
    )
    materials = ChecklistLineSerializer(many=True)
    other_attachments = AttachmentRefSerializer(
        many=True, help_text=bilingual("未对应具体材料的文件。", "Files not tied to a listed material.")
    )


ATTACHMENT_EXAMPLE = {
    "id": 88,
    "original_name": "租赁合同.pdf",
    "kind": "pdf",
    "size": 182044,
    "description": "租赁合同",
    "uploaded_at": "2026-06-10T14:00:00+08:00",
}
CHECKLIST_EXAMPLE = {
    "application": 7,
    "call": {"id": 3, "title": "（演示）闵行区2026年度新型工业化政策项目申报通知", "is_demo": True},
    "complete": False,
    "materials": [
        {
            "material": 41,
            "key": "project-proof",
            "name": "项目证明材料",
            "description": "租赁合同、购房合同等。",
            "required": True,
            "file_types": ["pdf", "jpeg", "png"],
            "per_item": True,
            "template_url": "",
            "present": True,
            "missing": False,
            "attachments": [ATTACHMENT_EXAMPLE],
            "check": {
                "verdict": "replace",
                "verdict_label": "需重新提交",
                "comment": "请加盖公章。",
                "at": "2026-06-12T09:00:00+08:00",
            },
        },
        {
            "material": 42,
            "key": "business-licence",
            "name": "营业执照",
            "description": "",
            "required": True,
            "file_types": ["pdf", "jpeg", "png"],
            "per_item": False,
            "template_url": "",
            "present": False,
            "missing": True,
            "attachments": [],
            "check": None,
        },
    ],
    "other_attachments": [],
}


# --- an application's payouts ---------------------------------------------------------------------------

STAGE_STATES = {
    "planned": gettext_lazy("待拨付"),
    "publicised": gettext_lazy("公示中"),
    "paid": gettext_lazy("已到账"),
}


def stage_state(stage: PayoutStage) -> str:
    if stage.paid:
        return "paid"
    return "publicised" if stage.publicised_on else "planned"


class PayoutStageSerializer(serializers.ModelSerializer):
    share = serializers.DecimalField(
        max_digits=7,
        decimal_places=6,
        coerce_to_string=True,
        help_text=bilingual('占核定金额的比例，例如 "0.500000"。', "Share of the approved amount."),
    )
    amount = MoneyField(allow_null=False, help_text=bilingual("本期计划金额（元）。", "Planned yuan."))
    amount_wan = WanField(source="amount", help_text=bilingual("本期金额（万元）。", "In 万元."))
    paid_amount = serializers.SerializerMethodField(
        help_text=bilingual('已到账金额（元）：到账则为本期金额，否则 "0.00"。', "Paid yuan.")
    )
    state = serializers.SerializerMethodField(
        help_text=bilingual(
            "planned 待拨付、publicised 公示中、paid 已到账。", "planned, publicised or paid."
        )
    )
    state_label = serializers.SerializerMethodField(help_text=bilingual("状态名称。", "State label."))

    class Meta:
        model = PayoutStage
        fields = [
            "order", "condition", "share", "amount", "amount_wan", "paid_amount", "state", "state_label",
            "publicised_on", "payment_order", "paid_on", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "order": {"help_text": bilingual("第几期。", "Stage number.")},
            "condition": {"help_text": bilingual("拨付条件，例如验收通过后。", "When it is paid.")},
            "publicised_on": {"help_text": bilingual("公示日期。", "Publicised on.")},
            "payment_order": {"help_text": bilingual("支付凭证号。", "Payment order number.")},
            "paid_on": {"help_text": bilingual("到账日期；未到账为 null。", "Received on, or null.")},
        }

    @extend_schema_field({"type": "string", "format": "decimal", "example": "4000000.00"})
    def get_paid_amount(self, stage: PayoutStage) -> str:
        return f"{stage.amount:.2f}" if stage.paid else "0.00"

    @extend_schema_field({"type": "string", "enum": list(STAGE_STATES)})
    def get_state(self, stage: PayoutStage) -> str:
        return stage_state(stage)

    @extend_schema_field(OpenApiTypes.STR)
    def get_state_label(self, stage: PayoutStage) -> str:
        return str(STAGE_STATES[stage_state(stage)])


class PayoutPlanSerializer(serializers.Serializer):
    application = serializers.IntegerField(help_text=bilingual("申报 id。", "Application id."))
    reference = serializers.CharField(help_text=bilingual("申报编号。", "Reference number."))
    approved_amount = MoneyField(help_text=bilingual("核定金额（元）；未批准为 null。", "Approved yuan."))
    approved_amount_wan = WanField(source="approved_amount", help_text="核定金额（万元）In 万元")
    planned_amount = MoneyField(
        allow_null=False, help_text=bilingual("各期计划金额合计（元）。", "Sum of the stages (yuan).")
    )
    paid_amount = MoneyField(allow_null=False, help_text=bilingual("已到账合计（元）。", "Paid (yuan)."))
    paid_amount_wan = WanField(source="paid_amount", help_text="已到账（万元）Paid in 万元")
    outstanding_amount = MoneyField(
        allow_null=False, help_text=bilingual("待拨付（元）。", "Still to be paid (yuan).")
    )
    stages = PayoutStageSerializer(
        many=True, help_text=bilingual("拨付阶段；批准前为空。", "Stages; empty before approval.")
    )


PAYOUTS_EXAMPLE = {
    "application": 7,
    "reference": "SB000007",
    "approved_amount": "8000000.00",
    "approved_amount_wan": "800.00 万元",
    "planned_amount": "8000000.00",
    "paid_amount": "4000000.00",
    "paid_amount_wan": "400.00 万元",
    "outstanding_amount": "4000000.00",
    "stages": [
        {
            "order": 1,
            "condition": "签订协议后",
            "share": "0.500000",
            "amount": "4000000.00",
            "amount_wan": "400.00 万元",
            "paid_amount": "4000000.00",
            "state": "paid",
            "state_label": "已到账",
            "publicised_on": "2026-07-01",
            "payment_order": "MH-ZF-0001",
            "paid_on": "2026-07-20",
            "updated_at": "2026-07-20T15:00:00+08:00",
        },
        {
            "order": 2,
            "condition": "验收通过后",
            "share": "0.500000",
            "amount": "4000000.00",
            "amount_wan": "400.00 万元",
            "paid_amount": "0.00",
            "state": "planned",
            "state_label": "待拨付",
            "publicised_on": None,
            "payment_order": "",
            "paid_on": None,
            "updated_at": "2026-06-30T10:00:00+08:00",
        },
    ],
}
