"""Rate limits per API key (each key may carry its own rate) and per signed-in user."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from portal.api.access import access_for


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Counts requests per key, whoever uses it; the key's `rate_limit` overrides the default."""

    scope = "api_key"

    def allow_request(self, request, view):
        key = access_for(request).key
        if key is None:
            return True
        self.rate = key.rate_limit or self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": access_for(request).key.pk}


class SessionUserRateThrottle(SimpleRateThrottle):
    """Counts a signed-in browser user's requests (keys are counted by ApiKeyRateThrottle)."""

    scope = "user"

    def get_cache_key(self, request, view):
        access = access_for(request)
        if access.key is not None or access.user is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": access.user.pk}
