"""Enterprise profiles: identity, yearly figures, recognitions, projects and the generic fact store.

"Not stated" is NULL everywhere (never 0 or False). Every row that carries data says where it
came from (`source`). django-simple-history records who changed what and when.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from enterprises import catalog, taxonomy
from enterprises.validators import validate_credit_code, validate_non_negative

MONEY = {
    "max_digits": 16,
    "decimal_places": 2,
    "null": True,
    "blank": True,
    "validators": [validate_non_negative],
}
EARLIEST_YEAR = 1949


class Source(models.TextChoices):
    SELF_DECLARED = "self_declared", _("企业自报")
    STAFF = "staff", _("工作人员录入")
    REGISTER = "register", _("权威名录导入")


def validate_not_future_year(year: int | None) -> None:
    if year is not None and year > timezone.localdate().year:
        raise ValidationError(_("年份不能晚于今年。"), code="future_year")


def validate_not_future_date(day: datetime.date | None) -> None:
    """A plausible date of an enterprise's life: not after today, not before EARLIEST_YEAR (year 1 was
    accepted before and would sort first in every list)."""
    if day is None:
        return
    if day > timezone.localdate():
        raise ValidationError(_("日期不能晚于今天。"), code="future_date")
    if day.year < EARLIEST_YEAR:
        raise ValidationError(
            _("日期不能早于 %(year)s 年。") % {"year": EARLIEST_YEAR}, code="too_early_date"
        )


YEAR_VALIDATORS = [MinValueValidator(EARLIEST_YEAR), validate_not_future_year]


def validate_region_code(value: str) -> None:
    from policies.models import Region

    if value and not Region.objects.filter(code=value).exists():
        raise ValidationError(_("未知的地区：%(value)s") % {"value": value}, code="unknown_region")


def validate_industry_code(value: str) -> None:
    """Four digits of GB/T 4754-2017: an existing division (大类) and a group digit 1-9."""
    if len(value) != 4 or not (value.isascii() and value.isdigit()):
        raise ValidationError(
            _("行业代码应为4位数字（国民经济行业分类小类，如 3511）。"), code="industry_code"
        )
    if value[:2] not in taxonomy.INDUSTRY_DIVISIONS or value[2] == "0":
        raise ValidationError(
            _("未知的国民经济行业分类代码：%(code)s。") % {"code": value}, code="unknown_industry"
        )


class Enterprise(models.Model):
    class Verification(models.TextChoices):
        """Staff-created and imported enterprises are verified; a self-registered one waits for staff."""

        VERIFIED = "verified", _("已核实")
        PENDING = "pending", _("待工作人员核实")
        REJECTED = "rejected", _("核实未通过")

    class LegalForm(models.TextChoices):
        LLC = "llc", _("有限责任公司")
        JOINT_STOCK = "joint_stock", _("股份有限公司")
        PARTNERSHIP = "partnership", _("合伙企业")
        BRANCH = "branch", _("分公司")
        NON_LEGAL_PERSON = "non_legal_person", _("非法人组织")

    class Scale(models.TextChoices):
        LARGE = "large", _("大型")
        MEDIUM = "medium", _("中型")
        SMALL = "small", _("小型")
        MICRO = "micro", _("微型")

    class Exchange(models.TextChoices):
        NONE = "none", _("未上市")
        SSE = "sse", _("上海证券交易所")
        SZSE = "szse", _("深圳证券交易所")
        BSE = "bse", _("北京证券交易所")
        HKEX = "hkex", _("香港交易所")
        OVERSEAS_OTHER = "overseas_other", _("其他境外主要资本市场")

    name = models.CharField(_("企业名称"), max_length=200)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    district = models.CharField(_("所在区"), max_length=20, blank=True, choices=taxonomy.DISTRICT_CHOICES)
    town = models.CharField(_("街镇"), max_length=50, blank=True)
    address = models.CharField(_("地址"), max_length=300, blank=True)
    registered_region = models.CharField(
        _("注册地（精确到区县、街镇或园区）"),
        max_length=40,
        blank=True,
        validators=[validate_region_code],
        help_text=_("留空时按所在区和街镇确定；外省市企业请选择所在省、市、县"),
    )
    operating_region = models.CharField(
        _("实际经营地"),
        max_length=40,
        blank=True,
        validators=[validate_region_code],
        help_text=_("实际经营地与注册地不同时选择，例如注册在外区、实际经营在闵行"),
    )
    registered_on = models.DateField(
        _("成立日期"), null=True, blank=True, validators=[validate_not_future_date]
    )
    legal_form = models.CharField(_("组织形式"), max_length=20, blank=True, choices=LegalForm.choices)
    industry_code = models.CharField(
        _("国民经济行业分类代码"), max_length=4, blank=True, validators=[validate_industry_code]
    )
    industry_tracks = models.JSONField(_("重点产业领域"), default=list, blank=True)
    industry_subtracks = models.JSONField(_("细分赛道"), default=list, blank=True)
    scale = models.CharField(_("企业规模"), max_length=10, blank=True, choices=Scale.choices)
    is_foreign_invested = models.BooleanField(_("外资企业"), null=True, blank=True)
    above_scale = models.BooleanField(_("规模以上工业企业"), null=True, blank=True)
    above_scale_since = models.PositiveSmallIntegerField(
        _("首次纳入规上统计年份"), null=True, blank=True, validators=YEAR_VALIDATORS
    )
    listing_exchange = models.CharField(_("上市交易所"), max_length=20, blank=True, choices=Exchange.choices)
    listed_on = models.DateField(_("上市日期"), null=True, blank=True, validators=[validate_not_future_date])
    # "The list is complete": without it, no recognition / no recent project means "unknown", not "none".
    recognitions_declared = models.BooleanField(_("已完整填报认定情况"), default=False)
    projects_declared = models.BooleanField(_("已完整填报近两年项目情况"), default=False)
    source = models.CharField(
        _("数据来源"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED
    )
    verification = models.CharField(
        _("登记核实"), max_length=10, choices=Verification.choices, default=Verification.VERIFIED
    )
    verified_at = models.DateTimeField(_("核实时间"), null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("核实人"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        permissions = [("verify_enterprise", _("核实企业自助登记"))]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED

    def clean(self) -> None:
        subtracks = catalog.catalog_choice_values("industry_subtracks") or set(taxonomy.SUBTRACK_LABELS)
        self.check_rules(tracks=catalog.catalog_choice_values("industry_tracks"), subtracks=subtracks)

    def check_rules(self, *, tracks: Collection[str] | None, subtracks: Collection[str]) -> None:
        """clean() with the catalog's track values given (the bulk import reads them once per file)."""
        errors: dict[str, list[str]] = {}
        for field, allowed in (("industry_tracks", tracks), ("industry_subtracks", subtracks)):
            value = getattr(self, field)
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                errors.setdefault(field, []).append(_("应为文本列表。"))
                continue
            if allowed is None:
                if value:
                    errors.setdefault(field, []).append(_("事实目录尚未加载，无法校验重点产业领域。"))
                continue
            unknown = sorted(set(value) - set(allowed))
            if unknown:
                errors.setdefault(field, []).append(
                    _("未知的产业领域或赛道：%(values)s。") % {"values": "、".join(unknown)}
                )
            setattr(self, field, sorted(set(value)))
        if self.listed_on and self.listing_exchange in ("", self.Exchange.NONE):
            errors.setdefault("listed_on", []).append(_("填写上市日期时请同时选择上市交易所。"))
        if self.registered_on and self.listed_on and self.listed_on < self.registered_on:
            errors.setdefault("listed_on", []).append(_("上市日期不能早于成立日期。"))
        if errors:
            raise ValidationError(errors)


