"""Applications (scope applications): an enterprise creates, edits, submits, withdraws and resubmits its
own; reviewers start the review, return, approve, reject and assign. Every action is a POST carrying the
`version` the client read and goes through applications.services, which checks the actor's rights, the
version (stale: 409) and the transition table (not allowed now: 409), and records the audit trail.

Who sees what: an enterprise user its own enterprise's applications, drafts included; reviewers and
machine keys the applications submitted at least once (drafts stay private), within the key's list.
Actions need a person: a session, or a key tied to a user.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from applications import selectors as application_selectors
from applications import services as application_services
from applications.models import Application, ApplicationEvent, State
from policies.models import Benefit
from portal.api import examples
from portal.api.base import ApiViewMixin, bilingual
from portal.api.fields import MoneyField, WanField
from portal.api.idempotency import PARAMETER as IDEMPOTENCY_KEY
from portal.api.idempotency import idempotent
from portal.api.serializers import StrictSerializerMixin
from portal.api.v1.grants import (
    ChecklistSerializer,
    PayoutPlanSerializer,
)
from portal.api.v1.matches.filters import VisibleEnterpriseFilterMixin
from portal.api.v1.matches.output import BenefitRefSerializer
from portal.models import Scope

TAG = "申报 Applications"
STAFF_PERMISSIONS = ("applications.view_application", application_services.REVIEW_PERMISSION)


class ApplicationFilter(VisibleEnterpriseFilterMixin):
    benefit = django_filters.NumberFilter(
        field_name="benefit_id", help_text=bilingual("扶持项目 id。", "Benefit id.")
    )
    state = django_filters.MultipleChoiceFilter(
        choices=State.choices, help_text=bilingual("状态，可重复。", "State; repeat for several.")
    )

    class Meta:
        model = Application
        fields = ["enterprise", "benefit", "state"]


# --- serializers ----------------------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    amount = MoneyField(read_only=True, help_text=bilingual("金额（元）。", "Amount (yuan)."))

    class Meta:
        model = ApplicationEvent
        fields = ["action", "from_state", "to_state", "comment", "amount", "at"]


class ApplicationSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True, help_text=bilingual("申报编号。", "Reference number."))
    benefit = BenefitRefSerializer(read_only=True)
    state_label = serializers.CharField(
        source="get_state_display", read_only=True, help_text="状态名称 State label"
    )
    requested_amount = MoneyField(
        read_only=True, help_text=bilingual("申请金额（元）；null 表示未填写。", "Requested yuan.")
    )
    requested_amount_wan = WanField(source="requested_amount", help_text="申请金额（万元）In 万元")
    approved_amount = MoneyField(read_only=True, help_text=bilingual("核定金额（元）。", "Approved yuan."))
    approved_amount_wan = WanField(source="approved_amount", help_text="核定金额（万元）In 万元")
    allowed_actions = serializers.SerializerMethodField(
        help_text=bilingual(
            "当前状态允许的操作（是否有权另行判断）。", "Actions the state allows (rights aside)."
        )
    )

    class Meta:
        model = Application
        fields = [
            "id", "reference", "enterprise", "benefit", "state", "state_label", "requested_amount",
            "requested_amount_wan", "approved_amount", "approved_amount_wan", "project_summary", "contact_name",
            "contact_phone", "information_request", "resubmission_note", "decision_reason", "reviewer",
            "version", "allowed_actions", "created_at", "updated_at", "submitted_at", "last_submitted_at",
            "decided_at", "item",
        ]  # fmt: skip
        extra_kwargs = {
            "item": {
                "help_text": bilingual(
                    "申报事项 id（按项目计算的扶持项目）；其他项目为 null。",
                    "The item applied for (per-item benefits); null otherwise.",
                )
            },
            "version": {
                "help_text": bilingual("版本：每个操作都要带上读取时的版本。", "Send it with every action.")
            },
            "information_request": {
                "help_text": bilingual("审核人要求补充的材料。", "What the reviewer asked for.")
            },
            "decision_reason": {"help_text": bilingual("审核意见。", "The reviewer's decision reason.")},
        }

    def get_allowed_actions(self, application: Application) -> list[str]:
        return sorted(application_services.allowed_actions(application))


class ApplicationDetailSerializer(ApplicationSerializer):
    events = EventSerializer(many=True, read_only=True, help_text=bilingual("操作记录。", "Audit trail."))
    explanation_snapshot = serializers.JSONField(
        read_only=True, help_text=bilingual("提交时的匹配说明。", "The engine's explanation when submitted.")
    )

    class Meta(ApplicationSerializer.Meta):
        fields = [*ApplicationSerializer.Meta.fields, "explanation_snapshot", "events"]


class DraftSerializer(StrictSerializerMixin, serializers.Serializer):
    requested_amount = MoneyField(
        required=False,
        min_value=0,
        help_text=bilingual("申请金额（元）；不填表示未填写。", "Requested yuan; optional."),
    )
    project_summary = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=30)


class CreateSerializer(DraftSerializer):
    benefit = serializers.PrimaryKeyRelatedField(
        queryset=Benefit.objects.all(),
        help_text=bilingual("要申报的扶持项目 id。", "The benefit applied for."),
    )
    item_id = serializers.IntegerField(
        min_value=1,
        required=False,
        source="item",
        help_text=bilingual(
            "申报事项 id（本企业的事项）：按项目计算的扶持项目必填，其他项目不填。",
            "The item applied for (one of your own items): required for a per-item benefit, absent otherwise.",
        ),
    )


class VersionSerializer(StrictSerializerMixin, serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, help_text=bilingual("读取时得到的版本。", "The version you read.")
    )


class UpdateSerializer(DraftSerializer, VersionSerializer):
    pass


class AttachmentUploadSerializer(StrictSerializerMixin, serializers.Serializer):
    file = serializers.FileField(
        help_text=bilingual(
            "申报材料：PDF、JPEG 或 PNG（按内容检查），不超过 10 MB。",
            "A material: PDF, JPEG or PNG (checked by content), at most 10 MB.",
        )
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=bilingual("材料说明，例如“租赁合同”。", "What the file is, e.g. the lease contract."),
    )


class WithdrawSerializer(VersionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ResubmitSerializer(VersionSerializer):
    answer = serializers.CharField(
        max_length=20_000, help_text=bilingual("补充了哪些材料。", "What was supplied.")
    )


class ReturnSerializer(VersionSerializer):
    needed = serializers.CharField(
        max_length=20_000, help_text=bilingual("需补充的材料。", "What is needed.")
    )


class ApproveSerializer(VersionSerializer):
    amount = MoneyField(
        allow_null=False,
        min_value=0,
        help_text=bilingual("核定金额（元），不超过上限。", "Approved yuan, within the cap."),
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=20_000)


class RejectSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=20_000, help_text=bilingual("不予通过的理由。", "Why not."))


class AssignSerializer(VersionSerializer):
    reviewer = serializers.IntegerField(
        allow_null=True,
        min_value=1,
        help_text=bilingual("审核人用户 id；null 取消分派。", "Reviewer user id; null: none."),
    )


# --- views ----------------------------------------------------------------------------------------------


def _action_schema(summary: str, request, example: dict | None = None):
    return extend_schema(
        tags=[TAG],
        summary=summary,
        description=(
            "带上读取时的 version；版本过期、重复提交或当前状态不允许时返回 409，没有权限时返回 403。"
            "Send the version you read; stale, repeated or not allowed in the current state: 409; not yours "
            "to do: 403."
        ),
        request=request,
        responses={200: ApplicationDetailSerializer},
        examples=[
            OpenApiExample("请求 Request", value=example or {"version": 2}, request_only=True),
            examples.reply("申报 Application", examples.APPLICATION_DETAIL),
        ],
    )


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="申报列表 List applications",
        description=(
            "企业用户看到本企业的全部申报（含草稿）；审核人员和机构密钥看到已提交过的申报。"
            "An enterprise user sees its company's applications, drafts included; reviewers and machine keys "
            "see those submitted at least once."
        ),
        examples=[examples.reply("已提交 Submitted", examples.APPLICATION)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一份申报及操作记录 One application with its audit trail",
        description="含提交时冻结的匹配说明和操作记录。With the frozen explanation and the audit trail.",
        examples=[examples.reply("已提交 Submitted", examples.APPLICATION_DETAIL)],
    ),
    create=extend_schema(
        tags=[TAG],
        summary="新建申报草稿 Create a draft (enterprise)",
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "企业用户为本企业新建草稿；同一项目已有进行中的申报时返回 409。可带 Idempotency-Key 头安全重试。"
            "An enterprise user drafts an application for its own company; an open one for the same benefit "
            "is a 409. Send an Idempotency-Key header to retry safely."
        ),
        request=CreateSerializer,
        responses={201: ApplicationDetailSerializer},
        examples=[
            OpenApiExample(
                "草稿 Draft",
                value={"benefit": 4, "requested_amount": "5000000.00", "contact_name": "张三"},
                request_only=True,
            ),
            examples.reply(
                "草稿 Draft", {**examples.APPLICATION_DETAIL, "state": "draft", "version": 1}, "201"
            ),
        ],
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="修改草稿 Edit a draft (enterprise)",
        description=(
            "草稿或退回补充时可改；只提交要改的字段和 version。"
            "Editable as a draft or when returned; send the fields to change and the version."
        ),
        request=UpdateSerializer,
        responses={200: ApplicationDetailSerializer},
        examples=[
            OpenApiExample(
                "修改 Edit", value={"version": 1, "contact_phone": "021-12345678"}, request_only=True
            ),
            examples.reply("草稿 Draft", {**examples.APPLICATION_DETAIL, "state": "draft", "version": 2}),
        ],
    ),
    submit=_action_schema("提交 Submit (enterprise)", VersionSerializer),
    attachments=extend_schema(
        tags=[TAG],
        summary="上传申报材料 Attach a material (enterprise)",
        description=(
            "multipart/form-data 上传一个文件；草稿或退回补充时可传。提交前至少要有一份材料。"
            "Upload one file as multipart/form-data, while a draft or returned; submission needs at least one."
        ),
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: ApplicationDetailSerializer},
        examples=[
            OpenApiExample(
                "租赁合同 Lease contract",
                value={"file": "(PDF)", "description": "租赁合同"},
                request_only=True,
                media_type="multipart/form-data",
            ),
            examples.reply("申报 Application", examples.APPLICATION_DETAIL, "201"),
        ],
    ),
    withdraw=_action_schema(
        "撤回 Withdraw (enterprise)", WithdrawSerializer, {"version": 2, "reason": "项目推迟"}
    ),
    resubmit=_action_schema(
        "补充后重新提交 Resubmit (enterprise)",
        ResubmitSerializer,
        {"version": 5, "answer": "已补充租赁合同。"},
    ),
    start_review=_action_schema("开始审核 Start review (reviewer)", VersionSerializer),
    return_for_information=_action_schema(
        "退回补充 Return for information (reviewer)",
        ReturnSerializer,
        {"version": 3, "needed": "请补充租赁合同。"},
    ),
    approve=_action_schema(
        "批准 Approve (reviewer)",
        ApproveSerializer,
        {"version": 3, "amount": "8000000.00", "comment": "同意"},
    ),
    reject=_action_schema(
        "不予通过 Reject (reviewer)", RejectSerializer, {"version": 3, "reason": "不符合条件。"}
    ),
    assign=_action_schema("分派审核人 Assign a reviewer", AssignSerializer, {"version": 2, "reviewer": 5}),
    materials=extend_schema(
        tags=[TAG],
        summary="申报材料清单 Materials checklist",
        description=(
            "申报所依据的申报通知要求的每项材料：是否必须、已上传的文件、审核人的标记（已认可 / 需重新提交）。"
            "通知按最近一次提交的时刻（未提交则按现在）确定。"
            "Each material the call asks for: required or not, the files attached for it, the reviewer's "
            "mark (accepted / to be replaced). The call is the one at the last submission (else now)."
        ),
        responses={200: ChecklistSerializer},
        examples=[examples.reply("清单 Checklist", examples.CHECKLIST)],
    ),
    payouts=extend_schema(
        tags=[TAG],
        summary="拨付计划与进度 Payout plan and stages",
        description=(
            "批准后按扶持项目的拨付安排分期：每期计划金额、已到账金额（元，两位小数的字符串）、公示和到账日期。"
            "批准前 stages 为空。"
            "After approval, the approved amount split by the benefit's schedule: each stage's planned and "
            "paid yuan (strings with two decimals), its publicity and payment dates. Empty before approval."
        ),
        responses={200: PayoutPlanSerializer},
        examples=[examples.reply("两期 Two stages", examples.PAYOUTS)],
    ),
)
class ApplicationViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    scopes = (Scope.APPLICATIONS,)
    filterset_class = ApplicationFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Application]:
        access = self.access
        if access.member_of is not None:
            visible = application_selectors.applications_of(access.member_of)
        elif access.user is None or any(access.user.has_perm(p) for p in STAFF_PERMISSIONS):
            visible = application_selectors.staff_applications()  # machine keys read like staff
        else:
            visible = Application.objects.none()
        queryset = access.restrict(visible).order_by()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("events")
        return queryset

    def get_serializer_class(self):
        return ApplicationDetailSerializer if self.action == "retrieve" else ApplicationSerializer

    def _actor(self):
        if self.access.user is None:
            raise PermissionDenied(_("申报操作需要代表具体用户：请使用登录会话或绑定用户的 API 密钥。"))
        return self.access.user

    def _reply(self, application: Application, status: int = 200) -> Response:
        application = (
            self.get_queryset().prefetch_related("events").filter(pk=application.pk).first() or application
        )
        return Response(
            ApplicationDetailSerializer(application, context=self.get_serializer_context()).data, status
        )

    def _payload(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._create_draft(request))

    def _create_draft(self, request) -> Response:
        actor = self._actor()
        enterprise = self.access.member_of
        limited_to = self.access.limited_to
        if enterprise is None or (limited_to is not None and enterprise.pk not in limited_to):
            raise PermissionDenied(_("只有企业用户可以为本企业新建申报。"))
        data = self._payload(CreateSerializer)
        try:
            application = application_services.create_draft(
                actor=actor,
                enterprise_id=enterprise.pk,
                benefit_id=data.pop("benefit").pk,
                item_id=data.pop("item", None),
                **data,
            )
        except DjangoValidationError as error:  # the service's "item" is the request's item_id
            if hasattr(error, "error_dict") and "item" in error.error_dict:
                error.error_dict["item_id"] = error.error_dict.pop("item")
            raise
        response = self._reply(application, 201)
        response["Location"] = request.build_absolute_uri(f"{application.pk}/")
        return response

    def partial_update(self, request, *args, **kwargs):
        application = self.get_object()
        data = self._payload(UpdateSerializer)
        current = {
            "requested_amount": application.requested_amount,
            "project_summary": application.project_summary,
            "contact_name": application.contact_name,
            "contact_phone": application.contact_phone,
        }
        expected = data.pop("version")
        application = application_services.update_draft(
            actor=self._actor(), application_id=application.pk, expected_version=expected, **(current | data)
        )
        return self._reply(application)

    def _transition(self, service, serializer_class=VersionSerializer, **renamed) -> Response:
        application = self.get_object()  # 404 for what the caller may not see
        data = self._payload(serializer_class)
        arguments = {renamed.get(name, name): value for name, value in data.items() if name != "version"}
        application = service(
            actor=self._actor(), application_id=application.pk, expected_version=data["version"], **arguments
        )
        return self._reply(application)

    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(application_services.submit)

    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def attachments(self, request, pk=None):
        application = self.get_object()  # 404 for what the caller may not see
        data = self._payload(AttachmentUploadSerializer)
        application_services.add_attachment(
            actor=self._actor(),
            application_id=application.pk,
            upload=data["file"],
            description=data.get("description", ""),
        )
        return self._reply(application, 201)

    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(application_services.withdraw, WithdrawSerializer)

    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        return self._transition(application_services.resubmit, ResubmitSerializer)

    @action(detail=True, methods=["post"], url_path="start-review")
    def start_review(self, request, pk=None):
        return self._transition(application_services.start_review)

    @action(detail=True, methods=["post"], url_path="return")
    def return_for_information(self, request, pk=None):
        return self._transition(application_services.return_for_information, ReturnSerializer)

    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(application_services.approve, ApproveSerializer)

    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._transition(application_services.reject, RejectSerializer)

    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def materials(self, request, pk=None):
        application = self.get_object()  # 404 for what the caller may not see
        call = application_selectors.call_for(
            application.benefit_id, application.last_submitted_at or timezone.now()
        )
        lines = application_selectors.material_checklist(application, call)
        listed = {attachment.pk for line in lines for attachment in line.attachments}
        attachments = list(application.attachments.all())
        body = {
            "application": application.pk,
            "call": call,
            "complete": not any(line.missing for line in lines) if lines else bool(attachments),
            "materials": lines,
            "other_attachments": [a for a in attachments if a.pk not in listed],
        }
        return Response(ChecklistSerializer(body).data)

    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def payouts(self, request, pk=None):
        application = self.get_object()  # 404 for what the caller may not see
        stages = list(application.payout_stages.order_by("order"))
        planned = sum((stage.amount for stage in stages), Decimal("0.00"))
        paid = sum((stage.amount for stage in stages if stage.paid), Decimal("0.00"))
        body = {
            "application": application.pk,
            "reference": application.reference,
            "approved_amount": application.approved_amount,
            "planned_amount": planned,
            "paid_amount": paid,
            "outstanding_amount": planned - paid,
            "stages": stages,
        }
        return Response(PayoutPlanSerializer(body).data)

    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._transition(
            application_services.assign_reviewer, AssignSerializer, reviewer="reviewer_id"
        )
