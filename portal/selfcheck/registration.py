"""Registering from the self-check: a new account and enterprise whose profile is the session's answers.

The profile is written by enterprises.answers.create_profile_from_answers; this module holds the
form, the all-or-nothing registration (account and profile in one transaction) and the comparison
that tells the user which answers the profile could not hold (they need data the wizard never asked,
e.g. a registration date for 成立年限).

A new enterprise is unverified until staff confirm it (enterprises.verification). A credit code that
another enterprise already holds makes a claim for staff instead of a refusal that would tell who
holds it, and no second enterprise. Registration POSTs are throttled per client address and per
credit code (the password reset's atomic cache counters, portal.auth.count_attempt).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from enterprises import verification
from enterprises.answers import create_profile_from_answers
from enterprises.facts import facts_for
from enterprises.models import Enterprise, RegistrationClaim
from enterprises.validators import credit_code_problem
from policies.models import FactDefinition
from portal.auth import client_ip, count_attempt
from portal.selfcheck.evaluation import parse_answers

PASSWORD_TOO_SHORT = _("密码太短，至少需要 %(min_length)d 个字符。")


class RegistrationForm(UserCreationForm):
    """Username and password twice (Django's password validators), the enterprise's name and code."""

    enterprise_name = forms.CharField(
        label=_("企业名称"),
        max_length=200,
        help_text=_("与营业执照一致，例如：上海某某精密制造有限公司。"),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=40,  # longer input gets the validator's clearer "应为18位" message
        help_text=_("18位，见营业执照，例如 91310112MA1XXXXXXX。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    class Meta(UserCreationForm.Meta):
        fields = ("username",)

    def validate_password_for_user(self, user: AbstractBaseUser, **kwargs: Any) -> None:
        """Django's password checks. Its 5.2 "too short" message has no Chinese translation (the msgid
        changed), so that one is said here; the others come translated."""
        super().validate_password_for_user(user, **kwargs)
        errors = self._errors.get("password2")
        if errors:
            errors.data = [
                ValidationError(PASSWORD_TOO_SHORT, code=error.code, params=error.params)
                if error.code == "password_too_short"
                else error
                for error in errors.data
            ]

    def clean_credit_code(self) -> str:
        code = self.cleaned_data["credit_code"].strip().upper()
        problem = credit_code_problem(code)
        if problem:
            raise ValidationError(problem, code="invalid_credit_code")
        return code  # a code already held is not refused here: register() makes a claim of it

    def add_service_errors(self, error: ValidationError) -> None:
        """A refusal of the profile service: its name and code on those fields, answers at the top."""
        fields = {"name": "enterprise_name", "credit_code": "credit_code"}
        for key, messages in error.message_dict.items():
            if key in fields:
                self.add_error(fields[key], messages)
            elif key == NON_FIELD_ERRORS:
                self.add_error(None, messages)
            else:
                self.add_error(
                    None,
                    [
                        _("测算回答无法保存，请返回政策计算器修改：%(message)s") % {"message": m}
                        for m in messages
                    ],
                )


CLAIM_SUBMITTED = _("已有企业登记，已提交工作人员核实。")
THROTTLED = _("登记请求过多，请 %(minutes)s 分钟后再试。")


def throttled(request: HttpRequest) -> str:
    """The refusal when this POST is over the limit per client address or per credit code, else ""."""
    limit = int(getattr(settings, "REGISTRATION_LIMIT", 5))
    window = int(getattr(settings, "REGISTRATION_WINDOW", 3600))
    code = (request.POST.get("credit_code") or "").strip().upper()[:40]
    counts = [count_attempt(f"register:ip:{client_ip(request)}", window)]
    if code:
        counts.append(count_attempt(f"register:code:{code}", window))
    if max(counts) > limit:
        return THROTTLED % {"minutes": max(1, window // 60)}
    return ""


@dataclass(frozen=True)
class Registered:
    user: AbstractBaseUser
    enterprise: Enterprise | None  # the new (unverified) enterprise; None for a claim
    claim: RegistrationClaim | None = None


def register(form: RegistrationForm, *, answers: Mapping[str, Any], as_of: dt.date) -> Registered | None:
    """Create the account and the enterprise profile together, or the account and a claim of the
    enterprise holding the code; None (errors on the form) when refused."""
    data = form.cleaned_data
    try:
        with transaction.atomic():
            user = form.save()
            holder = Enterprise.objects.filter(credit_code=data["credit_code"]).first()
            if holder is not None:
                claim = verification.create_claim(
                    user=user,
                    enterprise=holder,
                    claimed_name=data["enterprise_name"].strip(),
                    answers=answers,
                    as_of=as_of,
                )
                return Registered(user=user, enterprise=None, claim=claim)
            enterprise = create_profile_from_answers(
                user=user,
                name=data["enterprise_name"].strip(),
                credit_code=data["credit_code"],
                answers=answers,
                as_of=as_of,
            )
    except ValidationError as error:
        form.add_service_errors(error)
        return None
    except IntegrityError:  # the same username or code registered a moment ago by someone else
        form.add_error(None, _("该用户名或统一社会信用代码刚刚已被登记，请检查后重试。"))
        return None
    return Registered(user=user, enterprise=enterprise)


def answers_not_carried(
    enterprise: Enterprise,
    answers: Mapping[str, Any],
    *,
    as_of: dt.date,
    catalog: Mapping[str, FactDefinition],
) -> list[FactDefinition]:
    """The answered facts whose value in the new profile is not the answer (still to be completed)."""
    typed = parse_answers(answers, catalog=catalog)
    values = facts_for(enterprise, as_of, catalog=catalog).values
    return [catalog[code] for code, value in typed.items() if value is not None and values.get(code) != value]