class YearlyFigure(models.Model):
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="figures")
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    output_value = models.DecimalField(_("工业总产值（元）"), **MONEY)
    revenue = models.DecimalField(_("营业收入（元）"), **MONEY)
    rd_expense = models.DecimalField(_("研发费用（元）"), **MONEY)
    employees = models.PositiveIntegerField(_("从业人员（人）"), null=True, blank=True)
    tax_paid = models.DecimalField(_("纳税额（元）"), **MONEY)
    source = models.CharField(
        _("数据来源"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["enterprise_id", "-year"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "year"], name="figure_one_per_year")]
        verbose_name = _("年度经营数据")
        verbose_name_plural = _("年度经营数据")

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year}"


class Level(models.TextChoices):
    NATIONAL = "national", _("国家级")
    MUNICIPAL = "municipal", _("市级")
    DISTRICT = "district", _("区级")


class Recognition(models.Model):
    class Grade(models.TextChoices):
        EXCELLENT = "excellent", _("优秀")
        GOOD = "good", _("良好")
        PASS = "pass", _("合格")
        FAIL = "fail", _("不合格")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="recognitions")
    kind = models.CharField(_("认定类型"), max_length=60, help_text=_("可选值见事实目录的“认定与荣誉”"))
    level = models.CharField(_("级别"), max_length=10, blank=True, choices=Level.choices)
    year = models.PositiveSmallIntegerField(_("获得年份"), validators=YEAR_VALIDATORS)
    certificate_no = models.CharField(_("证书编号"), max_length=100, blank=True)
    first_time = models.BooleanField(_("当年首次获得"), default=True)
    grade = models.CharField(_("评价结果"), max_length=10, blank=True, choices=Grade.choices)
    source = models.CharField(
        _("数据来源"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["enterprise_id", "-year", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind", "year"], name="recognition_once_per_year")
        ]
        verbose_name = _("认定与荣誉")
        verbose_name_plural = _("认定与荣誉")

    def __str__(self) -> str:
        return f"{self.enterprise} {self.kind} {self.year}"

    def clean(self) -> None:
        allowed = catalog.catalog_choice_values("recognitions")
        if allowed is None:
            raise ValidationError({"kind": _("事实目录尚未加载，无法校验认定类型。")})
        if self.kind not in allowed:
            raise ValidationError({"kind": _("未知的认定类型：%(kind)s。") % {"kind": self.kind}})


class Project(models.Model):
    """A project or claim the enterprise undertook in a year; facts sum them per kind."""

    class Kind(models.TextChoices):
        TECH_UPGRADE = "tech_upgrade", _("技术改造项目")
        FACTORY_PURCHASE = "factory_purchase", _("购置工业厂房")
        FACTORY_LEASE = "factory_lease", _("租赁工业厂房")
        INDUSTRIAL_UPSTAIRS = "industrial_upstairs", _("入驻“工业上楼”项目")
        MNA = "mna", _("并购")
        FIRST_OF_KIND = "first_of_kind", _("首台套/首批次/首版次")
        DRUG_RD = "drug_rd", _("创新药械研发")
        EVENT = "event", _("主办或承办活动")
        LOAN = "loan", _("政策性贷款")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="projects")
    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices)
    title = models.CharField(_("项目名称"), max_length=200, blank=True)
    external_ref = models.CharField(_("外部编号"), max_length=100, blank=True)
    year = models.PositiveSmallIntegerField(_("年度"), validators=YEAR_VALIDATORS)
    level = models.CharField(
        _("级别"),
        max_length=10,
        blank=True,
        choices=[(Level.MUNICIPAL, Level.MUNICIPAL.label), (Level.DISTRICT, Level.DISTRICT.label)],
    )
    total_investment = models.DecimalField(_("项目总投资（元）"), **MONEY)
    new_equipment_investment = models.DecimalField(_("新增设备投资额（元）"), **MONEY)
    municipal_funding_granted = models.DecimalField(_("已获批市级扶持资金（元）"), **MONEY)
    area_m2 = models.DecimalField(
        _("面积（平方米）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_non_negative],
    )
    rent_total = models.DecimalField(_("租房总额（元）"), **MONEY)
    contract_amount = models.DecimalField(_("合同或交易金额（元）"), **MONEY)
    cost = models.DecimalField(_("发生费用或研发投入（元）"), **MONEY)
    interest_paid = models.DecimalField(_("支付利息（元）"), **MONEY)
    guarantee_fee_paid = models.DecimalField(_("支付担保费（元）"), **MONEY)
    is_new = models.BooleanField(_("新购置/新租赁"), default=True)
    self_use = models.BooleanField(_("自用"), default=True)
    key_industry_new_project = models.BooleanField(_("重点产业领域新引进项目"), null=True, blank=True)
    policy_guaranteed = models.BooleanField(_("政府性融资担保"), null=True, blank=True)
    source = models.CharField(
        _("数据来源"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["enterprise_id", "-year", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "external_ref"],
                condition=~Q(external_ref=""),
                name="project_external_ref",
            )
        ]
        verbose_name = _("项目与申报事项")
        verbose_name_plural = _("项目与申报事项")

    def __str__(self) -> str:
        return f"{self.enterprise} {self.get_kind_display()} {self.year}"

    def clean(self) -> None:
        if self.kind == self.Kind.TECH_UPGRADE and not self.level:
            raise ValidationError({"level": _("技术改造项目须注明市级或区级。")})


class Item(models.Model):
    """One thing of an enterprise that a benefit pays for on its own — a project, a charging station, a
    PV installation, a product, an event — of a kind declared in fixtures/items/. Its values are the
    catalog's facts of that kind (`FactDefinition.item_kind`), keyed by fact code."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("事项类型"), max_length=80)
    title = models.CharField(_("名称"), max_length=200)
    external_ref = models.CharField(_("外部编号"), max_length=100, blank=True)
    values = models.JSONField(_("事项信息"), default=dict, blank=True)
    source = models.CharField(
        _("数据来源"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["enterprise_id", "kind", "id"]
        verbose_name = _("事项")
        verbose_name_plural = _("事项")

    def __str__(self) -> str:
        return self.title


class FactValue(models.Model):
    """The value of a stored catalog fact for one enterprise (typed by the fact; dated; with provenance)."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="fact_values")
    fact = models.ForeignKey(
        "policies.FactDefinition", on_delete=models.PROTECT, related_name="+", verbose_name=_("事实")
    )
    value = models.JSONField(_("值"), null=True, blank=True)  # [] = known to hold none of a set
    year = models.PositiveSmallIntegerField(_("年度"), null=True, blank=True, validators=YEAR_VALIDATORS)
    valid_from = models.DateField(_("起始日期"), null=True, blank=True, validators=[validate_not_future_date])
    source = models.CharField(
        _("数据来源"), max_length=20, choices=Source.choices, default=Source.SELF_DECLARED
    )
    note = models.CharField(_("备注"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["enterprise_id", "fact_id", "-year"]
        constraints = [
            # NULL years are not distinct from each other: one undated value per fact and valid_from.
            models.UniqueConstraint(
                fields=["enterprise", "fact", "year"],
                condition=Q(year__isnull=False),
                name="fact_value_per_year",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "fact", "valid_from"],
                condition=Q(year__isnull=True, valid_from__isnull=False),
                name="fact_value_per_start",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "fact"],
                condition=Q(year__isnull=True, valid_from__isnull=True),
                name="fact_value_undated",
            ),
        ]
        verbose_name = _("事实值")
        verbose_name_plural = _("事实值")

    def __str__(self) -> str:
        return f"{self.enterprise} {self.fact_id} {self.year or ''}"

    def clean(self) -> None:
        definition = self.fact
        # A builtin fact is computed from the profile's data; only the enterprise's own declaration (the
        # self-check's answer) may stand in for it until that data is entered (facts.py: derived wins).
        if definition.derived != definition.Derivation.STORED and self.source != Source.SELF_DECLARED:
            raise ValidationError(
                {"fact": _("“%(label)s”由系统根据企业数据计算，不能直接填写。") % {"label": definition.label}}
            )
        if self.year is not None and self.valid_from is not None:
            raise ValidationError({"valid_from": _("年度与起始日期只填一项。")})
        if self.value is None:
            raise ValidationError({"value": _("请填写值；不知道时不要保存这一项。")})
        typed = catalog.from_json(definition.type, self.value)
        if typed is None:
            raise ValidationError(
                {"value": _("值的类型与事实“%(label)s”的类型不符。") % {"label": definition.label}}
            )
        try:
            typed = catalog.coerce_fact_value(definition, typed)
        except ValidationError as error:
            raise ValidationError({"value": error.messages}) from None
        self.value = catalog.to_json(definition.type, typed)


class EnterpriseMembership(models.Model):
    """A user account that acts for one enterprise."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("企业管理员")
        MEMBER = "member", _("企业成员")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enterprise_membership"
    )
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, default=Role.ADMIN)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("企业账号")
        verbose_name_plural = _("企业账号")

    def __str__(self) -> str:
        return f"{self.user} → {self.enterprise}"


class RegistrationClaim(models.Model):
    """A self-registration naming a credit code another enterprise already holds: the account waits
    for staff to confirm (it then acts for that enterprise) or reject it; no second enterprise."""

    class State(models.TextChoices):
        PENDING = "pending", _("待核实")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("已驳回")

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.CASCADE, related_name="claims", verbose_name=_("企业")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("申请账号")
    )
    claimed_name = models.CharField(_("填报的企业名称"), max_length=200)
    # The claimant's self-check answers ({fact code: JSON value}, the wizard's session format) and
    # their as-of date: on confirmation they fill what the enterprise's profile does not state yet.
    answers = models.JSONField(_("政策计算器回答"), default=dict, blank=True, editable=False)
    answers_as_of = models.DateField(_("回答的测算日期"), null=True, blank=True, editable=False)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("企业登记认领")
        verbose_name_plural = _("企业登记认领")

    def __str__(self) -> str:
        return f"{self.user} → {self.enterprise}"


class ImportJob(models.Model):
    """A staff upload of enterprise data, checked (dry run) and then imported in the background
    (enterprises.import_jobs, enterprises.tasks): the file, what the check found, the progress of the
    stage running. All-or-nothing per file; the file is dropped once the job is over."""

    class Status(models.TextChoices):
        VALIDATING = "validating", _("正在校验")
        INVALID = "invalid", _("校验未通过")
        READY = "ready", _("待确认导入")
        IMPORTING = "importing", _("正在导入")
        DONE = "done", _("已导入")
        FAILED = "failed", _("导入失败")

    RUNNING = (Status.VALIDATING, Status.IMPORTING)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    filename = models.CharField(_("文件名"), max_length=255)
    content = models.BinaryField(_("文件内容"), blank=True)
    sha256 = models.CharField(_("文件摘要"), max_length=64)
    source = models.CharField(_("数据来源"), max_length=20, choices=Source.choices, default=Source.REGISTER)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.VALIDATING, db_index=True
    )
    stage = models.CharField(_("阶段"), max_length=20, blank=True)  # validate | write
    done = models.PositiveIntegerField(_("已处理行数"), default=0)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    rows = models.PositiveIntegerField(_("数据行数"), default=0)
    creates = models.PositiveIntegerField(_("新增企业数"), default=0)
    updates = models.PositiveIntegerField(_("更新企业数"), default=0)
    # what the last check found: file-level errors, and every row with an error {line, credit_code, name,
    # action, errors}; `sample` is the first rows as the check saw them
    file_errors = models.JSONField(_("文件错误"), default=list, blank=True)
    row_errors = models.JSONField(_("行错误"), default=list, blank=True)
    sample = models.JSONField(_("预览行"), default=list, blank=True)
    error = models.TextField(_("意外错误"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("企业数据导入")
        verbose_name_plural = _("企业数据导入")

    def __str__(self) -> str:
        return f"{self.filename} {self.status}"

    @property
    def running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def percent(self) -> int | None:
        return min(100, self.done * 100 // self.total) if self.total else None

    @property
    def error_count(self) -> int:
        return len(self.file_errors) + sum(len(row["errors"]) for row in self.row_errors)


class EnterpriseChange(models.Model):
    """An enterprise whose data changed since its results were stored ("dirty"), by what changed.

    Written by this app's writers in the writing transaction (enterprises/changes.py: one row per
    enterprise and source, however many edits); drained by matching (jobs.drain_enterprise_changes),
    which deletes the rows it evaluated: a burst of edits gives one evaluation, and a change
    committed while no worker runs is not lost. No foreign key: a row of a deleted enterprise is
    dropped by the drain.
    """

    # new (evaluate every benefit) | enterprise | figures | recognitions | projects | items | fact:<FactDefinition id>
    enterprise_id = models.BigIntegerField(_("企业ID"))
    source = models.CharField(_("变化来源"), max_length=40)
    marked_at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("待重新评估的企业")
        verbose_name_plural = _("待重新评估的企业")
        constraints = [
            models.UniqueConstraint(fields=["enterprise_id", "source"], name="enterprise_change_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id}: {self.source}"
