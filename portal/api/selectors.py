"""Reads of the API layer: finding a key from the Authorization header, finding a stored reply."""

from __future__ import annotations

import hmac

from django.utils import timezone

from portal.api.services import IDEMPOTENCY_WINDOW, KEY_SEPARATOR, hash_secret
from portal.models import ApiKey, IdempotencyRecord


def active_key(raw_key: str) -> ApiKey | None:
    """The unrevoked key whose prefix and secret match `raw_key`, or None."""
    prefix, separator, secret = raw_key.partition(KEY_SEPARATOR)
    if not separator or not prefix or not secret:
        return None
    key = (
        ApiKey.objects.select_related("user")
        .prefetch_related("enterprises")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.secret_hash, hash_secret(raw_key)):
        return None
    if key.user is not None and not key.user.is_active:
        return None
    return key


def idempotent_reply(*, client: str, key: str) -> IdempotencyRecord | None:
    """The reply stored for this client and key within the last 24 hours."""
    return IdempotencyRecord.objects.filter(
        client=client, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_WINDOW
    ).first()
