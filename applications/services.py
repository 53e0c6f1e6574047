"""Writes of the applications app: every state change of an application.

Each service is keyword-only and atomic. It locks the row (select_for_update), checks the actor's
rights, the version the actor saw (a stale decision is refused, nothing is overwritten), the
transition table and its inputs, then saves with full_clean and writes an ApplicationEvent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from applications import selectors
from applications.models import (
    EDITABLE_STATES,
    OPEN_STATES,
    Action,
    Application,
    ApplicationEvent,
    Attachment,
    State,
)
from applications.uploads import MAX_ATTACHMENTS, check_upload
from enterprises.models import Enterprise
from enterprises.presentation import wan_yuan
from enterprises.selectors import enterprise_for_user
from enterprises.verification import unverified_reason
from matching import notifications
from policies.models import Benefit

REVIEW_PERMISSION = "applications.review_application"
ASSIGN_PERMISSION = "applications.assign_application"
CENT = Decimal("0.01")


class ApplicationError(ValidationError):
    """A refused action, with a message for people (subclasses say which kind)."""


class StaleVersion(ApplicationError):
    pass


class InvalidTransition(ApplicationError):
    pass


class DuplicateApplication(ApplicationError):
    pass


ENTERPRISE, REVIEWER, ASSIGNER = "enterprise", "reviewer", "assigner"


@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str | None  # None: the state does not change
    side: str  # who may do it: the enterprise's users, reviewers or assigners


TRANSITIONS: dict[str, Transition] = {
    Action.EDIT: Transition(EDITABLE_STATES, None, ENTERPRISE),
    Action.SUBMIT: Transition((State.DRAFT,), State.SUBMITTED, ENTERPRISE),
    Action.WITHDRAW: Transition(OPEN_STATES, State.WITHDRAWN, ENTERPRISE),
    Action.START_REVIEW: Transition((State.SUBMITTED, State.RESUBMITTED), State.UNDER_REVIEW, REVIEWER),
    Action.RETURN: Transition((State.UNDER_REVIEW,), State.RETURNED, REVIEWER),
    Action.RESUBMIT: Transition((State.RETURNED,), State.RESUBMITTED, ENTERPRISE),
    Action.APPROVE: Transition((State.UNDER_REVIEW,), State.APPROVED, REVIEWER),
    Action.REJECT: Transition((State.UNDER_REVIEW,), State.REJECTED, REVIEWER),
    Action.ASSIGN: Transition(
        (State.SUBMITTED, State.UNDER_REVIEW, State.RETURNED, State.RESUBMITTED), None, ASSIGNER
    ),
    Action.ATTACH: Transition(EDITABLE_STATES, None, ENTERPRISE),
    Action.DETACH: Transition(EDITABLE_STATES, None, ENTERPRISE),
}


def allowed_actions(application: Application) -> set[str]:
    """The actions the transition table allows from the application's state (rights aside)."""
    return {action for action, transition in TRANSITIONS.items() if application.state in transition.sources}


# ---------------------------------------------------------------- checks


def is_member(user: AbstractBaseUser, enterprise_id: int) -> bool:
    enterprise = enterprise_for_user(user)
    return enterprise is not None and enterprise.pk == enterprise_id


