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
from pydantic import ValidationError as PydanticError
from simple_history.models import HistoricalRecords

from policies import amount_rules, formulas
from policies.citations import quote_problems
from policies.fidelity import found_in
from policies.i18n import display_lang
from policies.regions import region_choices
from policies.rules import NUMERIC_TYPES, choice_label, choice_pairs, fact_codes, lint
from policies.rules import label as fact_label
from policies.supersession import superseded_dates


class FactCatalogQuerySet(models.QuerySet):
    def catalog(self) -> dict[str, "FactDefinition"]:
        """The fact catalog: code -> definition. Region facts carry the region tree as their choices
        (policies/regions.py), so conditions on them validate, compile and render without a query.
        A region fact that lists its own choices keeps them (a narrower tree, e.g. in tests)."""
        facts = {fact.code: fact for fact in self.all()}
        region_facts = [
            fact for fact in facts.values() if fact.type == FactDefinition.Type.REGION and not fact.choices
        ]
        if region_facts:
            choices = region_choices(
                Region.objects.values("code", "name_zh", "name_en", "level", parent_code=F("parent__code"))
            )
            for fact in region_facts:
                fact.choices = choices
        return facts


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
        REGION = "region", _("地区")

    class Derivation(models.TextChoices):
        BUILTIN = "builtin", _("由企业基础数据计算")
        STORED = "stored", _("通用事实存储")
        FORMULA = "formula", _("按公式由其他事实计算")

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
    formula = models.CharField(
        _("计算公式"),
        max_length=500,
        blank=True,
        help_text=_("来源为“按公式计算”时填写：用事实代码和 + - * / 写成的算式，例如 投资额 ÷ 用地面积"),
    )
    item_kind = models.CharField(
        _("所属事项类型"),
        max_length=80,
        blank=True,
        help_text=_("留空：企业的事实；填写：某类事项（项目、设施、产品…）各自的事实"),
    )
    objects = FactCatalogQuerySet.as_manager()
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

    def _check_formula(self) -> None:
        problems = _formula_problems(self)
        if problems:
            raise ValidationError({"formula": problems})

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
            if self.choices and self.type not in (self.Type.ENUM, self.Type.SET, self.Type.REGION):
                errors.append(_("只有单选、多选类型可以有可选值"))
        if errors:
            raise ValidationError({"choices": errors})
        self._check_formula()
        if self.item_kind and not ItemKind.objects.filter(code=self.item_kind).exists():
            raise ValidationError({"item_kind": _("未知的事项类型 %(kind)s") % {"kind": self.item_kind}})


