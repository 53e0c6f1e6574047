"""Forms of the staff pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from policies.models import Benefit


class BenefitChangeForm(forms.ModelForm):
    """The fields of a benefit whose change moves results (validated by Benefit.clean)."""

    condition = forms.JSONField(
        label=_("条件（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80, "spellcheck": "false"}),
        help_text=_("留空表示无额外条件"),
    )

    class Meta:
        model = Benefit
        fields = [
            "cap",
            "amount",
            "ratio",
            "base_fact",
            "requires_recognition",
            "valid_from",
            "valid_to",
            "condition",
        ]
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "valid_to": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }


class NotificationPreferenceForm(forms.Form):
    email_enabled = forms.BooleanField(label=_("匹配结果变化或申报有进展时发邮件通知我"), required=False)
