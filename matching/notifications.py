"""The change feed going out: webhook deliveries (signed per Standard Webhooks, with secret rotation:
matching/webhook_signing.py; retried with backoff) and
e-mails to the enterprise users who asked for them. The portal page reads MatchChange directly.

`dispatch_changes` takes the changes not yet dispatched (oldest first, skipping rows another
dispatcher holds), creates the deliveries and marks the changes in one transaction; the HTTP
calls and e-mails happen after commit, one task per delivery.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from enterprises.models import EnterpriseMembership
from matching import outbound, webhook_signing
from matching.models import (
    MatchChange,
    MatchStatus,
    Notice,
    NotificationPreference,
    WebhookDelivery,
    WebhookSubscription,
)
from policies import money
from policies.aftercommit import TaskAfterCommit, after_commit_once, send

logger = logging.getLogger(__name__)

# Tasks of tasks.py, enqueued by name (tasks.py imports this module).
DELIVER_WEBHOOK = "matching.deliver_webhook"
DISPATCH_CHANGES = TaskAfterCommit("matching.dispatch_changes")


def changes_recorded() -> None:
    """Results changed in this transaction: notify (portal, e-mail, webhooks) after commit."""
    after_commit_once(DISPATCH_CHANGES)


DISPATCH_BATCH = 2000  # changes per dispatch transaction
CHANGES_PER_DELIVERY = 100
MAX_ATTEMPTS = 10
MET = {MatchStatus.ELIGIBLE, MatchStatus.PENDING_RECOGNITION}


def retry_delay(attempts: int) -> int:
    """Seconds before attempt `attempts` + 1: 2, 4, 8, … up to 30 minutes."""
    return min(2**attempts, 1800)


# ---------------------------------------------------------------- wording (portal page and e-mail)


def wan(amount: Decimal | None) -> str:
    """policies.money.wan (万元 in Chinese, yuan in English); — when there is no figure."""
    if amount is None:
        return "—"
    return money.wan(amount)


def describe(change: MatchChange) -> tuple[str, str]:
    """(kind, sentence): "gained" 新符合…, "lost" 不再符合…, "amount" 金额变化…, or "status"."""
    name = change.benefit.name
    new_label = MatchStatus(change.new_status).label
    if change.new_status in MET and change.old_status not in MET:
        return "gained", _("新符合：%(name)s（%(status)s，预估 %(amount)s）") % {
            "name": name,
            "status": new_label,
            "amount": wan(change.new_amount),
        }
    if change.old_status in MET and change.new_status not in MET:
        return "lost", _("不再符合：%(name)s（现为%(status)s）") % {"name": name, "status": new_label}
    if change.old_status == change.new_status:
        return "amount", _("金额变化：%(name)s %(old)s → %(new)s") % {
            "name": name,
            "old": wan(change.old_amount),
            "new": wan(change.new_amount),
        }
    return "status", _("结论变化：%(name)s %(old)s → %(new)s") % {
        "name": name,
        "old": MatchStatus(change.old_status).label,
        "new": new_label,
    }


# ---------------------------------------------------------------- dispatch


@dataclass
class Dispatched:
    changes: int = 0
    deliveries: int = 0
    emails: int = 0
    more: bool = False


def dispatch_changes(*, batch: int = DISPATCH_BATCH) -> Dispatched:
    result = Dispatched()
    with transaction.atomic():
        changes = list(
            MatchChange.objects.filter(dispatched=False)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("benefit__clause__document", "enterprise")
            .order_by("pk")[:batch]
        )
        if not changes:
            return result
        deliveries = _create_deliveries(changes)
        emails = _emails(changes)
        MatchChange.objects.filter(pk__in=[change.pk for change in changes]).update(dispatched=True)
        result.changes, result.deliveries, result.emails = len(changes), len(deliveries), len(emails)
        transaction.on_commit(lambda: _send_after_commit(deliveries, emails), robust=True)
    result.more = MatchChange.objects.filter(dispatched=False).exists()
    return result


def change_payloads(changes: list[MatchChange]) -> list[dict]:
    """Each change as the API's change feed shows it (GET /api/v1/changes/{id}/): the one output
    definition of a change lives with the API (settings.MATCHING_CHANGE_ITEMS names it, so that this
    app imports nothing of the portal's)."""
    return import_string(settings.MATCHING_CHANGE_ITEMS)(changes)


def _create_deliveries(changes: list[MatchChange]) -> list[int]:
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    if not subscriptions:
        return []
    payloads = change_payloads(changes)
    rows = []
    for subscription in subscriptions:
        wanted = [
            payload
            for change, payload in zip(changes, payloads, strict=True)
            if subscription.enterprise_id in (None, change.enterprise_id)
        ]
        for start in range(0, len(wanted), CHANGES_PER_DELIVERY):
            part = wanted[start : start + CHANGES_PER_DELIVERY]
            rows.append(
                WebhookDelivery(
                    subscription=subscription,
                    payload={"event": "match.changed", "changes": part},
                    change_count=len(part),
                )
            )
    return [delivery.pk for delivery in WebhookDelivery.objects.bulk_create(rows)]


def _emails(changes: list[MatchChange]) -> list[tuple[str, str, list[str]]]:
    """(subject, body, recipients) per enterprise with users who want e-mail, in the portal's default
    language (Chinese): the reader is not known here, and the dispatcher may run inside someone's
    English request."""
    with translation.override(settings.LANGUAGE_CODE):
        return _emails_in_active_language(changes)


def _emails_in_active_language(changes: list[MatchChange]) -> list[tuple[str, str, list[str]]]:
    by_enterprise: dict[int, list[MatchChange]] = defaultdict(list)
    for change in changes:
        by_enterprise[change.enterprise_id].append(change)
    wanted = Q(user__match_notifications__email_enabled=True)
    if getattr(settings, "MATCHING_EMAIL_NOTIFICATIONS", False):
        wanted |= Q(user__match_notifications__isnull=True)  # on for everyone who did not opt out
    recipients: dict[int, list[str]] = defaultdict(list)
    for enterprise_id, email in (
        EnterpriseMembership.objects.filter(wanted, enterprise_id__in=list(by_enterprise))
        .exclude(user__email="")
        .filter(user__is_active=True)
        .values_list("enterprise_id", "user__email")
    ):
        recipients[enterprise_id].append(email)
    emails = []
    for enterprise_id, to in recipients.items():
        items = by_enterprise[enterprise_id]
        subject = _("【政策匹配】%(name)s 的匹配结果有 %(n)s 项变化") % {
            "name": items[0].enterprise.name,
            "n": len(items),
        }
        lines = [describe(change)[1] for change in items[:50]]
        if len(items) > 50:
            lines.append(_("……另有 %(n)s 项，请登录平台查看。") % {"n": len(items) - 50})
        emails.append((subject, "\n".join(lines), to))
    return emails


def _send_after_commit(deliveries: list[int], emails: list[tuple[str, str, list[str]]]) -> None:
    for subject, body, to in emails:
        try:
            send_mail(subject, body, None, to)
        except Exception:  # noqa: BLE001 - a mail server problem must not stop the webhooks
            logger.exception("could not send a change notification to %s", to)
    for pk in deliveries:
        try:
            send(DELIVER_WEBHOOK, [pk])
        except Exception:  # the delivery stays pending: the sweep (jobs.tick) resends it
            logger.exception("could not enqueue webhook delivery %s", pk)


# ---------------------------------------------------------------- webhooks


@transaction.atomic
def subscribe_webhook(
    *, name: str, url: str, secret: str = "", enterprise_id: int | None = None
) -> WebhookSubscription:
    """Register an endpoint (http or https only); without a secret (whsec_<base64>) one is generated
    (shown once)."""
    subscription = WebhookSubscription(
        name=name, url=url, secret=secret or webhook_signing.new_secret(), enterprise_id=enterprise_id
    )
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def rotate_webhook_secret(*, subscription_id: int) -> WebhookSubscription:
    """A new secret for the subscription (returned once, on the row). For WEBHOOK_SECRET_GRACE seconds
    deliveries are signed with the new and the previous secret, so the receiver can switch without
    missing one; a second rotation within the grace period drops the oldest."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    grace = dt.timedelta(seconds=int(getattr(settings, "WEBHOOK_SECRET_GRACE", 24 * 3600)))
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_expires_at = timezone.now() + grace
    subscription.secret = webhook_signing.new_secret()
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return subscription


def secrets_in_force(subscription: WebhookSubscription) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one in its grace."""
    in_force = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and timezone.now() < expires:
        in_force.append(subscription.previous_secret)
    return in_force


def message_id(delivery: WebhookDelivery) -> str:
    """The webhook-id: one per delivery, the same on its retries."""
    return f"msg_{delivery.pk}"


UNSUBSCRIBED = "unsubscribed"


@transaction.atomic
def unsubscribe_webhook(*, subscription_id: int) -> WebhookSubscription:
    """Stop a subscription: nothing more is delivered to it, pending deliveries are given up. The row
    and its delivery log are kept (an audit of what was sent) and stay visible in admin."""
    subscription = WebhookSubscription.objects.select_for_update().get(pk=subscription_id)
    if subscription.active:
        subscription.active = False
        subscription.save(update_fields=["active"])
    subscription.deliveries.filter(state=WebhookDelivery.State.PENDING).update(
        state=WebhookDelivery.State.FAILED, last_error=UNSUBSCRIBED
    )
    return subscription


STALLED_AFTER = dt.timedelta(minutes=5)


def resend_stalled() -> int:
    """Re-enqueue pending deliveries whose next attempt is overdue by STALLED_AFTER (their task was
    lost: a broker restart, a dispatch that died after commit). Called by the periodic sweep."""
    now = timezone.now()
    stalled = [
        delivery.pk
        for delivery in WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).only(
            "pk", "attempts", "created_at", "last_attempt_at"
        )
        if (delivery.last_attempt_at or delivery.created_at)
        + dt.timedelta(seconds=retry_delay(delivery.attempts) if delivery.attempts else 0)
        + STALLED_AFTER
        < now
    ]
    for pk in stalled:
        send(DELIVER_WEBHOOK, [pk])
    return len(stalled)


