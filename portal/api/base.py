"""What every API view shares: scopes per request, the caller's access, the bilingual schema help."""

from __future__ import annotations

from django.utils.functional import cached_property
from rest_framework import viewsets
from rest_framework.permissions import SAFE_METHODS

from portal.api.access import Access, access_for


def bilingual(zh: str, en: str) -> str:
    """Help text shown in the schema in both languages."""
    return f"{zh} {en}"


class ApiViewMixin:
    """`scopes`: a key needs one of them; `write_scopes`: the same for unsafe methods, when different."""

    scopes: tuple[str, ...] = ()
    write_scopes: tuple[str, ...] | None = None

    def required_scopes(self, request) -> tuple[str, ...]:
        if request.method not in SAFE_METHODS and self.write_scopes is not None:
            return self.write_scopes
        return self.scopes

    @cached_property
    def access(self) -> Access:
        return access_for(self.request)


class ReadOnlyApiViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    pass
