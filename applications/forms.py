"""Forms of the application pages. Amounts are typed in 万元 and handed to services in yuan.

Every form carries the `version` the user saw (optimistic locking) and renders its own ids
(`auto_id`), so several forms on one page never share an id.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from applications.models import Application
from applications.services import reviewers
from applications.uploads import human_size, max_bytes
from policies.money import wan_number, yuan_from_wan


class AccessibleForm(forms.Form):
    """Marks invalid fields with aria-invalid and ties help text and errors to the input."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.form_id}_%s")
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = f"{self.form_id}_{name}_help"

    form_id = "form"

    def _post_clean(self):
        super()._post_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"
                described = widget.attrs.get("aria-describedby", "")
                widget.attrs["aria-describedby"] = f"{described} {self.form_id}_{name}_errors".strip()


class VersionedForm(AccessibleForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


def wan_field(label, *, required: bool, help_text=""):
    return forms.DecimalField(
        label=label,
        required=required,
        min_value=Decimal("0.000001"),
        max_digits=16,
        decimal_places=6,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal"}),
    )


class ApplicationForm(AccessibleForm):
    """The enterprise's part of an application (prefilled from the profile and the engine's estimate)."""

    form_id = "application"
    requested_amount = wan_field(
        _("申请金额（万元）"),
        required=False,
        help_text=_("以万元为单位，例如 1000 表示 1000 万元；不确定可留空。"),
    )
    project_summary = forms.CharField(
        label=_("申报说明"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("简述申报事项、项目情况及符合条件的依据。"),
    )
    contact_name = forms.CharField(label=_("联系人"), required=False, max_length=50)
    contact_phone = forms.CharField(
        label=_("联系电话"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, *args, items=None, **kwargs):
        """`items`: the enterprise's own items of a per-item benefit's kind (the apply page asks which
        one); None for any other benefit (no such field)."""
        super().__init__(*args, **kwargs)
        if items is not None:
            self.fields["item"] = forms.TypedChoiceField(
                label=_("申报事项"),
                coerce=int,
                choices=[("", _("请选择")), *((item.pk, item.title) for item in items)],
                help_text=_("该项目按项目（事项）申报：同一项目只能申报一次，多个项目分别申报。"),
                error_messages={"invalid_choice": _("请从贵企业的事项中选择。")},
            )
            self.order_fields(["item"])

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            "requested_amount": yuan_from_wan(data["requested_amount"]),
            "project_summary": data["project_summary"],
            "contact_name": data["contact_name"],
            "contact_phone": data["contact_phone"],
        }
        if "item" in self.fields:
            kwargs["item_id"] = data["item"]
        return kwargs

    @classmethod
    def initial_for(cls, application: Application) -> dict:
        return {
            "requested_amount": wan_number(application.requested_amount),
            "project_summary": application.project_summary,
            "contact_name": application.contact_name,
            "contact_phone": application.contact_phone,
            "version": application.version,
        }


class EditApplicationForm(ApplicationForm, VersionedForm):
    pass


class SubmitForm(VersionedForm):
    form_id = "submit"


class WithdrawForm(VersionedForm):
    form_id = "withdraw"
    reason = forms.CharField(
        label=_("撤回原因"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ResubmitForm(VersionedForm):
    form_id = "resubmit"
    answer = forms.CharField(
        label=_("补充说明"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("说明已补充的材料或信息（附件请先在上方上传）。"),
        error_messages={"required": _("请说明补充了哪些材料或信息。")},
    )


class AttachmentForm(AccessibleForm):
    form_id = "attachment"
    file = forms.FileField(
        label=_("附件文件"),
        help_text=" ",  # set per request: the limit is a setting
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"}
        ),
        error_messages={"required": _("请选择要上传的文件。")},
    )
    description = forms.CharField(label=_("材料说明"), required=False, max_length=200)
    material = forms.TypedChoiceField(
        label=_("对应材料"), required=False, coerce=int, empty_value=None, choices=[("", _("其他材料"))]
    )

    def __init__(self, *args, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        if materials:
            self.fields["material"].choices = [("", _("请选择"))] + [
                (material.pk, material.name) for material in materials
            ]
            self.fields["material"].required = True
            self.fields["material"].error_messages["required"] = _("请选择这份文件对应的申报材料。")
        else:
            del self.fields["material"]
        self.fields["file"].help_text = _("仅限 PDF、JPEG、PNG，单个文件不超过 %(limit)s。") % {
            "limit": human_size(max_bytes())
        }


class StartReviewForm(VersionedForm):
    form_id = "start"


class ApproveForm(VersionedForm):
    form_id = "approve"
    amount = wan_field(
        _("核定金额（万元）"), required=False, help_text=_("以万元为单位，不得超过该项目上限。")
    )
    comment = forms.CharField(
        label=_("审核意见"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectForm(VersionedForm):
    form_id = "reject"
    reason = forms.CharField(
        label=_("不予通过的理由"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写不予通过的理由。")},
    )


class ReturnForm(VersionedForm):
    form_id = "return"
    needed = forms.CharField(
        label=_("需补充的材料或信息"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请写明需要企业补充的材料或信息。")},
    )


class AssignForm(VersionedForm):
    form_id = "assign"
    reviewer = forms.ModelChoiceField(
        label=_("审核人"), queryset=None, required=False, empty_label=_("（不分派）")
    )

    def __init__(self, *args, form_id: str | None = None, **kwargs):
        if form_id:
            self.form_id = form_id
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers()
        self.fields["reviewer"].label_from_instance = lambda user: user.get_full_name() or user.get_username()


class MaterialCheckForm(VersionedForm):
    """A reviewer's mark on one material of the call (applications.services.check_material)."""

    form_id = "material"
    material = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    verdict = forms.ChoiceField(
        label=_("审核结果"),
        choices=[("accepted", _("已认可")), ("replace", _("需重新提交"))],
        error_messages={"invalid_choice": _("请选择“已认可”或“需重新提交”。")},
    )
    comment = forms.CharField(label=_("说明"), required=False, max_length=1000)


# ---------------------------------------------------------------- 免申即享 confirmation and payouts


class ConfirmGrantForm(VersionedForm):
    form_id = "confirm"


class DeclineGrantForm(VersionedForm):
    form_id = "decline"
    reason = forms.CharField(
        label=_("放弃原因（选填）"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class PayoutStageForm(VersionedForm):
    form_id = "payout"
    publicised_on = forms.DateField(
        label=_("公示日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    payment_order = forms.CharField(label=_("支付凭证号"), required=False, max_length=100)
    paid_on = forms.DateField(
        label=_("到账日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, stage_id: int, **kwargs):
        self.form_id = f"payout{stage_id}"
        super().__init__(*args, **kwargs)