@dataclass
class Attempt:
    delivered: bool
    retry_in: int | None  # seconds until the next attempt; None: no more attempts


def deliver_webhook(*, delivery_id: int) -> Attempt:
    """One attempt to POST a delivery. Success is a 2xx answer within the timeout."""
    delivery = WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_id).first()
    if delivery is None or delivery.state != WebhookDelivery.State.PENDING:
        return Attempt(delivered=delivery is not None and delivery.state == "succeeded", retry_in=None)
    if not delivery.subscription.active:  # made by a dispatch that read the subscription before it ended
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            state=WebhookDelivery.State.FAILED, last_error=UNSUBSCRIBED
        )
        return Attempt(delivered=False, retry_in=None)
    body = json.dumps(
        {**delivery.payload, "delivery": delivery.pk}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "policy-portal-webhooks/1",
        "X-Portal-Event": delivery.event,
        "X-Portal-Delivery": str(delivery.pk),
        **webhook_signing.headers(
            secrets_in_force(delivery.subscription), msg_id=message_id(delivery), body=body
        ),
    }
    status, error = None, ""
    try:
        # resolved and checked again now, connected to the checked address, no redirects (outbound.py)
        status = outbound.post(delivery.subscription.url, body=body, headers=headers)
    except outbound.UnsafeDestination as exc:
        error = f"refused: {exc}"[:1000]
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:1000]
    delivered = status is not None and 200 <= status < 300
    if status is not None and not delivered:
        error = f"HTTP {status}"
    attempts = delivery.attempts + 1
    if delivered:
        state = WebhookDelivery.State.SUCCEEDED
    elif attempts >= MAX_ATTEMPTS:
        state = WebhookDelivery.State.FAILED
    else:
        state = WebhookDelivery.State.PENDING
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        state=state,
        last_status_code=status,
        last_error=error if not delivered else "",
        last_attempt_at=now,
        delivered_at=now if delivered else None,
    )
    return Attempt(delivered=delivered, retry_in=retry_delay(attempts) if state == "pending" else None)


