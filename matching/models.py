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
