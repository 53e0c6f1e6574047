"""Login with throttling: after LOGIN_FAILURE_LIMIT failed attempts for one username from one IP
address within LOGIN_FAILURE_WINDOW seconds, further attempts (right or wrong) are refused until
the window has passed. Counts live in Django's cache (shared by all processes when the cache is)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

DEFAULT_LIMIT = 5
DEFAULT_WINDOW = 15 * 60


def failure_limit() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", DEFAULT_LIMIT))


def failure_window() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_WINDOW", DEFAULT_WINDOW))


def client_ip(request: HttpRequest | None) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return (request.META.get("REMOTE_ADDR") if request else None) or "unknown"


def throttle_key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}|{ip}".encode()).hexdigest()
    return f"login-failures:{digest}"


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("登录失败次数过多，请 %(minutes)s 分钟后再试。"),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        key = throttle_key(username, client_ip(self.request))
        if cache.get(key, 0) >= failure_limit():
            self.throttled = True
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, failure_window() // 60)},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            # add() starts the window at the first failure; incr() keeps its expiry.
            cache.add(key, 0, timeout=failure_window())
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, timeout=failure_window())
            raise
        cache.delete(key)
        return cleaned


class ThrottledLoginView(LoginView):
    authentication_form = ThrottledAuthenticationForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if getattr(form, "throttled", False):
            response.status_code = 429
        return response