# ---------------------------------------------------------------- the enterprise user's side


@transaction.atomic
def set_email_preference(*, user, enabled: bool) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.get_or_create(user=user)
    preference.email_enabled = enabled
    preference.full_clean()
    preference.save(update_fields=["email_enabled"])
    return preference


@transaction.atomic
def mark_seen(*, user, last_change_id: int = 0, last_notice_id: int = 0) -> None:
    preference, _created = NotificationPreference.objects.get_or_create(user=user)
    changed = []
    if last_change_id > preference.last_seen_change_id:
        preference.last_seen_change_id = last_change_id
        changed.append("last_seen_change_id")
    if last_notice_id > preference.last_seen_notice_id:
        preference.last_seen_notice_id = last_notice_id
        changed.append("last_seen_notice_id")
    if changed:
        preference.save(update_fields=changed)


# ---------------------------------------------------------------- notices (an enterprise's own objects)


def notify(
    *, enterprise_id: int, kind: str, message: str, params: dict | None = None, url: str = "", data=None
) -> Notice:
    """A notice to the enterprise: on its notifications page (unread badge), by e-mail to its users who
    opted in, and as a webhook event `kind` (e.g. application.returned) to the subscriptions covering it.
    Call inside the writing transaction: nothing goes out unless it commits. `message` is a Chinese
    msgid marked with gettext_noop; `data` is the webhook payload's object (JSON)."""
    notice = Notice.objects.create(
        enterprise_id=enterprise_id, kind=kind, message=message, params=params or {}, url=url
    )
    subscriptions = WebhookSubscription.objects.filter(active=True).filter(
        Q(enterprise__isnull=True) | Q(enterprise_id=enterprise_id)
    )
    payload = {
        "event": kind,
        "enterprise": enterprise_id,
        "notice": notice.pk,
        "at": timezone.now().isoformat(),
        "object": data or {},
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription=subscription, event=kind, payload=payload, change_count=0)
            for subscription in subscriptions
        ]
    )
    emails = []
    to = _notice_recipients(enterprise_id)
    if to:
        with translation.override(settings.LANGUAGE_CODE):  # the language of record, as for changes
            emails.append(
                (_("【政策匹配】%(text)s") % {"text": notice_text(notice)}, _notice_body(notice), to)
            )
    transaction.on_commit(lambda: _send_after_commit([d.pk for d in deliveries], emails))
    return notice


def _notice_recipients(enterprise_id: int) -> list[str]:
    wanted = Q(user__match_notifications__email_enabled=True)
    if getattr(settings, "MATCHING_EMAIL_NOTIFICATIONS", False):
        wanted |= Q(user__match_notifications__isnull=True)
    return list(
        EnterpriseMembership.objects.filter(wanted, enterprise_id=enterprise_id, user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )


def _notice_body(notice: Notice) -> str:
    text = notice_text(notice)
    return text + ("\n" + _("详情请登录平台查看：%(url)s") % {"url": notice.url} if notice.url else "")


def notice_text(notice: Notice) -> str:
    """The notice in the active language (money params, *_yuan, in 万元 / yuan)."""
    params = {
        name: (wan(Decimal(value)) if name.endswith("_yuan") and value not in (None, "") else value)
        for name, value in notice.params.items()
    }
    try:
        return _(notice.message) % params
    except (KeyError, TypeError, ValueError):  # a message edited since: never a broken page
        return _(notice.message)
