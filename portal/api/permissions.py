"""Authentication and scopes, checked before every API view runs."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import BasePermission

from portal.api.access import access_for


class ScopedAccess(BasePermission):
    """A signed-in user, or a key with one of the scopes the view asks for this request.

    Views say which scopes they need in `required_scopes(request) -> tuple[str, ...]` (any one
    suffices); sessions are governed by the user's role instead.
    """

    message = ""

    def has_permission(self, request, view) -> bool:
        access = access_for(request)
        if not access.authenticated:
            return False  # DRF turns this into 401 for an unauthenticated request
        scopes = view.required_scopes(request)
        if scopes and not any(access.has_scope(scope) for scope in scopes):
            self.message = _("此 API 密钥没有所需的权限范围（任一即可）：%(scopes)s。") % {
                "scopes": ", ".join(scopes)
            }
            return False
        return True
