"""`Authorization: Api-Key <key>` for machine clients (session cookies serve the browser)."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from portal.api import selectors, services

SCHEME = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A key tied to a user acts as that user (an enterprise user's key sees only its company);
    a machine key has no user: request.user stays anonymous and request.auth is the key."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != SCHEME.lower():
            return None  # another scheme, or none: let session authentication try
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Authorization 头格式应为：Api-Key <密钥>。"))
        key = selectors.active_key(header[1])
        if key is None:
            raise exceptions.AuthenticationFailed(_("API 密钥无效或已撤销。"))
        if services.touch_last_used(key) or not key.from_cache:
            selectors.remember_key(key)
        return (key.user or AnonymousUser(), key)

    def authenticate_header(self, request) -> str:
        return SCHEME  # makes unauthenticated requests 401 with WWW-Authenticate, not 403


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "portal.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "“Api-Key <密钥>”。密钥由工作人员在后台或用 manage.py create_api_key 创建，只显示一次。\n"
                "`Api-Key <key>`; keys are issued by staff (admin or `manage.py create_api_key`) and shown once."
            ),
        }
