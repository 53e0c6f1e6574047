from django.db import models
from django.utils.translation import gettext_lazy as _


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
    failures = models.PositiveIntegerField(_("失败条数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    worker = models.CharField(_("执行者"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("后台任务记录")
        verbose_name_plural = _("后台任务记录")

    def __str__(self) -> str:
        return f"{self.kind} {self.status} {self.started_at:%Y-%m-%d %H:%M}"


class MatchStatus(models.TextChoices):
    ELIGIBLE = "eligible", _("符合条件")
    PENDING_RECOGNITION = "pending_recognition", _("待认定")
    NEEDS_INFO = "needs_info", _("需补充信息")
    NOT_ELIGIBLE = "not_eligible", _("不符合条件")
    NOT_IN_FORCE = "not_in_force", _("政策未生效或已失效")


class MatchResult(models.Model):
    """The stored verdict of one benefit for one enterprise (written by services, never by hand).

    Only benefits in force on the evaluation date have rows: a benefit not in force gives everyone the
    same verdict, read from the benefit itself. Reasons are rendered on read (selectors.explain_match)
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

    @property
    def amount_fixed(self) -> bool:
        """A figure is known (exact, computed or a ceiling); False: the text or the facts give none."""
        return self.amount is not None


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
    cause = models.CharField(_("原因"), max_length=200)
    as_of = models.DateField(_("评估日期"))
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("匹配变化")
        verbose_name_plural = _("匹配变化")
        indexes = [models.Index(fields=["enterprise", "-created_at"], name="match_change_enterprise")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.benefit_id}: {self.old_status} → {self.new_status}"
