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

from applications import explanations, selectors
from applications.models import (
    EDITABLE_STATES,
    OPEN_STATES,
    Action,
    Application,
    ApplicationEvent,
    Attachment,
    Call,
    CallMaterial,
    Confirmation,
    MaterialCheck,
    PayoutStage,
    State,
)
from applications.uploads import MAX_ATTACHMENTS, check_upload
from enterprises.facts import facts_for
from enterprises.models import Enterprise, Item
from enterprises.selectors import enterprise_for_user
from enterprises.verification import unverified_reason
from matching import notifications
from matching import selectors as matching_selectors
from policies import amount_rules
from policies.models import Benefit, ItemKind
from policies.money import wan

REVIEW_PERMISSION = "applications.review_application"
ASSIGN_PERMISSION = "applications.assign_application"
PAYOUT_PERMISSION = "applications.record_payout"
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
    Action.CHECK_MATERIAL: Transition((State.UNDER_REVIEW,), None, REVIEWER),
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
                % {"amount": wan(amount), "cap": wan(ceiling)}
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
    item_id: int | None = None,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """A new draft; refused while the enterprise has an open application for the benefit, and outside
    every window of the benefit's calls (a benefit without a call is not limited by windows).

    A benefit paid per item is applied for one item at a time (`item_id`, one of the enterprise's own
    items of the benefit's kind): one open or approved application per item, two items two
    applications. Any other benefit takes no item."""
    _check_actor(actor, enterprise_id, ENTERPRISE)
    now = now or timezone.now()
    as_of = as_of or timezone.localdate(now)
    # Locking the enterprise serialises concurrent creations; the unique constraint is the backstop.
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise_id)
    benefit = _benefit(benefit_id)
    _refuse_outside_windows(benefit, now)
    _refuse_out_of_force(benefit, as_of)
    item = _item_for(enterprise, benefit, item_id)
    _refuse_duplicate(enterprise, benefit, item)
    requested_amount = _check_amount(requested_amount, benefit, field="requested_amount", required=False)
    explained = selectors.explain_benefit(enterprise, benefit, as_of, item_id=item.pk if item else None)
    application = Application(
        enterprise=enterprise,
        benefit=benefit,
        item=item,
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
        _refuse_duplicate(enterprise, benefit, item)
        raise
    _record(application, Action.CREATE, actor=actor, from_state="", amount=requested_amount)
    return application


def _item_for(enterprise: Enterprise, benefit: Benefit, item_id: int | None) -> Item | None:
    """The item an application is for: required (the enterprise's own, of the benefit's kind) for a
    benefit paid per item, refused for any other."""
    if not benefit.per_item:
        if item_id is not None:
            raise ApplicationError(
                {
                    "item": _("“%(name)s”按企业申报，不按项目申报：请勿选择申报事项。")
                    % {"name": benefit.name}
                },
                code="item_not_expected",
            )
        return None
    kind = ItemKind.objects.filter(code=benefit.per_item).first()
    kind_label = kind.label if kind else _("项目")
    if item_id is None:
        raise ApplicationError(
            {
                "item": _("“%(name)s”按%(kind)s申报：请选择申报的%(kind)s。")
                % {"name": benefit.name, "kind": kind_label}
            },
            code="item_required",
        )
    item = Item.objects.filter(pk=item_id, enterprise=enterprise, kind=benefit.per_item).first()
    if item is None:  # another enterprise's item, or an item of another kind: never referenced
        raise ApplicationError(
            {"item": _("所选事项不是贵企业的%(kind)s，请从贵企业的%(kind)s中选择。") % {"kind": kind_label}},
            code="unknown_item",
        )
    return item


def _refuse_duplicate(enterprise: Enterprise, benefit: Benefit, item: Item | None = None) -> None:
    if item is not None:  # one project paid only once: one open or approved application per item
        taken = (
            Application.objects.filter(
                enterprise=enterprise, benefit=benefit, item=item, state__in=[*OPEN_STATES, State.APPROVED]
            )
            .order_by("-pk")
            .first()
        )
        if taken is not None:
            raise DuplicateApplication(
                _("“%(item)s”已有一份申报（%(ref)s，状态：%(state)s），同一项目只能申报一次。")
                % {"item": item.title, "ref": taken.reference, "state": taken.get_state_display()},
                code="duplicate",
            )
        return
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
    explained = selectors.explain_benefit(application.enterprise, benefit, as_of, item_id=application.item_id)
    application.explanation_snapshot = explained.explanation
    application.facts_snapshot = explained.facts


@transaction.atomic
def submit(
    *,
    actor: AbstractBaseUser,
    application_id: int,
    expected_version: int,
    as_of: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """Draft → submitted, freezing the engine's explanation and the facts it read. Refused outside every
    window of the benefit's calls and until every required material of the call is attached."""
    application = _begin(
        Action.SUBMIT, actor=actor, application_id=application_id, expected_version=expected_version
    )
    now = now or timezone.now()
    benefit = _benefit(application.benefit_id)
    _refuse_outside_windows(benefit, now)
    _refuse_without_materials(application, selectors.call_for(benefit.pk, now))
    _take_snapshots(application, as_of or timezone.localdate(now))
    application.submitted_at = application.submitted_at or now
    application.last_submitted_at = now
    return _finish(
        application,
        Action.SUBMIT,
        actor=actor,
        from_state=State.DRAFT,
        amount=application.requested_amount,
    )


def _refuse_without_materials(application: Application, call: Call | None) -> None:
    """An application goes to the reviewers with its materials: every required material of the call has
    a file attached for it (an application of a per-item benefit is for one item, so its materials
    are that item's); without a call, or a call listing no material, at least one file is attached."""
    required = [material for material in call.materials.all() if material.required] if call else []
    if required:
        attached = set(application.attachments.values_list("material_id", flat=True))
        missing = [material.name for material in required if material.pk not in attached]
        if missing:
            raise ApplicationError(
                {
                    "attachments": _("还缺少以下必须提交的申报材料：%(names)s。请上传后再提交申报。")
                    % {"names": _("、").join(missing)}
                },
                code="materials_missing",
            )
        return
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
    call = selectors.call_for(application.benefit_id, application.last_submitted_at or timezone.now())
    if call is not None:
        _refuse_without_materials(application, call)
        _refuse_unreplaced(application)
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
    *,
    actor: AbstractBaseUser,
    application_id: int,
    upload: UploadedFile,
    description: str = "",
    material_id: int | None = None,
) -> Attachment:
    """A checked file (type by content, size) stored under MEDIA_ROOT/applications/<id>/; with
    `material_id`, the file is that material of the application's call (its file types are enforced)."""
    application = Application.objects.select_for_update().get(pk=application_id)
    _check_actor(actor, application.enterprise_id, ENTERPRISE)
    _check_editable(application, Action.ATTACH)
    material = _material_of(application, material_id) if material_id is not None else None
    if application.attachments.count() >= MAX_ATTACHMENTS:
        raise ApplicationError(
            {"file": _("每份申报最多 %(n)s 个附件。") % {"n": MAX_ATTACHMENTS}}, code="too_many"
        )
    try:
        checked = check_upload(upload)
    except ValidationError as error:
        raise ApplicationError({"file": error.messages}, code=error.code) from None
    if material is not None and material.file_types and checked.kind not in material.file_types:
        raise ApplicationError(
            {
                "file": _("“%(material)s”只接受 %(types)s 格式的文件。")
                % {"material": material.name, "types": _("、").join(material.file_type_labels())}
            },
            code="file_type",
        )
    attachment = Attachment(
        material=material,
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
            comment=f"{material.name}：{checked.original_name}" if material else checked.original_name,
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
    decided = _decide(
        application, Action.APPROVE, actor=actor, reason=comment.strip(), amount=application.approved_amount
    )
    _plan_payouts(decided, actor)  # the payout plan from the benefit's schedule
    return decided


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


# ---------------------------------------------------------------- application calls: windows and materials


def _refuse_outside_windows(benefit: Benefit, now: dt.datetime) -> None:
    """A benefit with calls is applied for only while one of their windows is open; the refusal says
    when the windows are (the next one when known). A benefit without a call keeps today's rules."""
    calls = selectors.calls_of([benefit.pk]).get(benefit.pk, [])
    if not calls:
        return
    infos = selectors.windows_of(calls, now)
    if any(info.is_open for info in infos):
        return
    upcoming = [info for info in infos if info.state == "upcoming"]
    if upcoming:
        message = _("“%(name)s”的申报尚未开始：申报时间为 %(period)s，请届时再申报。") % {
            "name": benefit.name,
            "period": upcoming[0].period,
        }
    elif infos:
        message = _("“%(name)s”的申报已截止：申报时间为 %(periods)s，现在不能申报。") % {
            "name": benefit.name,
            "periods": _("；").join(info.period for info in infos),
        }
    else:
        message = _("“%(name)s”的申报通知未载明申报时间，暂不能在线申报。") % {"name": benefit.name}
    raise InvalidTransition(message, code="window_closed")


def _refuse_unreplaced(application: Application) -> None:
    """A material the reviewer marked 需重新提交 needs a file uploaded for it after the mark."""
    waiting = [
        check.material.name
        for check in application.material_checks.filter(verdict=MaterialCheck.Verdict.REPLACE).select_related(
            "material"
        )
        if not application.attachments.filter(material=check.material, uploaded_at__gt=check.at).exists()
    ]
    if waiting:
        raise ApplicationError(
            {
                "attachments": _("审核人员要求重新提交以下材料，请先上传新的文件：%(names)s。")
                % {"names": _("、").join(waiting)}
            },
            code="materials_to_replace",
        )


def _material_of(application: Application, material_id: int) -> CallMaterial:
    material = CallMaterial.objects.filter(pk=material_id, call__benefits=application.benefit_id).first()
    if material is None:
        raise ApplicationError({"material": _("所选材料不属于该项目的申报通知。")}, code="unknown_material")
    return material


@transaction.atomic
def check_material(
    *,
    actor: AbstractBaseUser,
    application_id: int,
    expected_version: int,
    material_id: int,
    verdict: str,
    comment: str = "",
) -> MaterialCheck:
    """A reviewer marks one material of an application under review accepted or to be replaced (the
    enterprise sees the mark; "to be replaced" needs a comment saying why). Audited as an event."""
    application = _begin(
        Action.CHECK_MATERIAL, actor=actor, application_id=application_id, expected_version=expected_version
    )
    if verdict not in MaterialCheck.Verdict.values:
        raise ApplicationError({"verdict": _("请选择“已认可”或“需重新提交”。")}, code="invalid")
    material = _material_of(application, material_id)
    comment = (comment or "").strip()
    if verdict == MaterialCheck.Verdict.REPLACE and not comment:
        raise ApplicationError({"comment": _("请说明该材料需要怎样重新提交。")}, code="required")
    check, _created = MaterialCheck.objects.update_or_create(
        application=application,
        material=material,
        defaults={"verdict": verdict, "comment": comment, "reviewer": actor},
    )
    label = MaterialCheck.Verdict(verdict).label
    _finish(
        application,
        Action.CHECK_MATERIAL,
        actor=actor,
        from_state=application.state,
        comment=f"{material.name}：{label}" + (f"（{comment}）" if comment else ""),
    )
    return check


# ---------------------------------------------------------------- 免申即享: 意愿确认
# Staff ask the enterprises of the auto-grant list; the enterprise confirms or declines in the portal.
# A confirmation becomes an application under review, its evidence the data comparison (the engine's
# reasons on authoritative data and the facts it read) as they stand when the enterprise confirms.


@dataclass
class ConfirmationRequests:
    sent: list[Confirmation]
    skipped: list[tuple[Enterprise, str]]  # an enterprise left out, and why (for people)


@transaction.atomic
def request_confirmations(
    *,
    actor: AbstractBaseUser,
    benefit_id: int,
    enterprise_ids: list[int] | None = None,
    item_ids: list[int] | None = None,
    as_of: dt.date | None = None,
) -> ConfirmationRequests:
    """One 意愿确认 per selected enterprise still on the benefit's 免申即享 list; an enterprise already
    asked (waiting, confirmed or declined) or with an application for the benefit is skipped.

    A benefit paid per item is asked per (enterprise, item) pair: one request per ticked item
    (`item_ids`), or per listed item of each enterprise of `enterprise_ids`; a pair already asked, or
    whose item is applied for or no longer met on register data, is skipped."""
    _check_actor(actor, 0, REVIEWER)
    as_of = as_of or timezone.localdate()
    benefit = _benefit(benefit_id)
    _refuse_out_of_force(benefit, as_of)
    enterprise_ids, item_ids = list(enterprise_ids or []), list(item_ids or [])
    if item_ids and not benefit.per_item:
        raise ApplicationError(
            {"items": _("“%(name)s”按企业享受，不按项目享受：请勾选企业。") % {"name": benefit.name}},
            code="item_not_expected",
        )
    ticked = (
        dict(Item.objects.filter(pk__in=item_ids, kind=benefit.per_item).values_list("pk", "enterprise_id"))
        if item_ids
        else {}
    )
    if not enterprise_ids and not ticked:
        raise ApplicationError({"enterprises": _("请至少选择一家企业。")}, code="required")
    # locking the enterprises serialises two staff sending at once; the unique constraints are the backstop
    chosen = list(
        Enterprise.objects.select_for_update()
        .filter(pk__in={*enterprise_ids, *ticked.values()})
        .order_by("pk")
    )
    asked = {
        (enterprise_id, item_id): state
        for enterprise_id, item_id, state in Confirmation.objects.filter(
            benefit=benefit, enterprise__in=chosen
        ).values_list("enterprise_id", "item_id", "state")
    }
    pending = chosen if benefit.per_item else [e for e in chosen if (e.pk, None) not in asked]
    listed = {
        row.enterprise.pk: row
        for row in selectors.auto_grant_list(
            benefit, as_of, Enterprise.objects.filter(pk__in=[e.pk for e in pending])
        ).rows
    }
    result = ConfirmationRequests([], [])
    for enterprise in chosen:
        row = listed.get(enterprise.pk)
        if not benefit.per_item:
            if (enterprise.pk, None) in asked:
                state = Confirmation.State(asked[enterprise.pk, None])
                result.skipped.append(
                    (enterprise, _("已发起过意愿确认（%(state)s），不再重复发送") % {"state": state.label})
                )
            elif row is None:
                result.skipped.append((enterprise, _("已不在免申即享名单中（已申报或权威数据不再满足条件）")))
            else:
                result.sent.append(_ask(actor, benefit, enterprise, row.verdict.amount.value))
            continue
        entries = {entry.item_id: entry for entry in (row.items if row else ())}
        wanted = [pk for pk, owner in ticked.items() if owner == enterprise.pk]
        if enterprise.pk in enterprise_ids:
            wanted += [pk for pk in entries if pk not in wanted]
        if not wanted:
            result.skipped.append((enterprise, _("已不在免申即享名单中（已申报或权威数据不再满足条件）")))
        titles = dict(Item.objects.filter(pk__in=wanted).values_list("pk", "title"))
        for item_id in sorted(wanted):
            if (enterprise.pk, item_id) in asked:
                state = Confirmation.State(asked[enterprise.pk, item_id])
                why = _("“%(item)s”已发起过意愿确认（%(state)s），不再重复发送")
                result.skipped.append((enterprise, why % {"item": titles[item_id], "state": state.label}))
            elif item_id not in entries:
                why = _("“%(item)s”已不在免申即享名单中（已申报或权威数据不再满足条件）")
                result.skipped.append((enterprise, why % {"item": titles[item_id]}))
            else:
                entry = entries[item_id]
                result.sent.append(
                    _ask(actor, benefit, enterprise, entry.verdict.amount.value, item_id=item_id)
                )
    return result


def _ask(
    actor: AbstractBaseUser,
    benefit: Benefit,
    enterprise: Enterprise,
    estimate: Decimal | None,
    *,
    item_id: int | None = None,
) -> Confirmation:
    confirmation = Confirmation(
        enterprise=enterprise,
        benefit=benefit,
        item_id=item_id,
        estimated_amount=estimate,
        requested_by=actor,
    )
    confirmation._history_user = actor
    confirmation.full_clean(validate_constraints=False)
    confirmation.save()
    title = confirmation.item.title if item_id is not None else ""
    notifications.notify(
        enterprise_id=enterprise.pk,
        kind="application.confirmation_requested",
        message=(
            gettext_noop("“%(benefit)s”（%(item)s）可免申即享：请确认是否享受该政策。")
            if item_id is not None
            else gettext_noop("“%(benefit)s”可免申即享：请确认是否享受该政策。")
        ),
        params={"benefit": benefit.name, **({"item": title} if item_id is not None else {})},
        url=reverse("applications:confirmation", args=[confirmation.pk]),
        data={
            "confirmation": confirmation.pk,
            "benefit": benefit.global_key,
            "item": item_id,
            "state": confirmation.state,
        },
    )
    return confirmation


def _begin_confirmation(
    *, actor: AbstractBaseUser, confirmation_id: int, expected_version: int
) -> Confirmation:
    confirmation = (
        Confirmation.objects.select_for_update(of=("self",))
        .select_related("benefit", "item")
        .get(pk=confirmation_id)
    )
    _check_actor(actor, confirmation.enterprise_id, ENTERPRISE)
    if confirmation.state != Confirmation.State.REQUESTED:
        raise DuplicateApplication(
            _("贵企业已就“%(benefit)s”作出答复（%(state)s），无需重复操作。")
            % {"benefit": _named(confirmation), "state": confirmation.get_state_display()},
            code="duplicate",
        )
    if confirmation.version != expected_version:
        raise StaleVersion(
            _("该意愿确认已被他人修改，您的操作未保存。请刷新页面查看最新内容后再操作。"), code="stale"
        )
    return confirmation


@transaction.atomic
def confirm_grant(
    *, actor: AbstractBaseUser, confirmation_id: int, expected_version: int, as_of: dt.date | None = None
) -> Application:
    """The enterprise wants the benefit: an application under review (the state reviewers decide from),
    its evidence the data comparison on authoritative data as it stands now."""
    confirmation = _begin_confirmation(
        actor=actor, confirmation_id=confirmation_id, expected_version=expected_version
    )
    as_of = as_of or timezone.localdate()
    benefit = _benefit(confirmation.benefit_id)
    _refuse_out_of_force(benefit, as_of)
    enterprise = Enterprise.objects.select_for_update().get(pk=confirmation.enterprise_id)
    item = confirmation.item
    _refuse_duplicate(enterprise, benefit, item)
    rows = selectors.auto_grant_list(benefit, as_of, Enterprise.objects.filter(pk=enterprise.pk)).rows
    # a per-item request is re-checked on that item's own result: another item meeting is not enough
    met = [entry.verdict for row in rows for entry in row.items if entry.item_id == item.pk] if item else rows
    if not met:
        raise InvalidTransition(
            _(
                "按最新的权威数据，贵企业已不满足“%(benefit)s”的全部条件，不能免申即享；如有疑问请通过常规申报办理。"
            )
            % {"benefit": _named(confirmation)},
            code="no_longer_met",
        )
    verdict = met[0] if item else rows[0].verdict
    catalog = matching_selectors.catalog()
    sheet = facts_for(enterprise, as_of, catalog=catalog)
    amount = verdict.amount.value
    ceiling = approval_ceiling(benefit)
    if amount is not None:
        amount = min(amount.quantize(CENT), ceiling) if ceiling is not None else amount.quantize(CENT)
    now = timezone.now()
    application = Application(
        enterprise=enterprise,
        benefit=benefit,
        item=item,
        state=State.UNDER_REVIEW,
        requested_amount=amount if amount and benefit.kind != Benefit.Kind.NON_MONETARY else None,
        project_summary=_("免申即享：企业于 %(date)s 在线确认享受。")
        % {"date": timezone.localdate(now).isoformat()},
        explanation_snapshot=explanations.snapshot_of(verdict),
        facts_snapshot=explanations.facts_snapshot(enterprise, sheet, verdict, catalog),
        created_by=actor,
        submitted_at=now,
        last_submitted_at=now,
    )
    application._history_user = actor
    application.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        # An application for the benefit (or this item) was made between our check and our insert.
        _refuse_duplicate(enterprise, benefit, item)
        raise
    _record(application, Action.CONFIRM, actor=actor, from_state="", amount=application.requested_amount)
    notifications.notify(
        enterprise_id=enterprise.pk,
        kind="application.confirmed",
        message=gettext_noop("已确认享受“%(benefit)s”（免申即享），形成申报 %(ref)s，等待审核。"),
        params={"benefit": _named(confirmation), "ref": application.reference},
        url=reverse("applications:detail", args=[application.pk]),
        data={"id": application.pk, "reference": application.reference, "state": application.state},
    )
    confirmation.state = Confirmation.State.CONFIRMED
    confirmation.application = application
    _answered(confirmation, actor, now)
    return application


@transaction.atomic
def decline_grant(
    *, actor: AbstractBaseUser, confirmation_id: int, expected_version: int, reason: str = ""
) -> Confirmation:
    """The enterprise does not want the benefit: recorded, and it is not asked again for it (for a
    per-item request: for that item only; its other items may still be asked)."""
    confirmation = _begin_confirmation(
        actor=actor, confirmation_id=confirmation_id, expected_version=expected_version
    )
    confirmation.state = Confirmation.State.DECLINED
    confirmation.decline_reason = (reason or "").strip()
    return _answered(confirmation, actor, timezone.now())


def _named(confirmation: Confirmation) -> str:
    """The benefit's name, and for a per-item request the item's title: 技术改造项目补贴（一号产线改造）."""
    if confirmation.item_id is None:
        return confirmation.benefit.name
    return f"{confirmation.benefit.name}（{confirmation.item.title}）"


def _answered(confirmation: Confirmation, actor: AbstractBaseUser, now: dt.datetime) -> Confirmation:
    confirmation.responded_by = actor
    confirmation.responded_at = now
    confirmation.version += 1
    confirmation._history_user = actor
    confirmation.full_clean(validate_constraints=False)
    confirmation.save()
    return confirmation


# ---------------------------------------------------------------- payouts


@dataclass(frozen=True)
class PlannedStage:
    condition: str  # the text's words for when it is paid (验收通过后); blank for a yearly part
    share: Decimal
    amount: Decimal


def payout_plan(benefit: Benefit, amount: Decimal) -> list[PlannedStage]:
    """The approved amount split by the benefit's schedule: its stages, its shares by year, its yearly
    factors, or its instalments (分三年); without any, one stage of the whole amount. Each part is
    rounded to the fen and the last takes the remainder, so the parts add up to the amount exactly."""
    rule = amount_rules.parse(benefit.amount_rule or None)
    schedule = rule.schedule if rule is not None else None
    parts: list[tuple[str, Decimal]]
    if schedule is not None and schedule.stages:
        parts = [(stage.after, stage.share) for stage in schedule.stages]
    elif schedule is not None and schedule.shares:
        parts = [("", share) for share in schedule.shares]
    elif schedule is not None and schedule.years:
        factors = schedule.year_factors or (Decimal(1),) * schedule.years
        total = sum(factors, Decimal(0))
        parts = [("", factor / total) for factor in factors] if total else [("", Decimal(1))]
    elif benefit.instalments and benefit.instalments > 1:
        parts = [("", Decimal(1) / benefit.instalments)] * benefit.instalments
    else:
        parts = [("", Decimal(1))]
    planned, left = [], amount
    for index, (condition, share) in enumerate(parts):
        part = left if index == len(parts) - 1 else (amount * share).quantize(CENT)
        left -= part
        planned.append(PlannedStage(condition[:200], share.quantize(Decimal("0.000001")), part))
    return planned


def _plan_payouts(application: Application, actor: AbstractBaseUser) -> None:
    """Called on approval: the payout plan of the approved amount (nothing for a non-monetary benefit)."""
    if application.approved_amount is None or application.payout_stages.exists():
        return
    for order, planned in enumerate(payout_plan(application.benefit, application.approved_amount), start=1):
        stage = PayoutStage(
            application=application,
            order=order,
            condition=planned.condition,
            share=planned.share,
            amount=planned.amount,
        )
        stage._history_user = actor
        stage.save()


def can_record_payouts(user: AbstractBaseUser) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(PAYOUT_PERMISSION)


@transaction.atomic
def record_payout_stage(
    *,
    actor: AbstractBaseUser,
    stage_id: int,
    expected_version: int,
    publicised_on: dt.date | None,
    payment_order: str,
    paid_on: dt.date | None,
) -> PayoutStage:
    """Staff record a stage's 公示 date, payment order and 到账 date. A paid stage is final; 到账 needs
    the 公示 date and the payment order, never precedes 公示, never lies in the future, and follows the
    stages before it. The enterprise is told when a stage is paid (application.payout_paid)."""
    if not can_record_payouts(actor):
        raise PermissionDenied(_("您没有登记拨付的权限。"))
    stage = PayoutStage.objects.select_for_update().get(pk=stage_id)
    application = (
        Application.objects.select_for_update().select_related("benefit").get(pk=stage.application_id)
    )
    label = _("第 %(n)s 期") % {"n": stage.order}
    if stage.paid:
        raise DuplicateApplication(
            _("申报 %(ref)s 的%(stage)s已于 %(date)s 登记到账，请勿重复登记。")
            % {"ref": application.reference, "stage": label, "date": stage.paid_on.isoformat()},
            code="duplicate",
        )
    if stage.version != expected_version:
        raise StaleVersion(
            _("申报 %(ref)s 的%(stage)s已被他人修改，您的登记未保存。请刷新页面查看最新内容后再操作。")
            % {"ref": application.reference, "stage": label},
            code="stale",
        )
    if application.state != State.APPROVED:
        raise InvalidTransition(
            _("申报 %(ref)s 当前状态为“%(state)s”，不能登记拨付。")
            % {"ref": application.reference, "state": application.get_state_display()},
            code="invalid_transition",
        )
    today = timezone.localdate()
    payment_order = (payment_order or "").strip()
    errors: dict[str, str] = {}
    for field, value in (("publicised_on", publicised_on), ("paid_on", paid_on)):
        if value is not None and value > today:
            errors[field] = _("日期不能晚于今天。")
    if paid_on is not None:
        if publicised_on is None:
            errors["publicised_on"] = _("登记到账前，请先填写公示日期。")
        elif paid_on < publicised_on:
            errors["paid_on"] = _("到账日期不能早于公示日期。")
        if not payment_order:
            errors["payment_order"] = _("登记到账前，请填写支付凭证号。")
        earlier = application.payout_stages.filter(order__lt=stage.order, paid_on__isnull=True).first()
        if earlier is not None:
            errors["paid_on"] = _("请先登记第 %(n)s 期到账。") % {"n": earlier.order}
    if errors:
        raise ApplicationError(errors, code="invalid")
    stage.publicised_on, stage.payment_order, stage.paid_on = publicised_on, payment_order, paid_on
    stage.version += 1
    stage._history_user = actor
    stage.full_clean()
    stage.save()
    words = [label]
    if publicised_on:
        words.append(_("公示 %(date)s") % {"date": publicised_on.isoformat()})
    if payment_order:
        words.append(_("支付凭证 %(no)s") % {"no": payment_order})
    if paid_on:
        words.append(_("到账 %(date)s") % {"date": paid_on.isoformat()})
    _record(
        application,
        Action.PAYOUT,
        actor=actor,
        from_state=application.state,
        comment="，".join(words),
        amount=stage.amount,
    )
    if paid_on is not None:
        notifications.notify(
            enterprise_id=application.enterprise_id,
            kind="application.payout_paid",
            message=gettext_noop(
                "申报 %(ref)s（%(benefit)s）第 %(n)s 期拨付 %(amount_yuan)s 已于 %(date)s 到账。"
            ),
            params={
                "ref": application.reference,
                "benefit": application.benefit.name,
                "n": stage.order,
                "amount_yuan": str(stage.amount),
                "date": paid_on.isoformat(),
            },
            url=reverse("applications:detail", args=[application.pk]) + "#payouts",
            data={
                "id": application.pk,
                "reference": application.reference,
                "stage": stage.order,
                "amount": str(stage.amount),
                "paid_on": paid_on.isoformat(),
            },
        )
    return stage
