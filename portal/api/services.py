"""Writes of the API layer: issuing and revoking API keys, storing replies to idempotent POSTs."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser as User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import ApiKey, IdempotencyRecord

KEY_SEPARATOR = "."
PREFIX_BYTES = 6  # 8 url-safe characters: public, used to find the row
SECRET_BYTES = 32  # 256 random bits: only their hash is stored
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)  # at most one write per key per minute
IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)


def hash_secret(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


@transaction.atomic
def issue_api_key(
    *,
    name: str,
    scopes: Iterable[str],
    created_by: User | None,
    user: User | None = None,
    enterprise_ids: Iterable[int] = (),
    rate_limit: str = "",
) -> tuple[ApiKey, str]:
    """Create a key; returns the row and the full key, which is shown once and never stored. An
    enterprise not yet verified by staff (a self-registration) gets none: ValidationError."""
    enterprise_ids = list(enterprise_ids)
    refuse_unverified(user, enterprise_ids)
    prefix = secrets.token_urlsafe(PREFIX_BYTES)
    while ApiKey.objects.filter(prefix=prefix).exists():  # 48 bits: practically never
        prefix = secrets.token_urlsafe(PREFIX_BYTES)
    raw_key = f"{prefix}{KEY_SEPARATOR}{secrets.token_urlsafe(SECRET_BYTES)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(raw_key),
        scopes=sorted(set(scopes)),
        user=user,
        rate_limit=rate_limit,
        created_by=created_by,
    )
    key.full_clean()
    if created_by is not None:
        key._history_user = created_by
    key.save()
    key.enterprises.set(list(enterprise_ids))
    return key, raw_key


def refuse_unverified(user: User | None, enterprise_ids: list[int]) -> None:
    from enterprises.models import Enterprise, EnterpriseMembership

    unverified = Enterprise.objects.exclude(verification=Enterprise.Verification.VERIFIED)
    if (
        user is not None
        and EnterpriseMembership.objects.filter(user=user, enterprise__in=unverified).exists()
    ) or unverified.filter(pk__in=enterprise_ids).exists():
        raise ValidationError(
            _("该企业的登记尚待工作人员核实，核实通过前不能发放 API 密钥。"), code="unverified"
        )


@transaction.atomic
def revoke_api_key(*, key_id: int, actor: User | None) -> ApiKey:
    """Revoke a key at once (idempotent: a revoked key keeps its first revocation time)."""
    key = ApiKey.objects.select_for_update().get(pk=key_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        if actor is not None:
            key._history_user = actor
        key.save(update_fields=["revoked_at"])
    return key


def touch_last_used(key: ApiKey) -> bool:
    """Record use, at most once a minute per key (a write per request would be wasteful); True if written."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        record_use(key_id=key.pk, at=now)
        key.last_used_at = now
        return True
    return False


def record_use(*, key_id: int, at: dt.datetime) -> None:
    """The key's last use (not in its history; it moves no ContentGeneration counter: not what decides access)."""
    ApiKey.objects.filter(pk=key_id).update(last_used_at=at)


def store_idempotent_reply(
    *, client: str, key: str, request_hash: str, status: int, body: object, location: str = ""
) -> IdempotencyRecord:
    """Called inside the transaction that created the resource, so the two commit together. Replies
    past the 24-hour window are deleted on the way (an indexed delete), so the table stays small
    without a scheduled job, and an expired key can be used again."""
    purge_idempotency_records()
    return IdempotencyRecord.objects.create(
        client=client,
        key=key,
        request_hash=request_hash,
        response_status=status,
        response_body=body,
        response_location=location,
    )


def purge_idempotency_records() -> int:
    """Delete replies older than the 24-hour window; returns how many."""
    return IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_WINDOW).delete()[0]
