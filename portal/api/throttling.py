"""Rate limits per API key (each key may carry its own rate) and per signed-in user.

Fixed windows counted in the shared cache: one counter per caller and window, so a request costs
the same whatever the rate (DRF's default keeps a list of every request time in the window: at a
machine client's 100,000/min that list was pickled on every request). A caller may send up to twice
its rate across a window boundary; the rates are generous enough for that not to matter.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from portal.api.access import access_for


def window_key(ident: str, duration: int, now: float) -> tuple[str, int]:
    """The counter of `ident`'s current window, and the seconds left in it."""
    window = int(now // duration)
    return f"throttle:{ident}:{duration}:{window}", int((window + 1) * duration - now) + 1


def count_request(ident: str, duration: int) -> tuple[int, int]:
    """Count one request of `ident` in its current window: (requests in the window, seconds left)."""
    key, left = window_key(ident, duration, time.time())
    if hasattr(cache, "count_in_window"):  # Redis (portal/cache.py): one round trip
        return cache.count_in_window(key, left), left
    if not cache.add(key, 1, left):
        try:
            return cache.incr(key), left
        except ValueError:  # expired between the two calls: this request opens the window again
            cache.set(key, 1, left)
    return 1, left


class WindowRateThrottle(SimpleRateThrottle):
    def allow_request(self, request, view):
        if self.rate is None:
            return True
        ident = self.get_cache_key(request, view)
        if ident is None:
            return True
        count, self.left = count_request(ident, self.duration)
        return count <= self.num_requests

    def wait(self):
        return self.left


class ApiKeyRateThrottle(WindowRateThrottle):
    """Counts requests per key, whoever uses it; the key's `rate_limit` overrides the default."""

    scope = "api_key"

    def allow_request(self, request, view):
        key = access_for(request).key
        if key is None:
            return True
        self.num_requests, self.duration = self.rate_of(key.rate_limit)
        return super().allow_request(request, view)

    def rate_of(self, rate_limit: str) -> tuple[int, int]:
        """(requests, seconds) of a key's own rate, the default when it has none."""
        return self.parse_rate(rate_limit or self.get_rate())

    def get_cache_key(self, request, view):
        return key_ident(access_for(request).key.pk)


class SessionUserRateThrottle(WindowRateThrottle):
    """Counts a signed-in browser user's requests (keys are counted by ApiKeyRateThrottle)."""

    scope = "user"

    def get_cache_key(self, request, view):
        access = access_for(request)
        if access.key is not None or access.user is None:
            return None
        return f"user:{access.user.pk}"


def key_ident(key_id: int) -> str:
    return f"key:{key_id}"


def key_rate(rate_limit: str) -> tuple[int, int]:
    return ApiKeyRateThrottle().rate_of(rate_limit)
