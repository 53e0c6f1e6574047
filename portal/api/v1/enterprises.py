"""Enterprises: staff and machine keys list, create and update; an enterprise user sees its own only.

Updates are optimistic: PATCH carries the `version` the client read; a stale one is a 409 problem
and nothing is written (enterprises.services.update_enterprise decides).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from enterprises import services as enterprise_services
from enterprises.models import Enterprise, Source
from portal.api import examples
from portal.api.base import ApiViewMixin, bilingual
from portal.api.idempotency import PARAMETER as IDEMPOTENCY_KEY
from portal.api.idempotency import idempotent
from portal.api.serializers import InstantFilter, StrictFilterSet, StrictSerializerMixin
from portal.models import Scope

TAG = "企业 Enterprises"

# --- filters --------------------------------------------------------------------------------------------


class EnterpriseFilter(StrictFilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        help_text=bilingual("名称包含，或统一社会信用代码等于。", "Name contains, or credit code equals."),
    )
    credit_code = django_filters.CharFilter(
        help_text=bilingual("统一社会信用代码。", "Unified social credit code.")
    )
    updated_since = InstantFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=bilingual(
            "只返回此后修改过的企业（ISO 8601）。", "Only enterprises updated since (ISO 8601)."
        ),
    )

    class Meta:
        model = Enterprise
        fields = ["q", "credit_code", "updated_since"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(Q(name__icontains=value) | Q(credit_code__iexact=value)) if value else queryset


# --- serializers ----------------------------------------------------------------------------------------

HELP = {
    "name": ("企业名称。", "Registered name."),
    "credit_code": (
        "统一社会信用代码（18 位，含校验位）。",
        "Unified social credit code (18 characters, checked).",
    ),
    "district": ("所在区。", "District."),
    "town": ("街镇。", "Town or sub-district."),
    "address": ("地址。", "Address."),
    "registered_on": ("成立日期。", "Date of establishment."),
    "legal_form": ("组织形式。", "Legal form."),
    "industry_code": ("国民经济行业分类代码（4 位，如 3511）。", "GB/T 4754 industry class, 4 digits."),
    "scale": ("企业规模。", "Enterprise scale."),
    "is_foreign_invested": ("是否外资企业；null 表示未填报。", "Foreign-invested; null: not stated."),
    "above_scale": ("是否规模以上工业企业；null 表示未填报。", "Above designated size; null: not stated."),
    "above_scale_since": ("首次纳入规上统计年份。", "First year above designated size."),
    "listing_exchange": ("上市交易所。", "Stock exchange."),
    "listed_on": ("上市日期。", "Listing date."),
    "recognitions_declared": (
        "认定情况已完整填报（否则“没有某认定”视为未知）。",
        "The list of recognitions is complete (otherwise a missing one is unknown).",
    ),
    "projects_declared": ("近两年项目已完整填报。", "The list of recent projects is complete."),
    "source": ("数据来源。", "Where the data came from."),
    "created_at": ("创建时间。", "Created at."),
    "updated_at": ("最近修改时间。", "Last updated at."),
}


class EnterpriseSerializer(StrictSerializerMixin, serializers.ModelSerializer):
    industry_tracks = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=bilingual(
            "重点产业领域（事实 industry_tracks 的可选值）。",
            "Key industry tracks (values of fact industry_tracks).",
        ),
    )
    industry_subtracks = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=bilingual("细分赛道。", "Industry sub-tracks."),
    )
    version = serializers.IntegerField(
        read_only=True,
        help_text=bilingual(
            "资料版本：修改时原样带回，用于发现并发修改。", "Profile version; send it back on PATCH."
        ),
    )

    class Meta:
        model = Enterprise
        fields = [
            "id", "name", "credit_code", "district", "town", "address", "registered_on", "legal_form",
            "industry_code", "industry_tracks", "industry_subtracks", "scale", "is_foreign_invested",
            "above_scale", "above_scale_since", "listing_exchange", "listed_on", "recognitions_declared",
            "projects_declared", "source", "version", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["source", "created_at", "updated_at"]
        extra_kwargs = {name: {"help_text": bilingual(*text)} for name, text in HELP.items()}


class EnterpriseUpdateSerializer(EnterpriseSerializer):
    version = serializers.IntegerField(
        min_value=1,
        help_text=bilingual("读取时得到的版本（必填）。", "The version you read (required)."),
    )

    class Meta(EnterpriseSerializer.Meta):
        extra_kwargs = {
            name: {**kwargs, "required": False}
            for name, kwargs in EnterpriseSerializer.Meta.extra_kwargs.items()
        }


# --- views ----------------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="企业列表 List enterprises",
        description=(
            "工作人员和机构密钥看到全部（或密钥限定的）企业；企业用户只看到本企业。"
            "Staff and machine keys see every enterprise (or the key's list); an enterprise user sees its own."
        ),
        examples=[examples.reply("一家企业 An enterprise", examples.ENTERPRISE)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一个企业 One enterprise",
        description="看不到的企业一律 404。An enterprise you may not see is a 404.",
        examples=[examples.reply("一家企业 An enterprise", examples.ENTERPRISE)],
    ),
    create=extend_schema(
        tags=[TAG],
        summary="新建企业 Create an enterprise",
        parameters=[IDEMPOTENCY_KEY],
        description=(
            "需要 write_enterprises 权限（或工作人员账号）。可带 Idempotency-Key 头安全重试。"
            "Needs scope write_enterprises (or a staff account). Send an Idempotency-Key header to retry safely."
        ),
        examples=[
            OpenApiExample("新建 Create", value=examples.ENTERPRISE_REQUEST, request_only=True),
            examples.reply("已创建 Created", {**examples.ENTERPRISE, "version": 1}, "201"),
        ],
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="修改企业 Update an enterprise",
        description=(
            "只提交要改的字段，并带上读取时的 version；version 过期返回 409，什么都不写入。"
            "Send the fields to change and the version you read; a stale version is a 409 and nothing is written."
        ),
        request=EnterpriseUpdateSerializer,
        responses={
            200: EnterpriseSerializer,
            409: OpenApiResponse(description="version 已过期 Stale version"),
        },
        examples=[
            OpenApiExample(
                "修改 Update", value={"version": 3, "scale": "medium", "above_scale": True}, request_only=True
            ),
            examples.reply("已修改 Updated", {**examples.ENTERPRISE, "version": 4, "scale": "medium"}),
        ],
    ),
)
class EnterpriseViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    scopes = (Scope.READ_MATCHES, Scope.WRITE_ENTERPRISES)
    write_scopes = (Scope.WRITE_ENTERPRISES,)
    filterset_class = EnterpriseFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return self.access.enterprises()

    def get_serializer_class(self):
        return EnterpriseUpdateSerializer if self.action == "partial_update" else EnterpriseSerializer

    def create(self, request, *args, **kwargs):
        if not self.access.may_create_enterprises():
            raise PermissionDenied(_("此账号或密钥不能新建企业。"))
        return idempotent(request, lambda: mixins.CreateModelMixin.create(self, request, *args, **kwargs))

    def perform_create(self, serializer):
        serializer.instance = enterprise_services.create_enterprise(
            data={**serializer.validated_data, "source": Source.STAFF}, actor=self.access.actor
        )

    def partial_update(self, request, *args, **kwargs):
        enterprise = self.get_object()  # 404 before 403: no hint that an invisible one exists
        if not self.access.may_edit(enterprise):
            raise PermissionDenied(_("您不能修改这家企业的资料。"))
        serializer = self.get_serializer(enterprise, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        expected = changes.pop("version", None)
        if expected is None:
            raise serializers.ValidationError({"version": [_("请带上读取时得到的 version。")]})
        # A stale version raises StaleEditError (409); a repeat of an edit already stored is a no-op.
        updated = enterprise_services.update_enterprise(
            enterprise_id=enterprise.pk, expected_version=expected, changes=changes, actor=self.access.actor
        )
        return Response(EnterpriseSerializer(updated, context=self.get_serializer_context()).data)

    def get_success_headers(self, data):
        return {"Location": self.request.build_absolute_uri(f"{data['id']}/")} if "id" in data else {}
