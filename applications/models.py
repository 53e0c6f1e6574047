"""Applications for benefits, their audit trail and attachments.

State changes go through applications/services.py only: every change is checked against the
transition table, the actor's rights and the version the actor saw (optimistic locking), and
leaves an ApplicationEvent. django-simple-history keeps every version of the row as well.
"""

from __future__ import annotations

import re
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 16, "decimal_places": 2, "null": True, "blank": True}
# A mainland mobile number (11 digits from 1) or a fixed line with optional area code and extension.
PHONE = re.compile(r"(?:\+?86[- ]?)?1[3-9]\d{9}|(?:0\d{2,3}[- ]?)?\d{7,8}(?:[- ]?(?:转|-)?\d{1,6})?")


def validate_phone(value: str) -> None:
    if value and not PHONE.fullmatch(value.strip()):
        raise ValidationError(
            _("联系电话格式不正确：请填写手机号或固定电话，例如 13812345678、021-64121234。"),
            code="invalid_phone",
        )


class State(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    UNDER_REVIEW = "under_review", _("审核中")
    RETURNED = "returned", _("退回补充")
    RESUBMITTED = "resubmitted", _("已补充提交")
    APPROVED = "approved", _("已批准")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


# An enterprise may hold only one of these per benefit (double submission).
OPEN_STATES = (State.DRAFT, State.SUBMITTED, State.UNDER_REVIEW, State.RETURNED, State.RESUBMITTED)
FINAL_STATES = (State.APPROVED, State.REJECTED, State.WITHDRAWN)
# The enterprise may change its text and attachments only while the application is in its hands.
EDITABLE_STATES = (State.DRAFT, State.RETURNED)


class Action(models.TextChoices):
    CREATE = "create", _("创建草稿")
    EDIT = "edit", _("修改申报信息")
    SUBMIT = "submit", _("提交申报")
    WITHDRAW = "withdraw", _("撤回申报")
    START_REVIEW = "start_review", _("开始审核")
    RETURN = "return", _("退回补充材料")
    RESUBMIT = "resubmit", _("补充后重新提交")
    APPROVE = "approve", _("批准")
    REJECT = "reject", _("不予通过")
    ASSIGN = "assign", _("分派审核人")
    ATTACH = "attach", _("上传附件")
    DETACH = "detach", _("删除附件")
    CHECK_MATERIAL = "check_material", _("审核申报材料")
    CONFIRM = "confirm", _("企业确认免申即享")
    PAYOUT = "payout", _("登记拨付")


class Application(models.Model):
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("企业"),
    )
    benefit = models.ForeignKey(
        "policies.Benefit", on_delete=models.PROTECT, related_name="applications", verbose_name=_("扶持项目")
    )
    # The item (project, facility…) applied for, for a benefit paid per item; empty for any other benefit.
    item = models.ForeignKey(
        "enterprises.Item",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="applications",
        verbose_name=_("申报事项"),
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.DRAFT)
    requested_amount = models.DecimalField(
        _("申请金额（元）"),
        validators=[MinValueValidator(0)],
        help_text=_("空表示未填写，不是 0"),
        **MONEY,
    )
    approved_amount = models.DecimalField(_("核定金额（元）"), validators=[MinValueValidator(0)], **MONEY)
    project_summary = models.TextField(_("申报说明"), blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(
        _("联系电话"),
        max_length=30,
        blank=True,
        validators=[validate_phone],
        help_text=_("手机号或固定电话，例如 13812345678、021-64121234。"),
    )
    # What the engine said and which facts it read, frozen when the enterprise (re)submitted.
    explanation_snapshot = models.JSONField(_("提交时的匹配说明"), default=dict, blank=True)
    facts_snapshot = models.JSONField(_("提交时的企业信息"), default=dict, blank=True)
    information_request = models.TextField(_("需补充的材料"), blank=True)
    resubmission_note = models.TextField(_("补充说明"), blank=True)
    decision_reason = models.TextField(_("审核意见"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_applications",
        verbose_name=_("审核人"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("首次提交时间"), null=True, blank=True, db_index=True)
    last_submitted_at = models.DateTimeField(_("最近提交时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审结时间"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("申报")
        verbose_name_plural = _("申报")
        permissions = [
            ("review_application", _("可审核申报")),
            ("assign_application", _("可分派申报审核人")),
        ]
        constraints = [
            # The database backstop of the service's double-submission check (races included).
            models.UniqueConstraint(
                fields=["enterprise", "benefit"],
                condition=Q(state__in=[state.value for state in OPEN_STATES], item__isnull=True),
                name="application_one_open_per_benefit",
            ),
            # "one project paid only once": per item, one open or approved application
            models.UniqueConstraint(
                fields=["enterprise", "benefit", "item"],
                condition=Q(
                    state__in=[state.value for state in (*OPEN_STATES, State.APPROVED)], item__isnull=False
                ),
                name="application_one_per_item",
            ),
            models.CheckConstraint(
                condition=Q(requested_amount__isnull=True) | Q(requested_amount__gte=0),
                name="application_requested_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(approved_amount__isnull=True) | Q(approved_amount__gt=0),
                name="application_approved_positive",
            ),
        ]
        indexes = [models.Index(fields=["state", "submitted_at"], name="application_state_submitted")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.enterprise_id} × {self.benefit_id} ({self.state})"

    @property
    def reference(self) -> str:
        """The number people quote on the phone."""
        return f"SB{self.pk:06d}" if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES


class ApplicationEvent(models.Model):
    """One line of the audit trail: who did what, when, from which state to which, and why."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="events", verbose_name=_("申报")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_name = models.CharField(_("操作人账号"), max_length=150, help_text=_("账号删除后仍可追溯"))
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    from_state = models.CharField(_("原状态"), max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, choices=State.choices)
    comment = models.TextField(_("说明"), blank=True)
    amount = models.DecimalField(_("金额（元）"), **MONEY)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("申报操作记录")
        verbose_name_plural = _("申报操作记录")

    def __str__(self) -> str:
        return f"{self.application_id} {self.action} {self.from_state}→{self.to_state}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """MEDIA_ROOT/applications/<application id>/<random name>.<ext>: the uploaded name is never a path."""
    suffix = PurePosixPath(filename).suffix.lower()
    return f"applications/{instance.application_id}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        JPEG = "jpeg", "JPEG"
        PNG = "png", "PNG"

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("申报")
    )
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("原文件名"), max_length=200)
    kind = models.CharField(_("文件类型"), max_length=10, choices=Kind.choices)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    description = models.CharField(_("材料说明"), max_length=200, blank=True)
    # Which material of the call this file is (None: a file not tied to a listed material).
    material = models.ForeignKey(
        "applications.CallMaterial",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("对应材料"),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("申报附件")
        verbose_name_plural = _("申报附件")

    def __str__(self) -> str:
        return self.original_name

    @property
    def content_type(self) -> str:
        return {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}[self.kind]


# ---------------------------------------------------------------- application calls (申报通知 / 申报指南)
# Loaded from fixtures/calls/ (and fixtures/demo/calls.yaml in the demo) by `manage.py load_calls`.


class Call(models.Model):
    """A call for applications: who issues and receives it, which benefits it opens, when, how."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("申报通知")
        GUIDE = "guide", _("申报指南")

    class Method(models.TextChoices):
        ONLINE = "online", _("网上申报")
        AUTO_GRANT = "auto_grant", _("免申即享")
        OFFLINE = "offline", _("线下申报")

    key = models.SlugField(_("标识"), max_length=100, unique=True)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.NOTICE)
    title = models.CharField(_("标题"), max_length=300)
    issuer = models.CharField(_("发布机关"), max_length=200)
    document = models.ForeignKey(
        "policies.PolicyDocument",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        verbose_name=_("所依据的政策文件"),
    )
    benefits = models.ManyToManyField(
        "policies.Benefit", related_name="calls", verbose_name=_("开放申报的项目")
    )
    methods = models.JSONField(
        _("申报方式"), default=list, help_text=_("网上申报、免申即享、线下申报中的一种或几种")
    )
    conditions = models.TextField(_("本批次申报条件"), blank=True)
    source_file = models.CharField(_("原文文件"), max_length=200, blank=True)
    url = models.URLField(_("原文链接"), blank=True)
    is_demo = models.BooleanField(
        _("演示数据"), default=False, help_text=_("虚构的演示申报通知，不是真实通知")
    )
    notes = models.TextField(_("编码说明"), blank=True)
    fixture_file = models.CharField(_("来源文件"), max_length=200, editable=False)
    fixture_digest = models.CharField(_("内容摘要"), max_length=64, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("申报通知")
        verbose_name_plural = _("申报通知")

    def __str__(self) -> str:
        return self.title

    def method_labels(self) -> list[str]:
        return [str(self.Method(code).label) for code in self.methods if code in self.Method.values]


class CallDepartment(models.Model):
    """A department receiving applications under the call, with its contact."""

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="departments", verbose_name=_("申报通知")
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("受理部门"), max_length=200)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=100, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    quote = models.TextField(_("原文"), blank=True)

    class Meta:
        ordering = ["call", "order", "id"]
        verbose_name = _("受理部门")
        verbose_name_plural = _("受理部门")

    def __str__(self) -> str:
        return self.name


class CallWindow(models.Model):
    """When applications are taken: from `opens_at` (inclusive) to `closes_at` (exclusive)."""

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="windows", verbose_name=_("申报通知")
    )
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(
        _("截止时间"), help_text=_("此刻起不再受理，例如 7月5日24:00 即 7月6日 0:00")
    )
    quote = models.TextField(_("原文"), blank=True)

    class Meta:
        ordering = ["call", "opens_at", "id"]
        verbose_name = _("申报时间")
        verbose_name_plural = _("申报时间")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="call_window_ordered"
            )
        ]

    def __str__(self) -> str:
        return f"{self.opens_at:%Y-%m-%d %H:%M} – {self.closes_at:%Y-%m-%d %H:%M}"


class CallIntakeLevel(models.Model):
    """One level the application passes through (e.g. 街镇预审), with its deadline when the call states one."""

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="levels", verbose_name=_("申报通知")
    )
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("受理层级"), max_length=200)
    department = models.CharField(_("办理单位"), max_length=200, blank=True)
    deadline = models.DateTimeField(_("办理期限"), null=True, blank=True)
    quote = models.TextField(_("原文"), blank=True)

    class Meta:
        ordering = ["call", "order", "id"]
        verbose_name = _("受理层级")
        verbose_name_plural = _("受理层级")

    def __str__(self) -> str:
        return self.name


