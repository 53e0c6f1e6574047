"""Webhook subscriptions (scope manage_webhooks, and read_matches for what they carry): a client registers an endpoint that receives the change
feed as signed POSTs (matching.notifications delivers them), reads each subscription's delivery log and
ends it.

Who sees what: a subscription is for one enterprise or, when `enterprise` is null, for all of them.
A caller sees and creates subscriptions only for enterprises it sees; "all enterprises" only when it
sees every enterprise (an unlimited machine key, staff). An enterprise user's subscriptions default to
its own company. Anything else is a 404, as for the enterprise itself.

Deliveries are signed per Standard Webhooks (matching/webhook_signing.py): headers webhook-id,
webhook-timestamp and webhook-signature ("v1,<base64 HMAC-SHA256(key, id.timestamp.body)>", several
space-separated during a rotation's grace period), with a secret "whsec_<base64 key>". The secret is
returned once, in the reply to the creation or to POST …/rotate-secret/, and never again. DELETE ends the
subscription (no more deliveries, pending ones given up) and it disappears from the API; the row and
its delivery log are kept for staff in admin as a record of what was sent.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from matching import notifications, outbound, webhook_signing
from matching import selectors as matching_selectors
from matching.models import WebhookDelivery, WebhookSubscription
from portal.api import examples
from portal.api.base import ApiViewMixin, bilingual
from portal.api.idempotency import PARAMETER as IDEMPOTENCY_KEY
from portal.api.idempotency import idempotent
from portal.api.serializers import StrictSerializerMixin
from portal.models import Scope

TAG = "Webhook 订阅 Webhooks"
SIGNING = (
    "每次推送按 Standard Webhooks 规范签名：请求头 webhook-id（同一推送重试时不变）、webhook-timestamp"
    "（秒）和 webhook-signature：“v1,” + Base64(HMAC-SHA256(密钥解码后的字节, id + '.' + 时间戳 + '.' + 请求体))；"
    "轮换密钥后的宽限期内同时带新旧两个签名，以空格分隔，任一匹配即有效。可直接用 standardwebhooks 库的 "
    "Webhook(密钥).verify(请求体, 请求头) 校验。",
    "Every delivery is signed per Standard Webhooks: headers webhook-id (the same on retries), "
    "webhook-timestamp (seconds) and webhook-signature: 'v1,' + base64(HMAC-SHA256(the secret's decoded "
    "key, id + '.' + timestamp + '.' + body)); during the grace period after a rotation it carries the new "
    "and the old signature, space-separated, either of which is valid. The standardwebhooks library's "
    "Webhook(secret).verify(body, headers) checks it.",
)


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "enterprise", "created_at"]
        extra_kwargs = {
            "name": {"help_text": bilingual("名称，便于识别。", "A name to recognise it by.")},
            "url": {
                "help_text": bilingual(
                    "接收变化的地址（http 或 https）。", "The endpoint receiving the changes (http or https)."
                )
            },
            "enterprise": {
                "help_text": bilingual(
                    "只推送该企业的变化；null 表示所有企业。",
                    "Only this enterprise's changes; null: every one.",
                )
            },
            "created_at": {"help_text": bilingual("创建时间。", "Created at.")},
        }


class WebhookCreatedSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=bilingual(
            "签名密钥（whsec_ 加 Base64）：只在此回复中返回这一次，请妥善保存。" + SIGNING[0],
            "The signing secret (whsec_ and base64), returned in this reply only. " + SIGNING[1],
        ),
    )

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]


class WebhookRotatedSerializer(WebhookCreatedSerializer):
    previous_secret_expires_at = serializers.DateTimeField(
        read_only=True,
        help_text=bilingual(
            "旧密钥的签名在此时间之前仍随推送发送。",
            "Deliveries carry a signature with the previous secret until then.",
        ),
    )

    class Meta(WebhookCreatedSerializer.Meta):
        fields = [*WebhookCreatedSerializer.Meta.fields, "previous_secret_expires_at"]


class WebhookCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text=bilingual("名称。", "Name."))
    url = serializers.URLField(
        max_length=500, help_text=bilingual("接收地址（http 或 https）。", "Endpoint (http or https).")
    )
    secret = serializers.CharField(
        required=False,
        max_length=200,
        write_only=True,
        help_text=bilingual(
            "可选：自定签名密钥，格式为 whsec_ 加 16 至 64 字节密钥的 Base64；不填则随机生成并在回复中给出。",
            "Optional signing secret: whsec_ and the base64 of a 16 to 64 byte key; without it one is "
            "generated and returned.",
        ),
    )
    enterprise = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text=bilingual(
            "只推送该企业的变化；null 或不填表示您能看到的所有企业（企业用户默认本企业）。",
            "Only this enterprise's changes; null or absent: every enterprise (an enterprise user: its own).",
        ),
    )

    def validate_secret(self, value: str) -> str:
        if not webhook_signing.is_valid_secret(value):
            raise serializers.ValidationError(
                _("签名密钥格式应为 whsec_ 加 16 至 64 字节密钥的 Base64 编码。")
            )
        return value

    def validate_url(self, value: str) -> str:
        """No loopback, private, link-local, multicast or reserved address, nor a host resolving to one
        (checked again at every delivery: matching/outbound.py)."""
        try:
            outbound.check_destination(value)
        except outbound.UnsafeDestination as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value


class WebhookDeliverySerializer(serializers.ModelSerializer):
    change_ids = serializers.SerializerMethodField(
        help_text=bilingual(
            "本次推送的变化 id（见 /api/v1/changes/）。", "Ids of the changes sent (see /api/v1/changes/)."
        )
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event", "change_count", "change_ids", "state", "attempts", "last_status_code",
            "last_error", "created_at", "last_attempt_at", "delivered_at",
        ]  # fmt: skip
        extra_kwargs = {
            "event": {"help_text": bilingual("事件类型。", "Event type.")},
            "change_count": {"help_text": bilingual("变化条数。", "Number of changes.")},
            "state": {
                "help_text": bilingual(
                    "pending 待发送（含重试中）；succeeded 已送达；failed 已放弃。",
                    "pending (retrying included), succeeded, or failed (given up).",
                )
            },
            "attempts": {"help_text": bilingual("已尝试次数。", "Attempts made.")},
            "last_status_code": {
                "help_text": bilingual("最近一次的 HTTP 响应码。", "HTTP status of the last attempt.")
            },
            "last_error": {"help_text": bilingual("最近一次的错误。", "Error of the last attempt.")},
            "created_at": {"help_text": bilingual("创建时间。", "Created at.")},
            "last_attempt_at": {"help_text": bilingual("最近尝试时间。", "Last attempt at.")},
            "delivered_at": {"help_text": bilingual("送达时间。", "Delivered at.")},
        }

    def get_change_ids(self, delivery: WebhookDelivery) -> list[int]:
        return [change["id"] for change in (delivery.payload or {}).get("changes", [])]


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="Webhook 订阅列表 List subscriptions",
        description=(
            "您能看到的企业的订阅；“所有企业”的订阅只有能看到全部企业的调用方可见。不含密钥。"
            "Subscriptions for the enterprises you see; one for all enterprises only if you see them all. "
            "Secrets are never shown."
        ),
        examples=[examples.reply("一个订阅 A subscription", examples.WEBHOOK)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一个订阅 One subscription",
        description="看不到的或已删除的订阅一律 404。One you may not see, or deleted, is a 404.",
        examples=[examples.reply("一个订阅 A subscription", examples.WEBHOOK)],
    ),
    create=extend_schema(
        tags=[TAG],
        summary="新建订阅 Subscribe",
        description=(
            "结论或金额变化时，以 POST 推送到 url（JSON：event=match.changed，changes 为变化列表，每项与 "
            "GET /api/v1/changes/{id}/ 的 Change 相同，每次最多 100 条；"
            "失败按 2、4、8 秒……最长 30 分钟重试，共 10 次）。签名密钥只在此回复中出现一次。"
            "可带 Idempotency-Key 头安全重试。"
            "Changes of status or amount are POSTed to url (JSON: event match.changed, up to 100 changes each, "
            "each the Change that GET /api/v1/changes/{id}/ returns; "
            "retried after 2, 4, 8 s … up to 30 min, 10 attempts). The signing secret appears in this reply "
            "only. Send an Idempotency-Key header to retry safely."
        ),
        request=WebhookCreateSerializer,
        responses={201: WebhookCreatedSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[
            OpenApiExample("订阅一家企业 One enterprise", value=examples.WEBHOOK_CREATE, request_only=True),
            examples.reply("已创建 Created", examples.WEBHOOK_CREATED, "201"),
        ],
    ),
    destroy=extend_schema(
        tags=[TAG],
        summary="删除订阅 Unsubscribe",
        description=(
            "停止推送，待发送的推送不再发送；之后该订阅返回 404（发送记录由平台留存备查）。"
            "Stops deliveries, pending ones included; afterwards the subscription is a 404 (the platform "
            "keeps its delivery log as a record)."
        ),
        responses={204: OpenApiResponse(description="已删除 Unsubscribed")},
    ),
    rotate_secret=extend_schema(
        tags=[TAG],
        summary="轮换签名密钥 Rotate the signing secret",
        description=(
            "生成新的签名密钥并在此回复中返回这一次。之后的推送用新密钥签名；宽限期内（默认 24 小时）同时带旧密钥的签名，"
            "以便接收方从容切换。需要 manage_webhooks 权限范围。可带 Idempotency-Key 头安全重试。"
            "Draws a new signing secret, returned in this reply only. Deliveries are signed with it from now "
            "on and, during the grace period (24 h by default), with the previous secret too, so the receiver "
            "can switch without missing one. Needs the manage_webhooks scope. Send an Idempotency-Key header "
            "to retry safely."
        ),
        request=None,
        responses={200: WebhookRotatedSerializer},
        parameters=[IDEMPOTENCY_KEY],
        examples=[examples.reply("新密钥 The new secret", examples.WEBHOOK_ROTATED)],
    ),
    deliveries=extend_schema(
        tags=[TAG],
        summary="推送记录 Delivery log",
        description=(
            "该订阅的每次推送及其尝试结果，按创建顺序；游标分页。"
            "Each delivery of the subscription and how its attempts went, oldest first; cursor pages."
        ),
        responses={200: WebhookDeliverySerializer(many=True)},  # a cursor page of them, as sent
        examples=[examples.reply("一次推送 A delivery", examples.WEBHOOK_DELIVERY)],
    ),
)
class WebhookSubscriptionViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    scopes = (Scope.MANAGE_WEBHOOKS,)
    serializer_class = WebhookSubscriptionSerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def check_permissions(self, request) -> None:
        """manage_webhooks to manage them, and read_matches too: a subscription receives match changes."""
        super().check_permissions(request)
        if not self.access.has_scope(Scope.READ_MATCHES):
            self.permission_denied(
                request,
                message=_("此 API 密钥还需要权限范围：%(scopes)s。") % {"scopes": Scope.READ_MATCHES},
            )

    def get_queryset(self):
        subscriptions = matching_selectors.active_webhook_subscriptions()
        if self.access.sees_all_enterprises():
            return subscriptions
        return self.access.restrict(subscriptions)  # a null enterprise (all of them) is left out

    def get_serializer_class(self):
        if self.action == "create":
            return WebhookCreateSerializer
        if self.action == "deliveries":
            return WebhookDeliverySerializer
        return WebhookSubscriptionSerializer

    def create(self, request, *args, **kwargs):
        return idempotent(request, lambda: self._create(request))

    def _create(self, request) -> Response:
        serializer = WebhookCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscription = notifications.subscribe_webhook(
            name=data["name"],
            url=data["url"],
            secret=data.get("secret", ""),
            enterprise_id=self._enterprise_for(data),
        )
        body = WebhookCreatedSerializer(subscription, context=self.get_serializer_context()).data
        location = request.build_absolute_uri(f"{subscription.pk}/")
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})

    def _enterprise_for(self, data: dict) -> int | None:
        """The enterprise asked for, if the caller sees it (404 otherwise, as its page would be)."""
        if "enterprise" not in data and self.access.member_of is not None:
            data = {**data, "enterprise": self.access.member_of.pk}
        enterprise_id = data.get("enterprise")
        if enterprise_id is None:
            if not self.access.sees_all_enterprises():
                raise serializers.ValidationError(
                    {"enterprise": [_("此账号或密钥只能看到部分企业，请指定一家企业。")]}
                )
            return None
        if not self.access.enterprises().filter(pk=enterprise_id).exists():
            raise NotFound(_("未找到该企业，或您无权查看。"))
        return enterprise_id

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        notifications.unsubscribe_webhook(subscription_id=instance.pk)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        subscription = self.get_object()  # 404 for one the caller may not see
        return idempotent(request, lambda: self._rotate(subscription))

    def _rotate(self, subscription: WebhookSubscription) -> Response:
        rotated = notifications.rotate_webhook_secret(subscription_id=subscription.pk)
        return Response(WebhookRotatedSerializer(rotated, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        subscription = self.get_object()
        page = self.paginate_queryset(matching_selectors.webhook_deliveries(subscription.pk))
        serializer = WebhookDeliverySerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(serializer.data)
