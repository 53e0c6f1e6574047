"""Reads of the API layer: finding a key from the Authorization header, finding a stored reply."""

from __future__ import annotations

import hmac

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from portal.api.services import IDEMPOTENCY_WINDOW, KEY_SEPARATOR, hash_secret
from portal.models import ApiKey, IdempotencyRecord

# A found key (with its user and enterprises) is kept in the cache for a few seconds, by its public
# prefix: looking it up was two of a small request's five queries. The secret is still checked on
# every request. Saving or deleting a key, its enterprises or its user forgets it at once in every
# process sharing the cache (Redis in production: a revocation in the admin stops the key on the next
# request); a bulk `.update()` that sends no signal takes effect within KEY_CACHE_SECONDS.
KEY_CACHE_SECONDS = 10


def _cache_key(prefix: str) -> str:
    return f"api:key:{prefix}"


def active_key(raw_key: str) -> ApiKey | None:
    """The unrevoked key whose prefix and secret match `raw_key`, or None. `from_cache` is set on it
    when it came from the cache (see remember_key)."""
    prefix, separator, secret = raw_key.partition(KEY_SEPARATOR)
    if not separator or not prefix or not secret:
        return None
    key = cache.get(_cache_key(prefix))
    if key is not None:
        key.from_cache = True
    else:
        key = _look_up(prefix)
        if key is None:
            return None
        key.from_cache = False
    if not hmac.compare_digest(key.secret_hash, hash_secret(raw_key)):
        return None
    return key


def remember_key(key: ApiKey) -> None:
    """Keep a found key for the next requests (after its use was recorded: the copy is what they see)."""
    cache.set(_cache_key(key.prefix), key, KEY_CACHE_SECONDS)


def _look_up(prefix: str) -> ApiKey | None:
    key = (
        ApiKey.objects.select_related("user")
        .prefetch_related("enterprises")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or (key.user is not None and not key.user.is_active):
        return None
    return key


def _forget_key(sender, instance, **kwargs) -> None:
    cache.delete(_cache_key(instance.prefix))


def _forget_keys_of_user(sender, instance, **kwargs) -> None:
    prefixes = ApiKey.objects.filter(user_id=instance.pk).values_list("prefix", flat=True)
    cache.delete_many([_cache_key(prefix) for prefix in prefixes])


def _forget_key_enterprises(sender, instance, reverse, pk_set, **kwargs) -> None:
    if not reverse:  # the key's list of enterprises changed
        cache.delete(_cache_key(instance.prefix))
        return
    keys = ApiKey.objects.filter(enterprises=instance)  # an enterprise's keys (cleared: pk_set is None)
    if pk_set:
        keys = ApiKey.objects.filter(pk__in=pk_set)
    cache.delete_many([_cache_key(prefix) for prefix in keys.values_list("prefix", flat=True)])


post_save.connect(_forget_key, sender=ApiKey, dispatch_uid="api-key-cache-save")
post_delete.connect(_forget_key, sender=ApiKey, dispatch_uid="api-key-cache-delete")
m2m_changed.connect(
    _forget_key_enterprises, sender=ApiKey.enterprises.through, dispatch_uid="api-key-cache-m2m"
)
post_save.connect(_forget_keys_of_user, sender=get_user_model(), dispatch_uid="api-key-cache-user")


def idempotent_reply(*, client: str, key: str) -> IdempotencyRecord | None:
    """The reply stored for this client and key within the last 24 hours."""
    return IdempotencyRecord.objects.filter(
        client=client, key=key, created_at__gte=timezone.now() - IDEMPOTENCY_WINDOW
    ).first()
