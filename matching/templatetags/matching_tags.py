"""Template helpers of the matching pages: the navigation's unread-notification count; the stored
per-item results of an enterprise's items (the profile's items section)."""

from __future__ import annotations

from django import template

from enterprises.models import EnterpriseMembership
from matching import selectors
from matching.models import MatchChange, Notice, NotificationPreference

register = template.Library()


@register.simple_tag
def unread_notifications(user) -> int | None:
    """Changes and notices of the user's enterprise newer than the last ones they saw: small indexed queries,
    run only for signed-in enterprise users (the base template asks for nothing else). None: the user
    acts for no enterprise, so there is no notifications page for them."""
    if not user.is_authenticated:
        return None
    enterprise_id = (
        EnterpriseMembership.objects.filter(user=user).values_list("enterprise_id", flat=True).first()
    )
    if enterprise_id is None:
        return None
    seen_change, seen_notice = NotificationPreference.objects.filter(user=user).values_list(
        "last_seen_change_id", "last_seen_notice_id"
    ).first() or (0, 0)
    return (
        MatchChange.objects.filter(enterprise_id=enterprise_id, pk__gt=seen_change).count()
        + Notice.objects.filter(enterprise_id=enterprise_id, pk__gt=seen_notice).count()
    )


@register.simple_tag
def item_results(enterprise) -> dict:
    """item id → its stored per-item results (matching.selectors.item_results_for_enterprise)."""
    return selectors.item_results_for_enterprise(enterprise)


@register.inclusion_tag("matching/_item_results.html")
def item_result_list(results: dict, item) -> dict:
    return {"results": results.get(item.pk, [])}
