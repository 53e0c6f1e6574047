"""Login protection (django-axes) and a throttled password reset.

Failed logins are counted by django-axes in the database (an atomic row per key, visible and
resettable in admin under "Axes") per username at a client address and per client address: after
LOGIN_FAILURE_LIMIT failures within the cool-off period (LOGIN_FAILURE_WINDOW seconds) further
attempts, right or wrong, are refused with a 429 until the period has passed; a successful login
resets its count. A username alone is not locked from everywhere: that would let anyone lock anyone
out. The client address is proxy-aware: with TRUSTED_PROXY_COUNT = N proxies in front of the portal,
it is the N-th address from the right of X-Forwarded-For (the one the outermost trusted proxy saw);
with 0 (the default) X-Forwarded-For is ignored, as any client can send it.

Password-reset e-mails: at most PASSWORD_RESET_LIMIT requests per address and per e-mail address
within PASSWORD_RESET_WINDOW seconds (atomic cache counters), then a 429.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, PasswordResetView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def client_ip(request: HttpRequest | None) -> str:
    """The client's address, through TRUSTED_PROXY_COUNT proxies (see the module docstring)."""
    if request is None:
        return "unknown"
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if len(forwarded) < proxies:
        return remote  # not through every trusted proxy: the nearest hop is all we know
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def axes_client_ip(request: HttpRequest | None) -> str | None:
    """For django-axes, which stores it in an address column: None when there is none (force_login)."""
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def axes_username(request: HttpRequest, credentials: dict | None) -> str:
    """Case and surrounding spaces do not make another username."""
    value = (credentials or {}).get("username") or (request.POST.get("username") if request else "") or ""
    return str(value).strip().lower()


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The login page again with the reason, in the reader's language, status 429."""
    form = AuthenticationForm(request)
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds()) // 60)
    form.errors["__all__"] = form.error_class(
        [_("登录失败次数过多，请 %(minutes)s 分钟后再试。") % {"minutes": minutes}]
    )
    return render(request, "registration/login.html", {"form": form}, status=429)


class PortalLoginView(LoginView):
    """Django's login; django-axes (backend and middleware) counts and refuses."""


def count_attempt(name: str, window: int) -> int:
    """Count one attempt of `name` (e.g. "ip:10.0.0.1") in its window: the attempts so far, this one
    included. Atomic cache counters (used by the password reset and the self-registration)."""
    key = f"reset-requests:{hashlib.sha256(name.encode()).hexdigest()}"
    cache.add(key, 0, timeout=window)  # starts the window at the first request
    try:
        return cache.incr(key)  # atomic in Redis and in the local-memory cache
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        return 1


class ThrottledPasswordResetView(PasswordResetView):
    def post(self, request, *args, **kwargs):
        limit = int(getattr(settings, "PASSWORD_RESET_LIMIT", 5))
        window = int(getattr(settings, "PASSWORD_RESET_WINDOW", 3600))
        email = (request.POST.get("email") or "").strip().lower()
        counts = [count_attempt(f"ip:{client_ip(request)}", window)]
        if email:
            counts.append(count_attempt(f"email:{email}", window))
        if max(counts) > limit:
            return HttpResponse(
                _("密码重置请求过多，请 %(minutes)s 分钟后再试。") % {"minutes": max(1, window // 60)},
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        return super().post(request, *args, **kwargs)