class CallMaterial(models.Model):
    """A material the call asks for: required or optional, which file types, once or once per item."""

    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, related_name="materials", verbose_name=_("申报通知")
    )
    key = models.SlugField(_("标识"), max_length=100)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)
    name = models.CharField(_("材料名称"), max_length=300)
    description = models.TextField(_("说明"), blank=True)
    required = models.BooleanField(_("必须提交"), default=True)
    file_types = models.JSONField(
        _("允许的文件类型"), default=list, help_text=_("PDF、JPEG、PNG 中的一种或几种")
    )
    template_url = models.URLField(_("模板下载"), blank=True)
    per_item = models.BooleanField(_("每个项目一份"), default=False)
    quote = models.TextField(_("原文"), blank=True)

    class Meta:
        ordering = ["call", "order", "id"]
        verbose_name = _("申报材料")
        verbose_name_plural = _("申报材料")
        constraints = [models.UniqueConstraint(fields=["call", "key"], name="call_material_key_unique")]

    def __str__(self) -> str:
        return self.name

    def file_type_labels(self) -> list[str]:
        return [Attachment.Kind(kind).label for kind in self.file_types if kind in Attachment.Kind.values]


class MaterialCheck(models.Model):
    """A reviewer's mark on one material of one application: accepted, or to be replaced."""

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", _("已认可")
        REPLACE = "replace", _("需重新提交")

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="material_checks", verbose_name=_("申报")
    )
    material = models.ForeignKey(
        CallMaterial, on_delete=models.CASCADE, related_name="checks", verbose_name=_("申报材料")
    )
    verdict = models.CharField(_("审核结果"), max_length=10, choices=Verdict.choices)
    comment = models.TextField(_("说明"), blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    at = models.DateTimeField(_("时间"), auto_now=True)

    class Meta:
        verbose_name = _("材料审核")
        verbose_name_plural = _("材料审核")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "material"], name="material_check_one_per_material"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.material_id} {self.verdict}"


