"""Staff confirmation of self-registrations.

A self-registered enterprise is PENDING until staff confirm it: it can keep its profile, use the
self-check and see its results, but it cannot submit applications (applications.services) and gets
no API key (portal.api.services). A registration naming a credit code that another enterprise
already holds (verified or not) creates a RegistrationClaim instead of a second enterprise; the
claimant is told only that the code is registered and that staff will check. Staff with
`enterprises.verify_enterprise` confirm or reject both kinds; every decision is a history row
(django-simple-history) naming the staff user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser as User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Enterprise, EnterpriseMembership, RegistrationClaim
from policies.i18n import display_lang
from policies.models import FactDefinition

VERIFY_PERMISSION = "enterprises.verify_enterprise"


def can_verify(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(VERIFY_PERMISSION)


def _check(actor: User) -> None:
    if not can_verify(actor):
        raise PermissionDenied(_("您没有核实企业登记的权限。"))


def unverified_reason(enterprise: Enterprise | None) -> str:
    """Why the enterprise may not submit yet, or "" when it may."""
    if enterprise is None or enterprise.is_verified:
        return ""
    if enterprise.verification == Enterprise.Verification.REJECTED:
        return _("贵企业的登记未通过工作人员核实，暂不能提交申报。如有疑问请联系工作人员。")
    return _("贵企业的登记尚待工作人员核实，核实通过后才能提交申报。")


def pending_registrations() -> QuerySet[Enterprise]:
    return Enterprise.objects.filter(verification=Enterprise.Verification.PENDING).order_by(
        "created_at", "pk"
    )


def pending_claims() -> QuerySet[RegistrationClaim]:
    return RegistrationClaim.objects.filter(state=RegistrationClaim.State.PENDING).select_related(
        "enterprise", "user"
    )


def claims_with_answer_labels(claims: QuerySet[RegistrationClaim]) -> list[RegistrationClaim]:
    """The claims, each with `answer_labels`: what its self-check answers are about, for staff."""
    definitions = FactDefinition.objects.catalog()
    separator = ", " if display_lang() == "en" else "、"
    listed = list(claims)
    for claim in listed:
        labels = [
            definitions[code].label
            for code, value in claim.answers.items()
            if code in definitions and value not in (None, "", [])
        ]
        claim.answer_count = len(labels)
        claim.answer_labels = separator.join(labels)
    return listed


@transaction.atomic
def create_claim(
    *,
    user: User,
    enterprise: Enterprise,
    claimed_name: str,
    answers: Mapping[str, Any] | None = None,
    as_of: dt.date | None = None,
) -> RegistrationClaim:
    claim = RegistrationClaim(
        user=user,
        enterprise=enterprise,
        claimed_name=claimed_name,
        answers=dict(answers or {}),
        answers_as_of=as_of if answers else None,
    )
    claim._history_user = user
    claim.save()
    return claim


def _decide_registration(actor: User, enterprise_id: int, state: str) -> Enterprise:
    _check(actor)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    if enterprise.verification != Enterprise.Verification.PENDING:
        raise ValidationError(_("该企业登记已处理，未重复操作。"), code="decided")
    enterprise.verification = state
    enterprise.verified_at = timezone.now()
    enterprise.verified_by = actor
    enterprise._history_user = actor
    enterprise.save(update_fields=["verification", "verified_at", "verified_by", "updated_at"])
    return enterprise


@transaction.atomic
def confirm_registration(*, actor: User, enterprise_id: int) -> Enterprise:
    return _decide_registration(actor, enterprise_id, Enterprise.Verification.VERIFIED)


@transaction.atomic
def reject_registration(*, actor: User, enterprise_id: int) -> Enterprise:
    """The enterprise stays (its history with it) but rejected: it cannot submit; a later claim of
    its code can be confirmed by staff for the real company."""
    return _decide_registration(actor, enterprise_id, Enterprise.Verification.REJECTED)


@transaction.atomic
def reopen_registration(*, actor: User, enterprise_id: int) -> Enterprise:
    """A rejection made in error goes back to the pending list (audited like every decision); the
    enterprise cannot submit until staff confirm it."""
    _check(actor)
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    if enterprise.verification != Enterprise.Verification.REJECTED:
        raise ValidationError(_("只有已驳回的登记可以重新核实。"), code="not_rejected")
    enterprise.verification = Enterprise.Verification.PENDING
    enterprise.verified_at = None
    enterprise.verified_by = None
    enterprise._history_user = actor
    enterprise.save(update_fields=["verification", "verified_at", "verified_by", "updated_at"])
    return enterprise


def rejected_registrations(limit: int = 50) -> QuerySet[Enterprise]:
    """The latest rejected self-registrations, which staff may reopen."""
    return Enterprise.objects.filter(verification=Enterprise.Verification.REJECTED).order_by(
        "-verified_at", "-pk"
    )[:limit]


def _decide_claim(actor: User, claim_id: int, state: str) -> RegistrationClaim:
    _check(actor)
    claim = RegistrationClaim.objects.select_for_update().select_related("enterprise").get(pk=claim_id)
    if claim.state != RegistrationClaim.State.PENDING:
        raise ValidationError(_("该认领申请已处理，未重复操作。"), code="decided")
    claim.state = state
    claim.decided_at = timezone.now()
    claim.decided_by = actor
    claim._history_user = actor
    claim.save(update_fields=["state", "decided_at", "decided_by"])
    return claim


@transaction.atomic
def confirm_claim(*, actor: User, claim_id: int) -> RegistrationClaim:
    """The claimant acts for the enterprise from now on (as a member; its administrator can promote)."""
    from enterprises.answers import fill_profile_gaps_from_answers
    from enterprises.services import link_user

    claim = _decide_claim(actor, claim_id, RegistrationClaim.State.CONFIRMED)
    if EnterpriseMembership.objects.filter(user=claim.user).exclude(enterprise=claim.enterprise).exists():
        raise ValidationError(_("该账号已关联其他企业，不能确认认领。"), code="already_linked")
    role = (
        EnterpriseMembership.Role.ADMIN
        if not claim.enterprise.memberships.exists()
        else EnterpriseMembership.Role.MEMBER
    )
    link_user(user=claim.user, enterprise_id=claim.enterprise_id, role=role, actor=actor)
    if claim.answers and claim.answers_as_of:  # the claimant's answers fill what the profile lacks
        fill_profile_gaps_from_answers(
            enterprise_id=claim.enterprise_id,
            answers=claim.answers,
            as_of=claim.answers_as_of,
            actor=claim.user,
        )
    return claim


@transaction.atomic
def reject_claim(*, actor: User, claim_id: int) -> RegistrationClaim:
    return _decide_claim(actor, claim_id, RegistrationClaim.State.REJECTED)
