from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class FactDefinition(models.Model):
    """One enterprise fact a condition may name: the contract between policies and enterprises."""

    class Type(models.TextChoices):
        BOOL = "bool", _("是/否")
        INT = "int", _("整数")
        DECIMAL = "decimal", _("数值")
        MONEY = "money", _("金额（元）")
        STR = "str", _("文本")
        ENUM = "enum", _("单选")
        SET = "set", _("多选")
        DATE = "date", _("日期")

    class Derivation(models.TextChoices):
        BUILTIN = "builtin", _("由企业基础数据计算")
        STORED = "stored", _("通用事实存储")

    code = models.SlugField(_("代码"), max_length=80, unique=True)
    type = models.CharField(_("类型"), max_length=10, choices=Type.choices)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    label_zh = models.CharField(_("中文名称"), max_length=200)
    label_en = models.CharField(_("英文名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    choices = models.JSONField(_("可选值"), default=list, blank=True)
    derived = models.CharField(_("来源"), max_length=10, choices=Derivation.choices, default=Derivation.STORED)
    source_file = models.CharField(_("定义文件"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("事实定义")
        verbose_name_plural = _("事实目录")

    def __str__(self) -> str:
        return f"{self.code} ({self.label_zh})"

    def choice_values(self) -> list[str]:
        return [choice["value"] for choice in self.choices or []]
