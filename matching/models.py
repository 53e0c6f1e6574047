from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# What each kind of background job is, in words (the kind is the code written by jobs.py).
JOB_KINDS = {
    "enterprise_data": _("企业资料变化后重新匹配"),
    "policy": _("政策变化后重新匹配"),
    "match": _("匹配计算"),
    "date": _("按日期重新评估（政策生效或到期）"),
    "rerun": _("全部重新评估"),
    "ping": _("后台心跳检测"),
    "import": _("企业数据导入"),
}


class JobRun(models.Model):
    """One background job execution (observability: kind, timing, items, failures)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("运行中")
        SUCCEEDED = "succeeded", _("成功")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=50, db_index=True)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    items = models.PositiveIntegerField(_("处理条数"), default=0)
    total = models.PositiveIntegerField(_("总条数"), default=0, help_text=_("0 表示事先不知道总数"))
    failures = models.PositiveIntegerField(_("失败条数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    worker = models.CharField(_("执行者"), max_length=200, blank=True)
    # what a chunked job evaluates: {"as_of": ISO date, "benefit_ids": [...] | null, "cause": ...}
    params = models.JSONField(_("参数"), default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("后台任务记录")
        verbose_name_plural = _("后台任务记录")
        permissions = [("rerun_all", _("可重新评估全部匹配结果"))]

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        return str(JOB_KINDS.get(self.kind, _("其他后台任务")))

    @property
    def percent(self) -> int | None:
        return min(100, self.items * 100 // self.total) if self.total else None


class MatchStatus(models.TextChoices):
    ELIGIBLE = "eligible", _("符合条件")
    PENDING_RECOGNITION = "pending_recognition", _("待认定")
    NEEDS_INFO = "needs_info", _("需补充信息")
    NOT_ELIGIBLE = "not_eligible", _("不符合条件")
    NOT_IN_FORCE = "not_in_force", _("政策未生效或已失效")


# One colour per status on every page (calculator, dashboard, review): the badge class of each status.
STATUS_BADGES: dict[str, str] = {
    MatchStatus.ELIGIBLE: "ok",
    MatchStatus.PENDING_RECOGNITION: "warn",
    MatchStatus.NEEDS_INFO: "info",
    MatchStatus.NOT_ELIGIBLE: "bad",
    MatchStatus.NOT_IN_FORCE: "",
}


class MatchResult(models.Model):
    """The stored verdict of one benefit for one enterprise (written by services, never by hand).

    Only benefits in force on the evaluation date have rows: a benefit not in force gives everyone the
    same verdict, read from the benefit itself. Nor do pairs out of scope (the document's applicability
    rules the enterprise out): OutOfScope keeps them, one record per enterprise. Reasons are rendered on read (selectors.explain_match)
    from the facts the fingerprint was computed on.
    """

    # Millions of rows are written set-wise: no database-level foreign keys (Django still cascades
    # deletes) and no single-column indexes (the unique pair and (benefit, status) cover the lookups).
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.CASCADE,
        related_name="match_results",
        verbose_name=_("企业"),
        db_constraint=False,
        db_index=False,
    )
    benefit = models.ForeignKey(
        "policies.Benefit",
        on_delete=models.CASCADE,
        related_name="match_results",
        verbose_name=_("扶持项目"),
        db_constraint=False,
        db_index=False,
    )
    status = models.CharField(_("结论"), max_length=20, choices=MatchStatus.choices)
    score = models.PositiveSmallIntegerField(_("匹配度"))
    amount = models.DecimalField(
        _("预估金额（元）"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("空表示原文未定金额或无法估算，不是 0"),
    )
    amount_basis = models.CharField(_("金额依据"), max_length=20)
    leaf_outcomes = models.CharField(
        _("各条件结果"), max_length=200, blank=True, help_text=_("v 满足，x 不满足，? 未知")
    )
    fingerprint = models.BigIntegerField(_("输入指纹"))
    benefit_version = models.PositiveIntegerField(_("扶持项目版本"))
    engine_version = models.CharField(_("引擎版本"), max_length=20)
    as_of = models.DateField(_("评估日期"))
    evaluated_at = models.DateTimeField(_("评估时间"))

    class Meta:
        verbose_name = _("匹配结果")
        verbose_name_plural = _("匹配结果")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "benefit"], name="match_result_unique_pair"),
        ]
        indexes = [models.Index(fields=["benefit", "status"], name="match_result_benefit_status")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.benefit_id}: {self.status}"

    out_of_scope = False  # see OutOfScopeResult

    @property
    def amount_fixed(self) -> bool:
        """A figure is known (exact, computed or a ceiling); False: the text or the facts give none."""
        return self.amount is not None


# An out-of-scope pair's position in the result order (API cursors, ids): after every stored row (whose ids
# stay below 2**52), by (enterprise, benefit); below 2**53, so a JavaScript number holds it exactly.
OUT_OF_SCOPE_BASE = 2**52
BENEFIT_SPAN = 2**20  # benefit ids below this (and enterprise ids below 2**32)


class OutOfScope(models.Model):
    """Per enterprise, the benefits in force whose document's applicability rules it out (本政策适用于…闵行区…
    for an enterprise of another district): one record instead of a MatchResult row per such benefit.

    Their verdict is uniform (matching.engine.Verdict.out_of_scope): not eligible, score 0, no amount,
    the applicability's conditions as the only reasons. `benefits` maps each benefit id (text) to the
    outcome letters of those conditions. A pair is in exactly one place: a MatchResult row or here;
    in neither, it was not evaluated yet. Readers see both through OutOfScopeResult (a view)."""

    enterprise = models.OneToOneField(
        "enterprises.Enterprise",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="out_of_scope",
        verbose_name=_("企业"),
        db_constraint=False,
    )
    benefits = models.JSONField(_("不适用的扶持项目"), default=dict)
    engine_version = models.CharField(_("引擎版本"), max_length=20)
    as_of = models.DateField(_("评估日期"))
    evaluated_at = models.DateTimeField(_("评估时间"))

    class Meta:
        verbose_name = _("不适用的政策")
        verbose_name_plural = _("不适用的政策")

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {len(self.benefits)}"


class ResultDigest(models.Model):
    """Per enterprise, the input digest (matching.engine.input_digests: the plan's signature, the
    enterprise's facts and items) its stored results were last computed from by a full run. A full
    run whose digest for an enterprise is unchanged neither evaluates nor compares it (its results
    would be the same); absent, it is evaluated and compared pair by pair. Any other write of an
    enterprise's results (one enterprise, some benefits) deletes its digest. `source` goes one step
    earlier: the rows the facts come from."""

    enterprise = models.OneToOneField(
        "enterprises.Enterprise",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("企业"),
        db_constraint=False,
    )
    digest = models.BigIntegerField(_("结果摘要"))
    # the source hash (enterprises.source_hashes, with the run's source signature) of the rows the
    # digest's facts were derived from: PostgreSQL only; equal, not even the facts are read again
    source = models.BigIntegerField(_("数据摘要"), null=True)

    class Meta:
        verbose_name = _("结果摘要")
        verbose_name_plural = _("结果摘要")

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {self.digest}"


class OutOfScopeResult(models.Model):
    """One out-of-scope pair as a result row (a database view over OutOfScope, read only): the same
    fields as MatchResult, so that every reader renders both alike. `id` is the pair's position
    (OUT_OF_SCOPE_BASE + enterprise × BENEFIT_SPAN + benefit); page through it by (enterprise, benefit)."""

    id = models.BigIntegerField(primary_key=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.DO_NOTHING,
        related_name="+",
        verbose_name=_("企业"),
        db_constraint=False,
    )
    benefit = models.ForeignKey(
        "policies.Benefit",
        on_delete=models.DO_NOTHING,
        related_name="+",
        verbose_name=_("扶持项目"),
        db_constraint=False,
    )
    status = models.CharField(_("结论"), max_length=20, choices=MatchStatus.choices)
    score = models.PositiveSmallIntegerField(_("匹配度"))
    amount = models.DecimalField(_("预估金额（元）"), max_digits=16, decimal_places=2, null=True)
    amount_basis = models.CharField(_("金额依据"), max_length=20)
    leaf_outcomes = models.CharField(_("各条件结果"), max_length=200)
    benefit_version = models.PositiveIntegerField(_("扶持项目版本"))
    engine_version = models.CharField(_("引擎版本"), max_length=20)
    as_of = models.DateField(_("评估日期"))
    evaluated_at = models.DateTimeField(_("评估时间"))

    out_of_scope = True
    fingerprint = None  # not kept: the verdict is the same whatever the benefit's own inputs

    class Meta:
        managed = False
        db_table = "matching_outofscoperesult"
        verbose_name = _("匹配结果")
        verbose_name_plural = _("匹配结果")

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.benefit_id}: {self.status}"

    @staticmethod
    def position(enterprise_id: int, benefit_id: int) -> int:
        return OUT_OF_SCOPE_BASE + enterprise_id * BENEFIT_SPAN + benefit_id

    @staticmethod
    def pair(position: int) -> tuple[int, int]:
        """(enterprise, benefit) of a position at or above OUT_OF_SCOPE_BASE."""
        return divmod(position - OUT_OF_SCOPE_BASE, BENEFIT_SPAN)


class MatchItemResult(models.Model):
    """The stored verdict of a per-item benefit for one item of an enterprise (written by services with
    the pair's MatchResult, which stays the aggregate: best item's status, every qualifying item's
    amount added up). Reasons are rendered on read from the item's facts, like MatchResult's."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.CASCADE,
        related_name="match_item_results",
        verbose_name=_("企业"),
        db_constraint=False,
        db_index=False,
    )
    benefit = models.ForeignKey(
        "policies.Benefit",
        on_delete=models.CASCADE,
        related_name="match_item_results",
        verbose_name=_("扶持项目"),
        db_constraint=False,
        db_index=False,
    )
    item = models.ForeignKey(
        "enterprises.Item",
        on_delete=models.CASCADE,
        related_name="match_results",
        verbose_name=_("事项"),
        db_constraint=False,
    )
    status = models.CharField(_("结论"), max_length=20, choices=MatchStatus.choices)
    score = models.PositiveSmallIntegerField(_("匹配度"))
    amount = models.DecimalField(
        _("预估金额（元）"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("空表示原文未定金额或无法估算，不是 0"),
    )
    amount_basis = models.CharField(_("金额依据"), max_length=20)
    leaf_outcomes = models.CharField(
        _("各条件结果"), max_length=200, blank=True, help_text=_("v 满足，x 不满足，? 未知")
    )
    fingerprint = models.BigIntegerField(_("输入指纹"))
    as_of = models.DateField(_("评估日期"))
    evaluated_at = models.DateTimeField(_("评估时间"))

    class Meta:
        verbose_name = _("事项匹配结果")
        verbose_name_plural = _("事项匹配结果")
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "benefit", "item"], name="match_item_result_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.benefit_id} × {self.item_id}: {self.status}"