def can_review(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(REVIEW_PERMISSION)


def _check_actor(actor: AbstractBaseUser, enterprise_id: int, side: str) -> None:
    if side == ENTERPRISE and not is_member(actor, enterprise_id):
        raise PermissionDenied(_("只能操作本企业的申报。"))
    if side == REVIEWER and not can_review(actor):
        raise PermissionDenied(_("您没有审核申报的权限。"))
    if side == ASSIGNER and not (actor.is_authenticated and actor.has_perm(ASSIGN_PERMISSION)):
        raise PermissionDenied(_("您没有分派审核人的权限。"))


def _begin(
    action: str, *, actor: AbstractBaseUser, application_id: int, expected_version: int
) -> Application:
    """The locked application, once the actor, the version and the transition are all in order."""
    application = Application.objects.select_for_update().get(pk=application_id)
    transition = TRANSITIONS[action]
    _check_actor(actor, application.enterprise_id, transition.side)
    if action in (Action.SUBMIT, Action.RESUBMIT):  # an unverified self-registration may not submit
        reason = unverified_reason(application.enterprise)
        if reason:
            raise ApplicationError(reason, code="enterprise_unverified")
    if action in (Action.SUBMIT, Action.RESUBMIT) and application.state == transition.target:
        raise DuplicateApplication(
            _("申报 %(ref)s 已经提交，请勿重复提交。") % {"ref": application.reference}, code="duplicate"
        )
    if application.version != expected_version:
        raise StaleVersion(
            _(
                "申报 %(ref)s 已被他人修改（当前为第 %(current)s 版，您看到的是第 %(seen)s 版），"
                "您的操作未保存。请刷新页面查看最新内容后再操作。"
            )
            % {"ref": application.reference, "current": application.version, "seen": expected_version},
            code="stale",
        )
    if application.state not in transition.sources:
        raise InvalidTransition(
            _("申报 %(ref)s 当前状态为“%(state)s”，不能执行“%(action)s”。")
            % {
                "ref": application.reference,
                "state": application.get_state_display(),
                "action": Action(action).label,
            },
            code="invalid_transition",
        )
    return application


def _finish(
    application: Application,
    action: str,
    *,
    actor: AbstractBaseUser,
    from_state: str,
    comment: str = "",
    amount: Decimal | None = None,
) -> Application:
    target = TRANSITIONS[action].target
    if target is not None:
        application.state = target
    application.version += 1
    application._history_user = actor  # simple_history: who made this version
    application.full_clean()
    application.save()
    _record(application, action, actor=actor, from_state=from_state, comment=comment, amount=amount)
    _notify(application, action, comment=comment, amount=amount)
    return application


# What the enterprise is told on each application event (its notifications page, opted-in e-mail and the
# webhook event application.<name>). Words are chosen when read (matching.notifications.notice_text).
NOTICES = {
    Action.SUBMIT: ("submitted", gettext_noop("申报 %(ref)s（%(benefit)s）已提交，等待审核。")),
    Action.RESUBMIT: ("resubmitted", gettext_noop("申报 %(ref)s（%(benefit)s）已补充后重新提交，等待审核。")),
    Action.WITHDRAW: ("withdrawn", gettext_noop("申报 %(ref)s（%(benefit)s）已撤回。")),
    Action.START_REVIEW: ("under_review", gettext_noop("申报 %(ref)s（%(benefit)s）已开始审核。")),
    Action.ASSIGN: ("assigned", gettext_noop("申报 %(ref)s（%(benefit)s）已分派审核人。")),
    Action.RETURN: ("returned", gettext_noop("申报 %(ref)s（%(benefit)s）被退回补充：%(comment)s")),
    Action.APPROVE: (
        "approved",
        gettext_noop("申报 %(ref)s（%(benefit)s）已批准，核定金额 %(amount_yuan)s。"),
    ),
    Action.REJECT: ("rejected", gettext_noop("申报 %(ref)s（%(benefit)s）未通过：%(comment)s")),
}


def _notify(application: Application, action: str, *, comment: str, amount: Decimal | None) -> None:
    if action not in NOTICES:
        return
    name, message = NOTICES[action]
    if action == Action.APPROVE and amount is None:  # a non-monetary benefit
        message = gettext_noop("申报 %(ref)s（%(benefit)s）已批准。")
    notifications.notify(
        enterprise_id=application.enterprise_id,
        kind=f"application.{name}",
        message=message,
        params={
            "ref": application.reference,
            "benefit": application.benefit.name,
            "comment": comment,
            "amount_yuan": None if amount is None else str(amount),
        },
        url=reverse("applications:detail", args=[application.pk]),
        data={"id": application.pk, "reference": application.reference, "state": application.state},
    )


def _record(
    application: Application,
    action: str,
    *,
    actor: AbstractBaseUser,
    from_state: str,
    comment: str = "",
    amount: Decimal | None = None,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=application,
        actor=actor,
        actor_name=actor.get_username(),
        action=action,
        from_state=from_state,
        to_state=application.state,
        comment=comment,
        amount=amount,
    )


def _required(text: str, message: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ApplicationError({field: message}, code="required")
    return text


def approval_ceiling(benefit: Benefit) -> Decimal | None:
    """The most the benefit may pay: its cap, else its fixed amount; None when the text sets neither."""
    return benefit.cap if benefit.cap is not None else benefit.amount


def _check_amount(amount: Decimal | None, benefit: Benefit, *, field: str, required: bool) -> Decimal | None:
    if benefit.kind == Benefit.Kind.NON_MONETARY:
        if amount is not None:
            raise ApplicationError({field: _("该项目为非资金支持，不填写金额。")}, code="non_monetary")
        return None
    if amount is None:
        if required:
            raise ApplicationError({field: _("请填写金额。")}, code="required")
        return None
    if amount <= 0:
        raise ApplicationError({field: _("金额必须大于 0。")}, code="not_positive")
    if amount != amount.quantize(CENT):
        raise ApplicationError({field: _("金额最多精确到分（0.01 元）。")}, code="precision")
    ceiling = approval_ceiling(benefit)
    if ceiling is not None and amount > ceiling:
        raise ApplicationError(
            {
                field: _("金额 %(amount)s 超过该项目的上限 %(cap)s，不能超过上限。")
                % {"amount": wan_yuan(amount), "cap": wan_yuan(ceiling)}
            },
            code="above_cap",
        )
    return amount


def _benefit(benefit_id: int) -> Benefit:
    return Benefit.objects.select_related("clause__document").get(pk=benefit_id)


def _refuse_out_of_force(benefit: Benefit, as_of: dt.date) -> None:
    in_force, reason = benefit.validity_on(as_of)
    if not in_force:
        words = {
            "draft": _("政策尚处于征求意见稿阶段"),
            "not_yet_effective": _("政策尚未施行"),
            "expired": _("政策已过有效期"),
            "superseded": _("政策已被新政策替代"),
        }
        raise InvalidTransition(
            _("“%(name)s”目前不能申报：%(why)s。") % {"name": benefit.name, "why": words.get(reason, reason)},
            code="not_in_force",
        )


# ---------------------------------------------------------------- enterprise side


@transaction.atomic
def create_draft(
    *,
    actor: AbstractBaseUser,
    enterprise_id: int,
    benefit_id: int,
    requested_amount: Decimal | None = None,
    project_summary: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    as_of: dt.date | None = None,
) -> Application:
    """A new draft; refused while the enterprise has an open application for the benefit."""
    _check_actor(actor, enterprise_id, ENTERPRISE)
    as_of = as_of or timezone.localdate()
    # Locking the enterprise serialises concurrent creations; the unique constraint is the backstop.
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    benefit = _benefit(benefit_id)
    _refuse_out_of_force(benefit, as_of)
    _refuse_duplicate(enterprise, benefit)
    requested_amount = _check_amount(requested_amount, benefit, field="requested_amount", required=False)
    explained = selectors.explain_benefit(enterprise, benefit, as_of)
    application = Application(
        enterprise=enterprise,
        benefit=benefit,
        requested_amount=requested_amount,
        project_summary=project_summary.strip(),
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        explanation_snapshot=explained.explanation,
        facts_snapshot=explained.facts,
        created_by=actor,
    )
    application._history_user = actor
    application.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        # Another request created one between our check and our insert.
        _refuse_duplicate(enterprise, benefit)
        raise
    _record(application, Action.CREATE, actor=actor, from_state="", amount=requested_amount)
    return application


def _refuse_duplicate(enterprise: Enterprise, benefit: Benefit) -> None:
    open_one = Application.objects.filter(
        enterprise=enterprise, benefit=benefit, state__in=OPEN_STATES
    ).first()
    if open_one is not None:
        raise DuplicateApplication(
            _("贵企业对该项目已有一份进行中的申报（%(ref)s，状态：%(state)s），请勿重复申报。")
            % {"ref": open_one.reference, "state": open_one.get_state_display()},
            code="duplicate",
        )
    if benefit.recurrence == Benefit.Recurrence.ONE_TIME:
        approved = Application.objects.filter(
            enterprise=enterprise, benefit=benefit, state=State.APPROVED
        ).first()
        if approved is not None:
            raise DuplicateApplication(
                _("该项目为一次性支持，贵企业的申报 %(ref)s 已获批准，不能重复申报。")
                % {"ref": approved.reference},
                code="duplicate",
            )


@transaction.atomic
def update_draft(
    *,
    actor: AbstractBaseUser,
    application_id: int,
    expected_version: int,
    requested_amount: Decimal | None,
    project_summary: str,
    contact_name: str,
    contact_phone: str,
) -> Application:
    application = _begin(
        Action.EDIT, actor=actor, application_id=application_id, expected_version=expected_version
    )
    application.requested_amount = _check_amount(
        requested_amount, application.benefit, field="requested_amount", required=False
    )
    application.project_summary = project_summary.strip()
    application.contact_name = contact_name.strip()
    application.contact_phone = contact_phone.strip()
    return _finish(
        application,
        Action.EDIT,
        actor=actor,
        from_state=application.state,
        amount=application.requested_amount,
    )


def _take_snapshots(application: Application, as_of: dt.date | None) -> None:
    as_of = as_of or timezone.localdate()
    benefit = _benefit(application.benefit_id)
    _refuse_out_of_force(benefit, as_of)
    explained = selectors.explain_benefit(application.enterprise, benefit, as_of)
    application.explanation_snapshot = explained.explanation
    application.facts_snapshot = explained.facts


@transaction.atomic
def submit(
    *, actor: AbstractBaseUser, application_id: int, expected_version: int, as_of: dt.date | None = None
) -> Application:
    """Draft → submitted, freezing the engine's explanation and the facts it read."""
    application = _begin(
        Action.SUBMIT, actor=actor, application_id=application_id, expected_version=expected_version
    )
    _refuse_without_materials(application)
    _take_snapshots(application, as_of)
    now = timezone.now()
    application.submitted_at = application.submitted_at or now
    application.last_submitted_at = now
    return _finish(
        application,
        Action.SUBMIT,
        actor=actor,
        from_state=State.DRAFT,
        amount=application.requested_amount,
    )


def _refuse_without_materials(application: Application) -> None:
    """An application goes to the reviewers with its materials: at least one file is attached."""
    if not application.attachments.exists():
        raise ApplicationError(
            {"attachments": _("请先上传申报材料（PDF、JPEG 或 PNG，至少一份），再提交申报。")},
            code="materials_missing",
        )


@transaction.atomic
def withdraw(
    *, actor: AbstractBaseUser, application_id: int, expected_version: int, reason: str = ""
) -> Application:
    application = _begin(
        Action.WITHDRAW, actor=actor, application_id=application_id, expected_version=expected_version
    )
    from_state = application.state
    application.decided_at = timezone.now()
    return _finish(application, Action.WITHDRAW, actor=actor, from_state=from_state, comment=reason.strip())


@transaction.atomic
def resubmit(
    *,
    actor: AbstractBaseUser,
    application_id: int,
    expected_version: int,
    answer: str,
    as_of: dt.date | None = None,
) -> Application:
    """Returned → resubmitted with the enterprise's answer; the explanation is taken again."""
    application = _begin(
        Action.RESUBMIT, actor=actor, application_id=application_id, expected_version=expected_version
    )
    application.resubmission_note = _required(answer, _("请说明补充了哪些材料或信息。"), "answer")
    _take_snapshots(application, as_of)
    application.last_submitted_at = timezone.now()
    return _finish(
        application,
        Action.RESUBMIT,
        actor=actor,
        from_state=State.RETURNED,
        comment=application.resubmission_note,
    )


@transaction.atomic
def add_attachment(
    *, actor: AbstractBaseUser, application_id: int, upload: UploadedFile, description: str = ""
) -> Attachment:
    """A checked file (type by content, size) stored under MEDIA_ROOT/applications/<id>/."""
    application = Application.objects.select_for_update().get(pk=application_id)
    _check_actor(actor, application.enterprise_id, ENTERPRISE)
    _check_editable(application, Action.ATTACH)
    if application.attachments.count() >= MAX_ATTACHMENTS:
        raise ApplicationError(
            {"file": _("每份申报最多 %(n)s 个附件。") % {"n": MAX_ATTACHMENTS}}, code="too_many"
        )
    try:
        checked = check_upload(upload)
    except ValidationError as error:
        raise ApplicationError({"file": error.messages}, code=error.code) from None
    attachment = Attachment(
        application=application,
        original_name=checked.original_name,
        kind=checked.kind,
        size=checked.size,
        sha256=checked.sha256,
        description=description.strip()[:200],
        uploaded_by=actor,
    )
    attachment.file.save(checked.original_name, upload, save=False)
    try:  # a failed save must not leave the file behind
        attachment.full_clean()
        attachment.save()
        _finish(
            application,
            Action.ATTACH,
            actor=actor,
            from_state=application.state,
            comment=checked.original_name,
        )
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


@transaction.atomic
def remove_attachment(*, actor: AbstractBaseUser, attachment_id: int) -> None:
    attachment = Attachment.objects.select_related("application").get(pk=attachment_id)
    application = Application.objects.select_for_update().get(pk=attachment.application_id)
    _check_actor(actor, application.enterprise_id, ENTERPRISE)
    _check_editable(application, Action.DETACH)
    name, storage = attachment.file.name, attachment.file.storage
    attachment.delete()
    _finish(
        application,
        Action.DETACH,
        actor=actor,
        from_state=application.state,
        comment=attachment.original_name,
    )
    transaction.on_commit(lambda: storage.delete(name))


def _check_editable(application: Application, action: str) -> None:
    if application.state not in TRANSITIONS[action].sources:
        raise InvalidTransition(
            _("申报 %(ref)s 当前状态为“%(state)s”，不能修改附件。")
            % {"ref": application.reference, "state": application.get_state_display()},
            code="invalid_transition",
        )


# ---------------------------------------------------------------- staff side


@transaction.atomic
def start_review(*, actor: AbstractBaseUser, application_id: int, expected_version: int) -> Application:
    application = _begin(
        Action.START_REVIEW, actor=actor, application_id=application_id, expected_version=expected_version
    )
    from_state = application.state
    if application.reviewer_id is None:
        application.reviewer = actor
    return _finish(application, Action.START_REVIEW, actor=actor, from_state=from_state)


@transaction.atomic
def return_for_information(
    *, actor: AbstractBaseUser, application_id: int, expected_version: int, needed: str
) -> Application:
    application = _begin(
        Action.RETURN, actor=actor, application_id=application_id, expected_version=expected_version
    )
    application.information_request = _required(needed, _("请写明需要企业补充的材料或信息。"), "needed")
    return _finish(
        application,
        Action.RETURN,
        actor=actor,
        from_state=State.UNDER_REVIEW,
        comment=application.information_request,
    )


@transaction.atomic
def approve(
    *,
    actor: AbstractBaseUser,
    application_id: int,
    expected_version: int,
    amount: Decimal | None,
    comment: str = "",
) -> Application:
    """Under review → approved; the amount is required (> 0, never above the benefit's cap)."""
    application = _begin(
        Action.APPROVE, actor=actor, application_id=application_id, expected_version=expected_version
    )
    application.approved_amount = _check_amount(amount, application.benefit, field="amount", required=True)
    return _decide(
        application, Action.APPROVE, actor=actor, reason=comment.strip(), amount=application.approved_amount
    )


@transaction.atomic
def reject(
    *, actor: AbstractBaseUser, application_id: int, expected_version: int, reason: str
) -> Application:
    application = _begin(
        Action.REJECT, actor=actor, application_id=application_id, expected_version=expected_version
    )
    return _decide(
        application,
        Action.REJECT,
        actor=actor,
        reason=_required(reason, _("请填写不予通过的理由。"), "reason"),
    )


def _decide(
    application: Application,
    action: str,
    *,
    actor: AbstractBaseUser,
    reason: str,
    amount: Decimal | None = None,
) -> Application:
    """Under review → approved / rejected, with the decision's reason and time."""
    application.decision_reason = reason
    application.decided_at = timezone.now()
    return _finish(
        application, action, actor=actor, from_state=State.UNDER_REVIEW, comment=reason, amount=amount
    )


@transaction.atomic
def assign_reviewer(
    *, actor: AbstractBaseUser, application_id: int, expected_version: int, reviewer_id: int | None
) -> Application:
    """Give the application to a reviewer (None: nobody); the reviewer needs the review permission."""
    application = _begin(
        Action.ASSIGN, actor=actor, application_id=application_id, expected_version=expected_version
    )
    reviewer = None
    if reviewer_id is not None:
        reviewer = reviewers().filter(pk=reviewer_id).first()
        if reviewer is None:
            raise ApplicationError({"reviewer": _("所选用户没有审核申报的权限。")}, code="not_reviewer")
    application.reviewer = reviewer
    return _finish(
        application,
        Action.ASSIGN,
        actor=actor,
        from_state=application.state,
        comment=reviewer.get_username() if reviewer else _("取消分派"),
    )


def reviewers() -> QuerySet:
    """Active users holding the review permission (directly, through a group, or as superusers)."""
    app_label, codename = REVIEW_PERMISSION.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    has = Q(is_superuser=True)
    if permission is not None:
        has |= Q(user_permissions=permission) | Q(groups__permissions=permission)
    users = get_user_model().objects.filter(has, is_active=True)
    return get_user_model().objects.filter(pk__in=users.values("pk")).order_by("username")