# ---------------------------------------------------------------- 免申即享 confirmation and payouts
# Kept apart from Application: a confirmation request exists before any application, and a payout
# stage belongs to an approved one. Both keep every version (django-simple-history) as their audit.


class Confirmation(models.Model):
    """意愿确认: staff ask an enterprise met on authoritative data alone whether it wants the benefit."""

    class State(models.TextChoices):
        REQUESTED = "requested", _("待企业确认")
        CONFIRMED = "confirmed", _("企业已确认")
        DECLINED = "declined", _("企业已放弃")

    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        on_delete=models.PROTECT,
        related_name="grant_confirmations",
        verbose_name=_("企业"),
    )
    benefit = models.ForeignKey(
        "policies.Benefit",
        on_delete=models.PROTECT,
        related_name="grant_confirmations",
        verbose_name=_("扶持项目"),
    )
    # The item (project, facility…) asked about, for a benefit paid per item; empty for any other benefit.
    item = models.ForeignKey(
        "enterprises.Item",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grant_confirmations",
        verbose_name=_("申报事项"),
    )
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.REQUESTED)
    estimated_amount = models.DecimalField(_("预估金额（元）"), **MONEY)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发起人"),
    )
    requested_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("答复人"),
    )
    responded_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    decline_reason = models.TextField(_("放弃原因"), blank=True)
    application = models.OneToOneField(
        Application,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="confirmation",
        verbose_name=_("形成的申报"),
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("免申即享意愿确认")
        verbose_name_plural = _("免申即享意愿确认")
        constraints = [
            # asked once per enterprise and benefit (per item for a benefit paid per item): sending
            # twice, or after a refusal, adds nothing. Two partial constraints, as NULL items are distinct.
            models.UniqueConstraint(
                fields=["enterprise", "benefit"],
                condition=Q(item__isnull=True),
                name="confirmation_once_per_benefit",
            ),
            models.UniqueConstraint(
                fields=["enterprise", "benefit", "item"],
                condition=Q(item__isnull=False),
                name="confirmation_once_per_item",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} × {self.benefit_id} ({self.state})"


class PayoutStage(models.Model):
    """One stage of an approved application's payout plan: 公示, payment order, 到账."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="payout_stages", verbose_name=_("申报")
    )
    order = models.PositiveSmallIntegerField(_("序号"))
    condition = models.CharField(_("拨付条件"), max_length=200, blank=True)
    share = models.DecimalField(_("比例"), max_digits=7, decimal_places=6)
    amount = models.DecimalField(_("金额（元）"), max_digits=16, decimal_places=2)
    publicised_on = models.DateField(_("公示日期"), null=True, blank=True)
    payment_order = models.CharField(_("支付凭证号"), max_length=100, blank=True)
    paid_on = models.DateField(_("到账日期"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["application", "order"]
        verbose_name = _("拨付阶段")
        verbose_name_plural = _("拨付阶段")
        permissions = [("record_payout", _("可登记拨付"))]
        constraints = [
            models.UniqueConstraint(fields=["application", "order"], name="payout_stage_order_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payout_stage_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} #{self.order}"

    @property
    def paid(self) -> bool:
        return self.paid_on is not None