class MatchChange(models.Model):
    """A stored result whose status or amount changed (the first result of a pair is not a change)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.CASCADE,
        related_name="match_changes",
        verbose_name=_("企业"),
    )
    benefit = models.ForeignKey(
        "policies.Benefit", on_delete=models.CASCADE, related_name="match_changes", verbose_name=_("扶持项目")
    )
    old_status = models.CharField(_("原结论"), max_length=20, choices=MatchStatus.choices)
    new_status = models.CharField(_("新结论"), max_length=20, choices=MatchStatus.choices)
    old_amount = models.DecimalField(_("原金额"), max_digits=16, decimal_places=2, null=True, blank=True)
    new_amount = models.DecimalField(_("新金额"), max_digits=16, decimal_places=2, null=True, blank=True)
    cause = models.CharField(_("原因"), max_length=200, help_text=_("企业资料变化、政策变化、日期变化等"))
    as_of = models.DateField(_("评估日期"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True, db_index=True)
    # Set once notifications and webhook deliveries were made for it (written by raw SQL: db_default).
    dispatched = models.BooleanField(_("已通知"), default=False, db_default=False)

    class Cause(models.TextChoices):
        ENTERPRISE_DATA = "enterprise_data", _("企业资料变化")
        POLICY = "policy", _("政策变化")
        DATE = "date", _("日期变化（政策生效或到期）")
        RERUN = "rerun", _("全部重新评估")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("匹配变化")
        verbose_name_plural = _("匹配变化")
        indexes = [
            models.Index(fields=["enterprise", "-created_at"], name="match_change_enterprise"),
            models.Index(
                fields=["id"], condition=models.Q(dispatched=False), name="match_change_undispatched"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.benefit_id}: {self.old_status} → {self.new_status}"

    @property
    def cause_label(self) -> str:
        try:
            return str(self.Cause(self.cause).label)
        except ValueError:
            return self.cause


# ---------------------------------------------------------------- background re-evaluation


class JobChunk(models.Model):
    """One slice of a chunked job: the enterprises with ids in [first_id, last_id]. Done exactly once
    (the chunk's results and its `done` state commit together), so a redelivered task is a no-op."""

    class State(models.TextChoices):
        PENDING = "pending", _("待处理")
        DONE = "done", _("完成")

    job = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("任务"))
    first_id = models.BigIntegerField(_("起始企业ID"))
    last_id = models.BigIntegerField(_("结束企业ID"))
    size = models.PositiveIntegerField(_("企业数"))
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    failures = models.PositiveIntegerField(_("失败企业数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    published_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        ordering = ["job_id", "first_id"]  # not "job": ordering by a relation joins it (and locks it)
        verbose_name = _("任务分片")
        verbose_name_plural = _("任务分片")
        indexes = [models.Index(fields=["state", "published_at"], name="job_chunk_pending")]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.first_id}–{self.last_id} {self.state}"


class WorkerHeartbeat(models.Model):
    """Written by the periodic `matching.tick` task: /healthz reports its age."""

    name = models.CharField(_("名称"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("时间"))
    worker = models.CharField(_("执行者"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("后台心跳")
        verbose_name_plural = _("后台心跳")

    def __str__(self) -> str:
        return f"{self.name} {self.beat_at:%Y-%m-%d %H:%M:%S}"


# ---------------------------------------------------------------- notifications and webhooks


class NotificationPreference(models.Model):
    """A portal user's choice of e-mail notifications, and how far they have read the feed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="match_notifications",
        verbose_name=_("用户"),
    )
    email_enabled = models.BooleanField(_("邮件通知"), default=False)
    last_seen_change_id = models.BigIntegerField(_("已读到"), default=0)
    last_seen_notice_id = models.BigIntegerField(_("已读到的消息"), default=0)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")

    def __str__(self) -> str:
        return f"{self.user_id}: {'email' if self.email_enabled else 'portal'}"


class Notice(models.Model):
    """A message to an enterprise about one of its objects, e.g. "申报 SB… 被退回补充" (written by the app
    that owns the object: applications.services on every application event).

    The words are chosen when read: `message` is the Chinese msgid (marked with gettext_noop where it is
    written) and `params` its values; a param named *_yuan is money, shown in 万元 (yuan in English)."""

    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="notices", verbose_name=_("企业")
    )
    kind = models.CharField(_("类型"), max_length=60)  # e.g. application.returned (webhook event name)
    message = models.CharField(_("消息"), max_length=300)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["enterprise", "-id"], name="notice_enterprise_recent")]
        verbose_name = _("消息")
        verbose_name_plural = _("消息")

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.kind}"


class WebhookSubscription(models.Model):
    """A REST client's endpoint for change notifications (JSON signed per Standard Webhooks:
    matching/webhook_signing.py; `secret` is whsec_<base64>)."""

    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("地址"), max_length=500, help_text=_("仅限 http(s)"))
    secret = models.CharField(_("签名密钥"), max_length=200)
    # after a rotation the previous secret still signs deliveries until previous_secret_expires_at
    previous_secret = models.CharField(_("上一签名密钥"), max_length=200, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        _("上一签名密钥失效时间"), null=True, blank=True, editable=False
    )
    active = models.BooleanField(_("启用"), default=True)
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="webhook_subscriptions",
        verbose_name=_("只推送该企业"),
        help_text=_("留空表示所有企业"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("Webhook 订阅")
        verbose_name_plural = _("Webhook 订阅")

    def __str__(self) -> str:
        return f"{self.name} → {self.url}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from matching import outbound

        try:  # no internal or reserved address (checked again at every delivery)
            outbound.check_destination(self.url or "")
        except outbound.UnsafeDestination as exc:
            raise ValidationError({"url": str(exc)}) from exc


class WebhookDelivery(models.Model):
    """One signed POST of a batch of changes to a subscription, with its attempts."""

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SUCCEEDED = "succeeded", _("已送达")
        FAILED = "failed", _("放弃")

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("订阅")
    )
    event = models.CharField(_("事件"), max_length=50, default="match.changed")
    payload = models.JSONField(_("内容"))
    change_count = models.PositiveIntegerField(_("变化条数"), default=0)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_status_code = models.PositiveIntegerField(_("最近响应码"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Webhook 发送记录")
        verbose_name_plural = _("Webhook 发送记录")

    def __str__(self) -> str:
        return f"{self.subscription_id} #{self.pk} {self.state}"
