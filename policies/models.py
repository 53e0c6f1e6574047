"""Policy texts as data: documents, their headings and clauses, and the benefits each clause grants.

Every field that matters for matching (cap, ratio, conditions, validity) is data with a history, never code.
Validation that needs the fact catalog lives in `clean()` so admin, API and loader all run it via full_clean.
"""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from policies.conditions import (
    NUMERIC_TYPES,
    choice_label,
    choice_pairs,
    fact_label,
    leaves,
    validate_condition,
)
from policies.fidelity import found_in


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
    derived = models.CharField(
        _("来源"), max_length=10, choices=Derivation.choices, default=Derivation.STORED
    )
    source_file = models.CharField(_("定义文件"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("事实定义")
        verbose_name_plural = _("事实目录")

    def __str__(self) -> str:
        return f"{self.code} ({self.label_zh})"

    @property
    def label(self) -> str:
        """The name in the reader's language (label_en when English is active)."""
        return fact_label(self)

    def choice_pairs(self) -> list[tuple[str, str]]:
        """(value, label) of the choices in the reader's language."""
        return choice_pairs(self)

    def choice_values(self) -> list[str]:
        return [choice["value"] for choice in self.choices or []]

    def choice_label(self, value: str, lang: str | None = None) -> str:
        """A choice's label: in `lang` ("zh", "en") or, without it, in the reader's language."""
        if lang is None:
            return choice_label(self, value)
        for choice in self.choices or []:
            if choice.get("value") == value:
                return choice.get(f"label_{lang}") or value
        return value

    def clean(self) -> None:
        errors: list[str] = []
        if not isinstance(self.choices, list):
            errors.append(_("可选值必须是列表：[{value, label_zh, label_en}, …]"))
        else:
            seen: set[str] = set()
            for index, choice in enumerate(self.choices):
                if (
                    not isinstance(choice, dict)
                    or not isinstance(choice.get("value"), str)
                    or not choice["value"]
                ):
                    errors.append(_("第 %(n)s 个可选值缺少 value（字符串）") % {"n": index + 1})
                    continue
                if not choice.get("label_zh"):
                    errors.append(_("可选值 %(v)s 缺少 label_zh") % {"v": choice["value"]})
                if choice["value"] in seen:
                    errors.append(_("可选值 %(v)s 重复") % {"v": choice["value"]})
                seen.add(choice["value"])
            if self.type == self.Type.ENUM and not self.choices:
                errors.append(_("单选类型必须列出可选值"))
            if self.choices and self.type not in (self.Type.ENUM, self.Type.SET):
                errors.append(_("只有单选、多选类型可以有可选值"))
        if errors:
            raise ValidationError({"choices": errors})


class PolicyDocument(models.Model):
    """One published policy text (one file in ../shared/seeds/)."""

    class Level(models.TextChoices):
        MUNICIPAL = "municipal", _("市级")
        DISTRICT = "district", _("区级")

    class Status(models.TextChoices):
        DRAFT = "draft", _("征求意见稿")
        IN_FORCE = "in_force", _("现行有效")
        EXPIRED = "expired", _("已失效")
        SUPERSEDED = "superseded", _("已被替代")

    key = models.SlugField(_("标识"), max_length=100, unique=True)
    title = models.CharField(_("标题"), max_length=300)
    issuer = models.CharField(_("发文机关"), max_length=200)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    number = models.CharField(_("文号"), max_length=100, blank=True)
    source_file = models.CharField(_("原文文件"), max_length=200)
    published_on = models.DateField(_("发布日期"), null=True, blank=True)
    effective_from = models.DateField(_("施行日期"), null=True, blank=True)
    effective_to = models.DateField(_("有效期至"), null=True, blank=True, help_text=_("留空表示长期有效"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices)
    preamble = models.TextField(_("序言"), blank=True)
    notes = models.TextField(_("编码说明"), blank=True)
    # Where people find the text and how they apply, when known (staff fill them in; "" = not known).
    source_url = models.URLField(_("发文机关原文链接"), max_length=500, blank=True)
    application_period = models.CharField(
        _("申报时间"),
        max_length=200,
        blank=True,
        help_text=_("按申报通知填写，例如“2026年6月5日至7月5日24:00”。"),
    )
    receiving_department = models.CharField(
        _("受理部门"), max_length=200, blank=True, help_text=_("含联系方式，例如“区经委产业发展科 021-…”。")
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["source_file", "key"]
        verbose_name = _("政策文件")
        verbose_name_plural = _("政策文件")
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_from__isnull=True)
                | Q(effective_to__isnull=True)
                | Q(effective_from__lte=F("effective_to")),
                name="policy_document_effective_range",
                violation_error_message=_("施行日期不能晚于有效期截止日"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def validity_on(self, as_of: date) -> tuple[bool, str]:
        """Whether the document applies on `as_of`, and why: draft, superseded, not_yet_effective, expired or
        in_force. Dates decide when known (an expired plan was in force within its period); an expired
        document without an end date is expired on every date."""
        if self.status == self.Status.DRAFT:
            return False, "draft"
        if self.status == self.Status.SUPERSEDED:
            return False, "superseded"
        if self.effective_from and as_of < self.effective_from:
            return False, "not_yet_effective"
        if self.effective_to and as_of > self.effective_to:
            return False, "expired"
        if self.status == self.Status.EXPIRED and not self.effective_to:
            return False, "expired"
        return True, "in_force"


class Heading(models.Model):
    document = models.ForeignKey(PolicyDocument, on_delete=models.CASCADE, related_name="headings")
    number = models.CharField(_("编号"), max_length=30)
    title = models.CharField(_("标题"), max_length=300)
    order = models.PositiveIntegerField(_("顺序"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["document", "order"]
        verbose_name = _("章节标题")
        verbose_name_plural = _("章节标题")
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="heading_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.number}、{self.title}"


class Clause(models.Model):
    """One clause exactly as printed: its number, and its verbatim text."""

    class Kind(models.TextChoices):
        SUBSIDY = "subsidy", _("资金补贴")
        SUPPORT = "support", _("非资金支持")
        MEASURE = "measure", _("工作措施")
        GOAL = "goal", _("目标")
        ANNEX = "annex", _("附则")

    document = models.ForeignKey(PolicyDocument, on_delete=models.CASCADE, related_name="clauses")
    heading = models.ForeignKey(
        Heading,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clauses",
        verbose_name=_("章节"),
    )
    number = models.CharField(
        _("条款编号"), max_length=30, help_text=_("与原文印刷一致，例如 7、１３、附则1")
    )
    order = models.PositiveIntegerField(_("顺序"))
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("条款主题"), max_length=300, blank=True)
    text = models.TextField(_("原文"))
    figures_not_benefits = models.JSONField(
        _("非补贴数字"),
        default=list,
        blank=True,
        help_text=_("[{phrase, why}]：条款中不是补贴金额的数字及理由"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["document", "order"]
        verbose_name = _("条款")
        verbose_name_plural = _("条款")
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="clause_unique_number"),
        ]

    def __str__(self) -> str:
        return gettext("%(document)s 第%(number)s条") % {"document": self.document.key, "number": self.number}

    def clean(self) -> None:
        errors: list[str] = []
        if not isinstance(self.figures_not_benefits, list):
            errors.append(_("必须是列表：[{phrase, why}]"))
        else:
            for entry in self.figures_not_benefits:
                if not isinstance(entry, dict) or not entry.get("phrase") or not entry.get("why"):
                    errors.append(_("每一项都要有 phrase 和 why：%(e)s") % {"e": entry})
                elif not found_in(str(entry["phrase"]), self.text or ""):
                    errors.append(_("“%(p)s”不在条款原文中") % {"p": entry["phrase"]})
        if errors:
            raise ValidationError({"figures_not_benefits": errors})
        if self.heading_id and self.document_id and self.heading.document_id != self.document_id:
            raise ValidationError({"heading": _("章节不属于本文件")})


class Benefit(models.Model):
    """One separately payable (or granted) benefit of a clause, with its amounts and conditions."""

    class Kind(models.TextChoices):
        LUMP_SUM = "lump_sum", _("定额/上限资助")
        RATIO = "ratio", _("按比例资助")
        MATCHING = "matching", _("配套资助")
        RENT = "rent", _("租金补贴")
        INTEREST = "interest", _("贴息")
        GUARANTEE_FEE = "guarantee_fee", _("担保费补贴")
        VOUCHER = "voucher", _("券")
        NON_MONETARY = "non_monetary", _("非资金支持")

    class Recurrence(models.TextChoices):
        ONE_TIME = "one_time", _("一次性")
        ANNUAL = "annual", _("每年")

    # Changes to these fields are content changes: they bump `version` (matching caches on it).
    CONTENT_FIELDS = (
        "name", "kind", "cap", "amount", "ratio", "base_fact", "instalments", "recurrence",
        "requires_recognition", "recognition_phrase", "amount_quote", "stacking_group",
        "valid_from", "valid_to", "condition",
    )  # fmt: skip

    clause = models.ForeignKey(Clause, on_delete=models.CASCADE, related_name="benefits")
    key = models.SlugField(_("标识"), max_length=100, help_text=_("在条款内唯一，例如 new-factory-lease"))
    name = models.CharField(_("名称"), max_length=300)
    kind = models.CharField(_("类型"), max_length=15, choices=Kind.choices)
    cap = models.DecimalField(
        _("上限（元）"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("原文未给出金额时留空，不要填 0"),
    )
    amount = models.DecimalField(
        _("定额（元）"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    ratio = models.DecimalField(
        _("比例"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text=_("10% 记 0.10；1:0.5 配套记 0.5"),
    )
    base_fact = models.CharField(_("计算基数（事实代码）"), max_length=80, blank=True)
    instalments = models.PositiveIntegerField(
        _("分期年数"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    recurrence = models.CharField(
        _("频次"), max_length=10, choices=Recurrence.choices, default=Recurrence.ONE_TIME
    )
    requires_recognition = models.BooleanField(_("需认定"), default=False)
    recognition_phrase = models.CharField(_("认定用语"), max_length=200, blank=True)
    amount_quote = models.TextField(_("金额原文"), blank=True)
    stacking_group = models.CharField(_("不可叠加组"), max_length=100, blank=True)
    valid_from = models.DateField(_("单独施行日期"), null=True, blank=True)
    valid_to = models.DateField(_("单独截止日期"), null=True, blank=True)
    condition = models.JSONField(_("条件"), null=True, blank=True, help_text=_("留空表示无额外条件"))
    version = models.PositiveIntegerField(_("版本"), default=1, validators=[MinValueValidator(1)])
    fact_codes = models.JSONField(_("涉及事实"), default=list, blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["clause__document", "clause__order", "id"]
        verbose_name = _("扶持项目")
        verbose_name_plural = _("扶持项目")
        constraints = [
            models.UniqueConstraint(fields=["clause", "key"], name="benefit_unique_key"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=0), name="benefit_cap_not_negative",
                violation_error_message=_("上限不能为负数"),
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="benefit_amount_not_negative",
                violation_error_message=_("定额不能为负数"),
            ),
            models.CheckConstraint(
                condition=Q(ratio__isnull=True) | (Q(ratio__gte=0) & Q(ratio__lte=10)), name="benefit_ratio_range",
                violation_error_message=_("比例必须在 0 到 10 之间"),
            ),
            models.CheckConstraint(
                condition=Q(instalments__isnull=True) | Q(instalments__gte=1), name="benefit_instalments_positive",
                violation_error_message=_("分期年数至少为 1"),
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_from__lte=F("valid_to")),
                name="benefit_valid_range",
                violation_error_message=_("单独施行日期不能晚于截止日期"),
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="benefit_version_positive"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.global_key} {self.name}"

    @property
    def global_key(self) -> str:
        return f"{self.clause.document.key}/{self.clause.number}/{self.key}"

    def content(self) -> dict:
        """The values that define this benefit's meaning (compared to decide whether the version moves)."""
        values = {name: getattr(self, name) for name in self.CONTENT_FIELDS}
        for name in ("cap", "amount", "ratio"):
            if values[name] is not None:
                values[name] = Decimal(str(values[name])).normalize()
        return values

    def validity_on(self, as_of: date) -> tuple[bool, str]:
        """The document's validity, narrowed by this benefit's own dates when it has them."""
        in_force, reason = self.clause.document.validity_on(as_of)
        if not in_force:
            return in_force, reason
        if self.valid_from and as_of < self.valid_from:
            return False, "not_yet_effective"
        if self.valid_to and as_of > self.valid_to:
            return False, "expired"
        return True, "in_force"

    def clean(self) -> None:
        from policies.selectors import catalog  # selectors import this module

        errors: dict[str, list] = {}
        facts = catalog()
        if self.condition is not None:
            problems = validate_condition(self.condition, facts)
            if problems:
                errors["condition"] = problems
        if self.base_fact:
            fact = facts.get(self.base_fact)
            if fact is None:
                errors["base_fact"] = [_("未知事实 %(code)s（不在事实目录中）") % {"code": self.base_fact}]
            elif fact.type not in NUMERIC_TYPES:
                errors["base_fact"] = [_("计算基数 %(code)s 必须是数值事实") % {"code": self.base_fact}]
        if self.kind == self.Kind.NON_MONETARY and (self.cap, self.amount, self.ratio) != (None, None, None):
            errors["kind"] = [_("非资金支持不能有上限、定额或比例")]
        if self.cap is not None and self.amount is not None and self.amount > self.cap:
            errors["amount"] = [_("定额不能高于上限")]
        # Every quoted phrase must be words of the clause, so results can cite them.
        text = self._clause_text()
        if text is not None:
            for field in ("amount_quote", "recognition_phrase"):
                value = getattr(self, field)
                if value and not found_in(value, text):
                    errors.setdefault(field, []).append(_("“%(q)s”不在条款原文中") % {"q": value})
            if self.condition is not None and "condition" not in errors:
                errors["condition"] = [
                    _("条件 %(fact)s 的引文“%(q)s”不在条款原文中")
                    % {"fact": leaf["fact"], "q": leaf["quote"]}
                    for leaf in leaves(self.condition)
                    if not found_in(leaf["quote"], text)
                ]
        errors = {field: problems for field, problems in errors.items() if problems}
        if errors:
            raise ValidationError(errors)

    def _clause_text(self) -> str | None:
        try:
            return self.clause.text
        except Clause.DoesNotExist:
            return None
