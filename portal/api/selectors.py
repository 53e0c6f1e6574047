"""Reads of the API layer: finding a key from the Authorization header, finding a stored reply, the
change record's counters (what HTTP validators are made of)."""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from policies import generations
from portal.api.services import IDEMPOTENCY_WINDOW, KEY_SEPARATOR, hash_secret
from portal.models import ApiKey, IdempotencyRecord

# A found key is kept in the cache for a few seconds, by its public prefix, as plain values (ids,
# scopes, its secret's hash, its rate; never a model instance, so never its user's password hash).
# Every request still checks the secret, and re-reads the user (active?) and the key's
# ContentGeneration counter (policies/generations.py: a PostgreSQL trigger on portal's key tables bumps
# it on every change of the
# key's secret, scopes, rate, user, revocation or enterprises, whatever wrote it: ORM, bulk update,
# SQL, a shell). A counter that moved since the entry was made sends the request to the database
# again: a revoked key fails on its next request through every path. Without the triggers (SQLite)
# nothing is cached. Saving or deleting a key or its user also forgets the entry at once.
KEY_CACHE_SECONDS = 10
CACHED_FIELDS = (
    "id",
    "prefix",
    "secret_hash",
    "scopes",
    "user_id",
    "rate_limit",
    "created_by_id",
    "last_used_at",
)


def _cache_key(prefix: str) -> str:
    return f"api:key:{prefix}"


def change_record_kept() -> bool:
    """Whether the change record's counters follow every write that shows in a reply: the services
    bump results and policy counters in the writing transaction (policies.generations), and an API
    key's counter is bumped by a trigger on portal's own key tables (portal/migrations/0003) — so
    that a revocation by raw SQL counts too — which exists on PostgreSQL only. Where they do not
    follow, nothing may be validated or cached by them."""
    return connection.vendor == "postgresql"


def content_generations(scopes: Sequence[str]) -> tuple[int, ...]:
    """The change record's counters of `scopes` (policies.generations), in that order, read in one
    query; 0 for a scope never bumped. The one place the API reads them: validators and caches built
    on them ask here."""
    return generations.read(scopes)


def _caching() -> bool:
    return change_record_kept()


def _generation(prefix: str) -> int:
    return content_generations([f"key:{prefix}"])[0]


def active_key(raw_key: str) -> ApiKey | None:
    """The unrevoked key whose prefix and secret match `raw_key`, or None. `from_cache` is set on it
    when it came from the cache (see remember_key); `enterprise_ids` lists the enterprises it is
    limited to (empty: not limited)."""
    prefix, separator, secret = raw_key.partition(KEY_SEPARATOR)
    if not separator or not prefix or not secret:
        return None
    key = None
    if _caching():
        generation = _generation(prefix)  # read before the row: a later change moves it past this
        entry = cache.get(_cache_key(prefix))
        if isinstance(entry, dict) and entry.get("generation") == generation:
            key = _from_entry(entry)
            if key is None:  # its user is gone or inactive
                return None
    else:
        generation = None
    if key is None:
        key = _look_up(prefix)
        if key is None:
            return None
        key.from_cache = False
    key.generation = generation
    if not hmac.compare_digest(key.secret_hash, hash_secret(raw_key)):
        return None
    return key


def remember_key(key: ApiKey) -> None:
    """Keep a found key for the next requests (after its use was recorded: the copy is what they see)."""
    if key.generation is None:
        return
    entry = {name: getattr(key, name) for name in CACHED_FIELDS}
    entry.update(enterprise_ids=list(key.enterprise_ids), generation=key.generation)
    cache.set(_cache_key(key.prefix), entry, KEY_CACHE_SECONDS)


def _from_entry(entry: dict) -> ApiKey | None:
    key = ApiKey(**{name: entry[name] for name in CACHED_FIELDS})
    key._state.adding, key._state.db = False, "default"
    if key.user_id is not None:
        user = get_user_model().objects.filter(pk=key.user_id, is_active=True).first()
        if user is None:
            return None
        key.user = user
    key.enterprise_ids = list(entry["enterprise_ids"])
    key.from_cache = True
    return key


def _look_up(prefix: str) -> ApiKey | None:
    key = (
        ApiKey.objects.select_related("user")
        .prefetch_related("enterprises")
        .filter(prefix=prefix, revoked_at__isnull=True)
        .first()
    )
    if key is None or (key.user is not None and not key.user.is_active):
        return None
    key.enterprise_ids = [enterprise.pk for enterprise in key.enterprises.all()]
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
