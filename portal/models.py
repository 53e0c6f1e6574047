"""The REST API's own tables: API keys for machine clients, and stored replies to idempotent POSTs.

A key's secret is never stored: only its SHA-256 (the secret is 256 random bits, so a fast hash is
safe) and a short public prefix used to find the row. Staff create and revoke keys in admin or with
`manage.py create_api_key`; the full key is shown once, at creation.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Scope(models.TextChoices):
    READ_POLICIES = "read_policies", _("读取政策与事实目录")
    READ_MATCHES = "read_matches", _("读取企业与匹配结果")
    WRITE_ENTERPRISES = "write_enterprises", _("新建和修改企业")
    APPLICATIONS = "applications", _("申报")
    MANAGE_WEBHOOKS = "manage_webhooks", _("管理 Webhook 订阅")


def validate_scopes(value: object) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(_("权限范围应为文本列表。"), code="scopes")
    unknown = sorted(set(value) - set(Scope.values))
    if unknown:
        raise ValidationError(
            _("未知的权限范围：%(scopes)s。") % {"scopes": "、".join(unknown)}, code="unknown_scope"
        )


def validate_rate(value: str) -> None:
    """ "600/min" style, as DRF throttles read it."""
    number, _slash, period = value.partition("/")
    if (
        not (number.isascii() and number.isdigit())
        or int(number) < 1
        or period[:1] not in {"s", "m", "h", "d"}
    ):
        raise ValidationError(_("限流格式应为“次数/时间”，例如 600/min、10000/day。"), code="rate")


class ApiKey(models.Model):
    """A credential for a machine client (or an enterprise user's own script), with scopes."""

    name = models.CharField(_("名称"), max_length=100, help_text=_("用途或客户，例如“某银行对接”"))
    prefix = models.CharField(_("前缀"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("密钥摘要"), max_length=64, editable=False)
    scopes = models.JSONField(_("权限范围"), default=list, validators=[validate_scopes])
    enterprises = models.ManyToManyField(
        "enterprises.Enterprise",
        blank=True,
        related_name="+",
        verbose_name=_("限定企业"),
        help_text=_("留空表示不限企业"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
        verbose_name=_("代表用户"),
        help_text=_("企业用户的密钥只能看到本企业；留空表示机构客户"),
    )
    rate_limit = models.CharField(
        _("限流"), max_length=20, blank=True, validators=[validate_rate], help_text=_("留空使用默认值")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 密钥")
        verbose_name_plural = _("API 密钥")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The reply to a POST sent with an Idempotency-Key, replayed when the same client repeats it."""

    client = models.CharField(_("客户端"), max_length=40, help_text=_("key:<id> 或 user:<id>"))
    key = models.CharField(_("幂等键"), max_length=255)
    request_hash = models.CharField(_("请求摘要"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("响应状态"))
    response_body = models.JSONField(_("响应内容"))
    response_location = models.CharField(_("资源地址"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等请求记录")
        verbose_name_plural = _("幂等请求记录")
        constraints = [models.UniqueConstraint(fields=["client", "key"], name="idempotency_client_key")]

    def __str__(self) -> str:
        return f"{self.client} {self.key}"


class ContentGeneration(models.Model):
    """A counter per kind of data a cached API reply is made of, bumped by PostgreSQL triggers in the
    transaction that changes the data (portal/migrations/0002): `results:<enterprise id>` (its match
    results, or the enterprise deleted), `results` (the results table truncated), `policy` (documents,
    clauses, benefits, the fact catalog), `key:<prefix>` (an API key's secret, scopes, rate, user,
    revocation or enterprises). The match list's ETag is made of them (portal/api/v1/matches/etag.py,
    read through portal.api.selectors.content_generations). Triggers see every write — ORM, bulk COPY,
    raw SQL, admin — so no code path can forget to invalidate. On SQLite the table stays empty and
    the list falls back to the body-hash ETag."""

    scope = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("缓存版本计数")
        verbose_name_plural = _("缓存版本计数")

    def __str__(self) -> str:
        return f"{self.scope}={self.value}"
