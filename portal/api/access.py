"""Who a request acts for, and what it may see: the one place the API decides visibility.

Sessions act as their user. A key tied to a user acts as that user (an enterprise member's key sees
only its company); a machine key sees every enterprise. Either kind of key may be limited to a list
of enterprises, and may only use the endpoints of its scopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser as User
from django.db.models import QuerySet
from rest_framework.request import Request

from enterprises import selectors as enterprise_selectors
from enterprises.models import Enterprise
from portal.models import ApiKey

ATTRIBUTE = "_portal_api_access"


@dataclass
class Access:
    user: User | None  # the person acting: session user or the key's user; None for machine keys
    key: ApiKey | None
    _member_of: Enterprise | None | bool = field(default=False, repr=False)  # False: not looked up yet

    @property
    def authenticated(self) -> bool:
        return self.user is not None or self.key is not None

    @property
    def actor(self) -> User | None:
        """Whom history records for a write: the person, or for a machine key the staff member who issued it."""
        if self.user is not None:
            return self.user
        return self.key.created_by if self.key is not None else None

    @property
    def client_id(self) -> str:
        """Identifies the caller for throttling and idempotency."""
        return f"key:{self.key.pk}" if self.key is not None else f"user:{self.user.pk}"

    def has_scope(self, scope: str) -> bool:
        """Sessions are governed by the user's role, not by scopes."""
        return self.key is None or scope in self.key.scopes

    @property
    def limited_to(self) -> list[int] | None:
        if self.key is None:
            return None
        ids = getattr(self.key, "enterprise_ids", None)  # set when the key was found (api/selectors.py)
        if ids is None:
            ids = [enterprise.pk for enterprise in self.key.enterprises.all()]
        return list(ids) or None

    @property
    def member_of(self) -> Enterprise | None:
        if self._member_of is False:
            self._member_of = enterprise_selectors.enterprise_for_user(self.user) if self.user else None
        return self._member_of

    def enterprises(self) -> QuerySet[Enterprise]:
        """The enterprises this request may see."""
        if self.user is not None:
            visible = enterprise_selectors.visible_enterprises(self.user)
        else:
            visible = Enterprise.objects.all() if self.key is not None else Enterprise.objects.none()
        limited_to = self.limited_to
        return visible if limited_to is None else visible.filter(pk__in=limited_to)

    def sees_all_enterprises(self) -> bool:
        """Every enterprise, present and future (an unlimited machine key, staff)."""
        if self.limited_to is not None:
            return False
        if self.user is not None:
            return self.user.has_perm("enterprises.view_enterprise")  # as visible_enterprises decides
        return self.key is not None

    def restrict(self, queryset: QuerySet, field: str = "enterprise") -> QuerySet:
        """Rows of `queryset` whose `field` is an enterprise this request may see."""
        if self.user is None and self.key is not None and self.limited_to is None:
            return queryset  # an unlimited machine key: no need for a subquery over every enterprise
        return queryset.filter(**{f"{field}__in": self.enterprises()})

    def may_create_enterprises(self) -> bool:
        if self.limited_to is not None:
            return False  # it could not see what it created
        if self.user is not None:
            return self.member_of is None and self.user.has_perm("enterprises.add_enterprise")
        return self.key is not None

    def may_edit(self, enterprise: Enterprise) -> bool:
        """For an enterprise this request can already see."""
        if self.user is not None:
            return enterprise_selectors.can_edit(self.user, enterprise)
        return self.key is not None


def access_for(request: Request) -> Access:
    access = getattr(request, ATTRIBUTE, None)
    if access is None:
        key = request.auth if isinstance(request.auth, ApiKey) else None
        user = request.user if request.user.is_authenticated else None
        access = Access(user=user, key=key)
        setattr(request, ATTRIBUTE, access)
    return access
