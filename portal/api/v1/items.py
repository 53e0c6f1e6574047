"""Items of enterprises (projects, facilities, products, events paid for one by one): read, create,
update and delete through enterprises/items.py.

Visibility is the enterprise's: a caller sees the items of the enterprises it sees (an enterprise's key
only its own), and writes those it may edit. Updates and deletes are optimistic: the item's `version`
(read from the item) is sent back; a stale one is a 409 problem and nothing is written.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from enterprises import items as item_services
from enterprises.models import Item, Source
from enterprises.presentation import item_values
from matching.models import MatchItemResult
from policies.models import ItemKind
from portal.api import examples
from portal.api.base import ApiViewMixin, bilingual
from portal.api.idempotency import PARAMETER as IDEMPOTENCY_KEY
from portal.api.idempotency import idempotent
from portal.api.serializers import StrictSerializerMixin
from portal.api.v1.matches.filters import VisibleEnterpriseFilterMixin
from portal.models import Scope

TAG = "企业 Enterprises"


class ItemFilter(VisibleEnterpriseFilterMixin):
    kind = django_filters.CharFilter(
        help_text=bilingual(
            "事项类型代码（见事实目录的 item_kind）。", "Item kind code (item_kind in the fact catalog)."
        )
    )

    class Meta:
        model = Item
        fields = ["enterprise", "kind"]


class ItemValueSerializer(serializers.Serializer):
    fact = serializers.CharField(help_text=bilingual("事实代码。", "Fact code."))
    label = serializers.CharField(
        help_text=bilingual("事实名称（按请求语言）。", "Fact label, in the request's language.")
    )
    display = serializers.CharField(
        help_text=bilingual(
            "供人阅读的值（金额以万元、带单位）。", "The value as people read it (money in 万元, with units)."
        )
    )


VALUES_HELP = bilingual(
    "事项信息：以事实代码为键（该类事项的事实）；金额为元的字符串，日期 YYYY-MM-DD，多选为列表；未知的不出现。",
    "The item's values keyed by fact code (facts of its kind); money as a string of yuan, dates YYYY-MM-DD, "
    "sets as lists; unknown values are absent.",
)


class ItemMatchSerializer(serializers.Serializer):
    """The stored verdict of one per-item benefit for this item (additive: items of a kind no per-item
    benefit reads, or not yet evaluated, have an empty list)."""

    benefit = serializers.CharField(
        source="benefit.global_key", help_text=bilingual("扶持项目标识。", "Benefit key.")
    )
    benefit_id = serializers.IntegerField(help_text=bilingual("扶持项目 id。", "Benefit id."))
    benefit_name = serializers.CharField(
        source="benefit.name", help_text=bilingual("扶持项目名称。", "Benefit name.")
    )
    status = serializers.CharField(
        help_text=bilingual(
            "该事项的结论：eligible、pending_recognition、needs_info、not_eligible。",
            "This item's status: eligible, pending_recognition, needs_info, not_eligible.",
        )
    )
    status_label = serializers.CharField(
        source="get_status_display",
        help_text=bilingual("结论（按请求语言）。", "Status, in the request's language."),
    )
    score = serializers.IntegerField(help_text=bilingual("匹配度 0–100。", "Score 0–100."))
    amount = serializers.DecimalField(
        max_digits=16,
        decimal_places=2,
        allow_null=True,
        help_text=bilingual(
            "该事项的预估金额（元）；null 表示原文未定或无法估算，不是 0。",
            "This item's estimated amount in yuan; null when not stated or not estimable, never 0.",
        ),
    )
    amount_basis = serializers.CharField(help_text=bilingual("金额依据代码。", "Amount basis code."))
    leaf_outcomes = serializers.CharField(
        help_text=bilingual(
            "各条件结果，每条件一个字母：v 满足，x 不满足，? 未知。",
            "One letter per condition: v met, x unmet, ? unknown.",
        )
    )
    as_of = serializers.DateField(help_text=bilingual("评估日期。", "Evaluation date."))


class ItemSerializer(serializers.ModelSerializer):
    enterprise = serializers.IntegerField(
        source="enterprise_id", help_text=bilingual("企业 id。", "Enterprise id.")
    )
    kind = serializers.CharField(help_text=bilingual("事项类型代码。", "Item kind code."))
    kind_label = serializers.SerializerMethodField(help_text=bilingual("事项类型名称。", "Item kind label."))
    values = serializers.DictField(help_text=VALUES_HELP)
    values_display = serializers.SerializerMethodField(
        help_text=bilingual("已知的信息项，供人阅读。", "The known values, as people read them.")
    )
    version = serializers.IntegerField(
        help_text=bilingual(
            "事项版本：修改或删除时原样带回。", "Item version; send it back to update or delete."
        )
    )
    match_results = ItemMatchSerializer(
        many=True,
        read_only=True,
        help_text=bilingual(
            "按项目计算的扶持项目对该事项的结论（每项一条）。",
            "The verdict of each per-item benefit for this item (one entry per benefit).",
        ),
    )

    class Meta:
        model = Item
        fields = [
            "id", "enterprise", "kind", "kind_label", "title", "external_ref", "values", "values_display",
            "source", "version", "created_at", "updated_at", "match_results",
        ]  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {
            "title": {"help_text": bilingual("名称。", "Title.")},
            "external_ref": {
                "help_text": bilingual("外部编号（可空）。", "External reference (may be empty).")
            },
            "source": {"help_text": bilingual("数据来源。", "Where the data came from.")},
            "created_at": {"help_text": bilingual("创建时间。", "Created at.")},
            "updated_at": {"help_text": bilingual("最近修改时间。", "Last updated at.")},
        }

    def _facts(self, kind: str) -> dict:
        cache = self.context.setdefault("item_facts", {})
        if kind not in cache:
            cache[kind] = item_services.item_facts(kind)
        return cache[kind]

    @extend_schema_field(OpenApiTypes.STR)
    def get_kind_label(self, item: Item) -> str:
        labels = self.context.setdefault("kind_labels", {})
        if item.kind not in labels:
            kind = ItemKind.objects.filter(code=item.kind).first()
            labels[item.kind] = kind.label if kind else item.kind
        return labels[item.kind]

    @extend_schema_field(ItemValueSerializer(many=True))
    def get_values_display(self, item: Item) -> list[dict]:
        return [
            {"fact": row["code"], "label": row["label"], "display": row["display"]}
            for row in item_values(item, self._facts(item.kind))
        ]


class ItemCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    enterprise = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=bilingual(
            "企业 id；企业用户可省略（本企业）。", "Enterprise id; an enterprise's user may omit it."
        ),
    )
    kind = serializers.CharField(max_length=80, help_text=bilingual("事项类型代码。", "Item kind code."))
    title = serializers.CharField(max_length=200, help_text=bilingual("名称。", "Title."))
    external_ref = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=bilingual("外部编号。", "External reference."),
    )
    values = serializers.DictField(required=False, help_text=VALUES_HELP)


class ItemUpdateSerializer(StrictSerializerMixin, serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1,
        help_text=bilingual("读取时得到的事项版本（必填）。", "The item version you read (required)."),
    )
    title = serializers.CharField(max_length=200, required=False, help_text=bilingual("名称。", "Title."))
    external_ref = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=bilingual("外部编号。", "External reference."),
    )
    values = serializers.DictField(
        required=False,
        help_text=bilingual(
            "要修改的信息项（与现有信息合并；值为 null 表示改为未知）。",
            "Values to change (merged into the stored ones; null makes a value unknown).",
        ),
    )


class DeleteQuery(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, required=False)


VERSION_PARAMETER = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=False,
    description=bilingual(
        "读取时得到的事项版本；给出且已过期时返回 409，不删除。",
        "The item version you read; if given and stale, a 409 and nothing is deleted.",
    ),
)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="企业的事项 List items",
        description=(
            "您能看到的企业的项目、设施等事项（企业密钥只看到本企业的）；可按企业和类型筛选。"
            "Items (projects, facilities, …) of the enterprises you see (an enterprise's key: its own); "
            "filter by enterprise and kind."
        ),
        examples=[examples.reply("一个事项 An item", examples.ITEM)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一个事项 One item",
        description="看不到的企业的事项一律 404。An item of an enterprise you may not see is a 404.",
        examples=[examples.reply("一个事项 An item", examples.ITEM)],
    ),
    create=extend_schema(
        tags=[TAG],
        summary="新建事项 Create an item",
        description=(
            "需要 write_enterprises 权限（或能修改该企业的账号）。values 的键为该类事项的事实代码，逐项校验。"
            "可带 Idempotency-Key 头安全重试。"
            "Needs scope write_enterprises (or an account that may edit the enterprise). The keys of values "
            "are the facts of the kind, each checked. Send an Idempotency-Key header to retry safely."
        ),
        request=ItemCreateSerializer,
        responses={201: ItemSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("新建 Create", value=examples.ITEM_CREATE, request_only=True),
            examples.reply("已创建 Created", examples.ITEM, "201"),
        ],
    ),
    partial_update=extend_schema(
        tags=[TAG],
        summary="修改事项 Update an item",
        description=(
            "只提交要改的字段，并带上读取时的 version；version 过期返回 409，什么都不写入。类型不能修改。"
            "Send the fields to change and the version you read; a stale version is a 409 and nothing is "
            "written. The kind cannot change."
        ),
        request=ItemUpdateSerializer,
        responses={200: ItemSerializer, 409: OpenApiResponse(description="version 已过期 Stale version")},
        examples=[
            OpenApiExample(
                "修改 Update",
                value={"version": 1, "values": {"annual_energy_saving_tce": "350"}},
                request_only=True,
            ),
            examples.reply("已修改 Updated", {**examples.ITEM, "version": 2}),
        ],
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="删除事项 Delete an item",
        description=(
            "删除后该企业的匹配结果重新计算。可带 version 查询参数防止误删已被修改的事项。"
            "The enterprise's matches are re-evaluated. Pass the version query parameter to refuse deleting "
            "an item changed since you read it."
        ),
        parameters=[VERSION_PARAMETER],
        responses={
            204: OpenApiResponse(description="已删除 Deleted"),
            409: OpenApiResponse(description="version 已过期 Stale version"),
        },
    ),
)
class ItemViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    scopes = (Scope.READ_MATCHES, Scope.WRITE_ENTERPRISES)
    write_scopes = (Scope.WRITE_ENTERPRISES,)
    filterset_class = ItemFilter
    serializer_class = ItemSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        results = MatchItemResult.objects.select_related("benefit__clause__document").order_by("benefit_id")
        return (
            self.access.restrict(Item.objects.select_related("enterprise"))
            .prefetch_related(Prefetch("match_results", queryset=results))
            .order_by("pk")
        )

    def get_serializer_class(self):
        return {"create": ItemCreateSerializer, "partial_update": ItemUpdateSerializer}.get(
            self.action, ItemSerializer
        )

    def _source(self) -> str:
        user = self.access.user
        return (
            Source.SELF_DECLARED if user is not None and self.access.member_of is not None else Source.STAFF
        )

    def _check_may_edit(self, enterprise) -> None:
        if not self.access.may_edit(enterprise):
            raise PermissionDenied(_("您不能修改这家企业的资料。"))

    def _reply(self, item: Item, code: int = status.HTTP_200_OK, headers=None) -> Response:
        return Response(
            ItemSerializer(item, context=self.get_serializer_context()).data, status=code, headers=headers
        )

    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        serializer = ItemCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enterprise_id = data.get("enterprise")
        if enterprise_id is None:
            if self.access.member_of is None:
                raise serializers.ValidationError({"enterprise": [_("请指定一家企业。")]})
            enterprise_id = self.access.member_of.pk
        enterprise = self.access.enterprises().filter(pk=enterprise_id).first()
        if enterprise is None:
            raise NotFound(_("未找到该企业，或您无权查看。"))
        self._check_may_edit(enterprise)
        item = item_services.save_item(
            enterprise_id=enterprise.pk,
            kind=data["kind"],
            title=data["title"],
            values=data.get("values") or {},
            external_ref=data.get("external_ref", ""),
            source=self._source(),
            actor=self.access.actor,
        )
        location = request.build_absolute_uri(f"{item.pk}/")
        return self._reply(item, status.HTTP_201_CREATED, {"Location": location})

    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()  # 404 before 403: no hint that an invisible one exists
        self._check_may_edit(item.enterprise)
        serializer = ItemUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        values = {**item.values, **data.get("values", {})}
        updated = item_services.save_item(
            enterprise_id=item.enterprise_id,
            item_id=item.pk,
            kind=item.kind,
            title=data.get("title", item.title),
            values={code: value for code, value in values.items() if value is not None},
            external_ref=data.get("external_ref", item.external_ref),
            source=self._source(),
            expected_version=data["version"],
            actor=self.access.actor,
        )
        return self._reply(updated)

    def destroy(self, request, *args, **kwargs):
        item = self.get_object()
        self._check_may_edit(item.enterprise)
        query = DeleteQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        item_services.delete_item(
            enterprise_id=item.enterprise_id,
            item_id=item.pk,
            expected_version=query.validated_data.get("version"),
            actor=self.access.actor,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
