"""Reads of enterprise data, with the visibility rule in one place:
an enterprise user sees only its own enterprise; staff with enterprises.view_enterprise see all."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.http import Http404

from enterprises.models import Enterprise, EnterpriseMembership


def enterprise_for_user(user: User) -> Enterprise | None:
    """The enterprise the user acts for, or None (staff, anonymous, unlinked users)."""
    if not user.is_authenticated:
        return None
    membership = EnterpriseMembership.objects.select_related("enterprise").filter(user=user).first()
    return membership.enterprise if membership else None


def visible_enterprises(user: User) -> QuerySet[Enterprise]:
    if not user.is_authenticated:
        return Enterprise.objects.none()
    if user.has_perm("enterprises.view_enterprise"):
        return Enterprise.objects.all()
    return Enterprise.objects.filter(memberships__user=user)


def enterprise_visible_to(user: User, enterprise_id: int) -> Enterprise:
    """The enterprise if the user may see it; Http404 otherwise (no hint that it exists)."""
    enterprise = visible_enterprises(user).filter(pk=enterprise_id).first()
    if enterprise is None:
        raise Http404
    return enterprise


def can_edit(user: User, enterprise: Enterprise) -> bool:
    if not user.is_authenticated:
        return False
    if user.has_perm("enterprises.change_enterprise"):
        return True
    return EnterpriseMembership.objects.filter(user=user, enterprise=enterprise).exists()


def enterprise_editable_by(user: User, enterprise_id: int) -> Enterprise:
    """The enterprise if the user may edit it; Http404 otherwise."""
    enterprise = enterprise_visible_to(user, enterprise_id)
    if not can_edit(user, enterprise):
        raise Http404
    return enterprise


def search_enterprises(query: str = "") -> QuerySet[Enterprise]:
    enterprises = Enterprise.objects.order_by("name")
    query = query.strip()
    if query:
        enterprises = enterprises.filter(Q(name__icontains=query) | Q(credit_code__iexact=query))
    return enterprises


def profile(enterprise: Enterprise) -> dict:
    """Everything the profile page shows, newest first."""
    return {
        "enterprise": enterprise,
        "figures": list(enterprise.figures.order_by("-year")),
        "recognitions": list(enterprise.recognitions.order_by("-year", "kind")),
        "projects": list(enterprise.projects.order_by("-year", "kind")),
        "fact_values": list(enterprise.fact_values.select_related("fact").order_by("fact__code", "-year")),
    }