class ItemKind(models.Model):
    """A kind of thing an enterprise may have several of, each paid for on its own: a project, a
    facility, a product, an event (fixtures/items/). Its facts are catalog facts with `item_kind`."""

    code = models.SlugField(_("代码"), max_length=80, unique=True)
    label_zh = models.CharField(_("中文名称"), max_length=200)
    label_en = models.CharField(_("英文名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    source_file = models.CharField(_("定义文件"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("事项类型")
        verbose_name_plural = _("事项类型")

    def __str__(self) -> str:
        return self.label_zh

    @property
    def label(self) -> str:
        return self.label_en if display_lang() == "en" and self.label_en else self.label_zh


class Region(models.Model):
    """One node of the region tree (fixtures/regions/): country, province or municipality, city,
    district or county, town, park. A document's jurisdiction and an enterprise's location are
    region codes; "within X" holds for X and everything below it."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("国家")
        PROVINCIAL = "provincial", _("省级")
        MUNICIPAL = "municipal", _("市级")
        PREFECTURE = "prefecture", _("地级市")
        DISTRICT = "district", _("区级")
        COUNTY = "county", _("县级")
        TOWN = "town", _("街镇")
        PARK = "park", _("园区")

    code = models.CharField(_("代码"), max_length=40, unique=True)
    name_zh = models.CharField(_("中文名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级"),
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("行政区域")
        verbose_name_plural = _("行政区域")

    def __str__(self) -> str:
        return self.name_zh

    @property
    def name(self) -> str:
        return self.name_en if display_lang() == "en" else self.name_zh


def _formula_problems(fact: FactDefinition) -> list[str]:
    catalog = FactDefinition.objects.catalog

    if fact.derived != FactDefinition.Derivation.FORMULA:
        return [_("只有“按公式计算”的事实可以有公式")] if fact.formula else []
    if not fact.formula:
        return [_("按公式计算的事实必须填写公式")]
    if fact.type not in formulas.NUMERIC_TYPES:
        return [_("公式的结果是数值：事实类型应为数值")]
    try:
        parsed = formulas.parse(fact.formula)
    except formulas.FormulaError as exc:
        return [str(exc)]
    facts = {**catalog(), fact.code: fact}
    problems = formulas.catalog_problems(fact.code, parsed, facts)
    for name in sorted(parsed.inputs):
        other = facts.get(name)
        if other is not None and other.item_kind and other.item_kind != fact.item_kind:
            problems.append(_("公式读取了其他事项类型的事实 %(code)s") % {"code": name})
    return problems


class PolicyDocument(models.Model):
    """One published policy text (one file in ../shared/seeds/ or ../shared/corpus/)."""

    class Level(models.TextChoices):
        NATIONAL = "national", _("国家级")
        PROVINCIAL = "provincial", _("省级")
        MUNICIPAL = "municipal", _("市级")
        PREFECTURE = "prefecture", _("地市级")
        DISTRICT = "district", _("区级")
        COUNTY = "county", _("县级")
        TOWN = "town", _("街镇级")
        PARK = "park", _("园区级")

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
    jurisdiction = models.CharField(
        _("管辖区域"), max_length=40, blank=True, help_text=_("行政区域代码：发文机关所辖区域")
    )
    applicability = models.JSONField(
        _("适用范围条件"),
        null=True,
        blank=True,
        help_text=_("对本文件每个扶持项目先行判断的条件，引文出自“本政策适用于…”等条款"),
    )
    supersedes = models.JSONField(
        _("替代文件"),
        default=list,
        blank=True,
        help_text=_("[{key, number, quote}]：本文件施行之日起废止或替代的文件"),
    )
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

    def clean(self) -> None:
        catalog = FactDefinition.objects.catalog

        errors: dict[str, list] = {}
        if self.jurisdiction and not Region.objects.filter(code=self.jurisdiction).exists():
            errors["jurisdiction"] = [_("未知的行政区域代码 %(code)s") % {"code": self.jurisdiction}]
        if self.applicability is not None:
            problems = lint(self.applicability, catalog())
            if not problems and self.pk:  # a new document's clauses are checked by the loader
                texts = dict(self.clauses.values_list("number", "text"))
                problems = quote_problems(self.applicability, texts, None, where=_("适用范围"))
            if problems:
                errors["applicability"] = problems
        if not isinstance(self.supersedes, list) or not all(
            isinstance(entry, dict) and entry.get("quote") and (entry.get("key") or entry.get("number"))
            for entry in self.supersedes
        ):
            errors["supersedes"] = [_("每一项都要有 quote，以及 key 或 number")]
        elif any(entry.get("key") == self.key for entry in self.supersedes):
            errors["supersedes"] = [_("文件不能替代自己")]
        if errors:
            raise ValidationError(errors)

    def superseded_from(self) -> date | None:
        """The effective date of the earliest in-force document that names this one as replaced."""
        rows = PolicyDocument.objects.exclude(pk=self.pk).values("status", "effective_from", "supersedes")
        return superseded_dates(rows).get(self.key)

    def validity_on(self, as_of: date, superseded_from: date | None = None) -> tuple[bool, str]:
        """Whether the document applies on `as_of`, and why: draft, superseded, not_yet_effective, expired or
        in_force. Dates decide when known (an expired plan was in force within its period); an expired
        document without an end date is expired on every date. A document another one replaces is
        superseded from the replacing one's effective date (`superseded_from`, see superseded_from())."""
        if self.status == self.Status.DRAFT:
            return False, "draft"
        if self.status == self.Status.SUPERSEDED:
            return False, "superseded"
        if superseded_from is not None and as_of >= superseded_from:
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
        "valid_from", "valid_to", "condition", "amount_rule", "exclusion_groups", "per_item",
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
    amount_rule = models.JSONField(
        _("金额规则"),
        default=dict,
        blank=True,
        help_text=_(
            "单价×数量、比例区间、分档、年度上限、分年或分阶段拨付、按日期变化的数值；写法见政策数据说明"
        ),
    )
    exclusion_groups = models.JSONField(
        _("排斥组"), default=list, blank=True, help_text=_("跨文件“就高不重复”等排斥组的标识")
    )
    per_item = models.CharField(
        _("按事项计"),
        max_length=80,
        blank=True,
        help_text=_("事项类型代码：对企业的每个该类事项（项目、设施…）分别判断和计算"),
    )
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
        catalog = FactDefinition.objects.catalog

        errors: dict[str, list] = {}
        facts = catalog()
        if self.condition is not None:
            problems = lint(self.condition, facts)
            if problems:
                errors["condition"] = problems
        if self.base_fact:
            fact = facts.get(self.base_fact)
            if fact is None:
                errors["base_fact"] = [_("未知事实 %(code)s（不在事实目录中）") % {"code": self.base_fact}]
            elif fact.type not in NUMERIC_TYPES:
                errors["base_fact"] = [_("计算基数 %(code)s 必须是数值事实") % {"code": self.base_fact}]
        rule = None
        try:
            rule = amount_rules.parse(self.amount_rule)
        except PydanticError as exc:
            errors["amount_rule"] = [
                f"{'.'.join(str(part) for part in problem['loc']) or '—'}: {problem['msg']}"
                for problem in exc.errors()
            ]
        if rule is not None:
            problems = amount_rules.catalog_problems(rule, facts)
            if problems:
                errors["amount_rule"] = problems
            if self.kind == self.Kind.NON_MONETARY:
                errors["kind"] = [_("非资金支持不能有金额规则")]
        errors.update(self._item_problems(facts, rule))
        if not isinstance(self.exclusion_groups, list) or not all(
            isinstance(k, str) and k for k in self.exclusion_groups
        ):
            errors["exclusion_groups"] = [_("必须是排斥组标识的列表")]
        else:
            known = set(
                ExclusionGroup.objects.filter(key__in=self.exclusion_groups).values_list("key", flat=True)
            )
            unknown = [key for key in self.exclusion_groups if key not in known]
            if unknown:
                errors["exclusion_groups"] = [_("未声明的排斥组：%(keys)s") % {"keys": "、".join(unknown)}]
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
            for where, quote in rule.quotes() if rule is not None else ():
                if not found_in(quote, text):
                    errors.setdefault("amount_rule", []).append(
                        _("%(where)s：“%(q)s”不在条款原文中") % {"where": where, "q": quote}
                    )
            if self.condition is not None and "condition" not in errors:
                errors["condition"] = quote_problems(
                    self.condition, self._document_clause_texts(), self.clause.number, where=_("条件")
                )
        errors = {field: problems for field, problems in errors.items() if problems}
        if errors:
            raise ValidationError(errors)

    def _item_problems(self, facts: dict, rule) -> dict[str, list]:
        """A per-item benefit names a declared kind and reads only that kind's item facts; other
        benefits read no item facts (whose item would they be?)."""
        if self.per_item and not ItemKind.objects.filter(code=self.per_item).exists():
            return {"per_item": [_("未知的事项类型 %(kind)s") % {"kind": self.per_item}]}
        codes = fact_codes(self.condition) | ({self.base_fact} if self.base_fact else set())
        codes |= rule.fact_codes if rule is not None else set()
        wrong = sorted(
            code
            for code in codes
            if code in facts and facts[code].item_kind and facts[code].item_kind != self.per_item
        )
        if wrong:
            return {
                "per_item": [
                    _("%(codes)s 是其他类型事项的事实，不能用于本项目") % {"codes": "、".join(wrong)}
                    if self.per_item
                    else _("%(codes)s 是事项的事实：请设置“按事项计”") % {"codes": "、".join(wrong)}
                ]
            }
        return {}

    def _document_clause_texts(self) -> dict[str, str]:
        """Texts of the document's clauses by number (a leaf may cite any of them); this clause's
        unsaved text wins over the stored one."""
        texts = dict(Clause.objects.filter(document_id=self.clause.document_id).values_list("number", "text"))
        texts[self.clause.number] = self.clause.text
        return texts

    def _clause_text(self) -> str | None:
        try:
            return self.clause.text
        except Clause.DoesNotExist:
            return None


class ExclusionGroup(models.Model):
    """Benefits that cannot all be collected, possibly across documents ("已享受其他市级专项资金支持的
    项目不再重复支持", "就高不重复"): declared once, with the words that say so; benefits name it."""

    class Rule(models.TextChoices):
        HIGHEST_ONLY = "highest_only", _("就高不重复")
        MUTUALLY_EXCLUSIVE = "mutually_exclusive", _("只能选择一项")

    key = models.SlugField(_("标识"), max_length=100, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    rule = models.CharField(_("规则"), max_length=20, choices=Rule.choices)
    document = models.ForeignKey(
        PolicyDocument, on_delete=models.CASCADE, related_name="exclusion_groups", verbose_name=_("声明文件")
    )
    clause_number = models.CharField(_("条款编号"), max_length=30)
    quote = models.TextField(_("原文"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["key"]
        verbose_name = _("排斥组")
        verbose_name_plural = _("排斥组")

    def __str__(self) -> str:
        return self.name


# ---------------------------------------------------------------- change records (policies/changes.py)


class PolicyChange(models.Model):
    """A policy row whose change may move match results ("dirty"), written by the services of this
    app in the saving transaction (one row per kind and key, however many edits); matching drains
    it (jobs.drain_policy_changes) into a re-evaluation of the benefits it touches."""

    class Kind(models.TextChoices):
        BENEFIT = "benefit", _("扶持项目")
        CLAUSE = "clause", _("条款")
        DOCUMENT = "document", _("政策文件")
        FACT = "fact", _("事实定义")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    key = models.CharField(_("标识"), max_length=100, help_text=_("行 ID；事实定义为代码"))
    marked_at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("待重新评估的政策")
        verbose_name_plural = _("待重新评估的政策")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="policy_change_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class ContentGeneration(models.Model):
    """A counter per kind of data a cached reply is made of (see policies/generations.py), bumped by
    the services that write that data, in their transaction."""

    scope = models.CharField(max_length=40, primary_key=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("缓存版本计数")
        verbose_name_plural = _("缓存版本计数")

    def __str__(self) -> str:
        return f"{self.scope}={self.value}"
