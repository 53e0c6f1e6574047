"""Template helpers of the application pages: money in 万元, state and verdict badges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext_lazy as _

from matching.models import STATUS_BADGES
from policies import money

register = template.Library()

STATE_BADGES = {
    "approved": "ok",
    "rejected": "bad",
    "returned": "warn",
    "withdrawn": "",
    "draft": "",
    "submitted": "info",
    "under_review": "info",
    "resubmitted": "info",
}
OUTCOME_BADGES = {"met": ("ok", _("满足")), "unmet": ("bad", _("不满足")), "unknown": ("warn", _("待补充"))}
VERDICT_BADGES = {str(status): badge for status, badge in STATUS_BADGES.items()}


@register.filter
def wan(amount) -> str:
    """Yuan (Decimal, number or numeric string) shown in 万元 (policies.money.wan); None / empty as —."""
    if amount is None or amount == "":
        return "—"
    try:
        return money.wan(Decimal(str(amount)))
    except InvalidOperation:
        return "—"


@register.filter
def state_badge(state: str) -> str:
    return STATE_BADGES.get(state, "")


@register.filter
def outcome_badge(outcome: str) -> str:
    return OUTCOME_BADGES.get(outcome, ("", outcome))[0]


@register.filter
def outcome_label(outcome: str) -> str:
    return str(OUTCOME_BADGES.get(outcome, ("", outcome))[1])


@register.filter
def verdict_badge(status: str) -> str:
    """Badge class of a verdict status slug (eligible, needs_info, …)."""
    return VERDICT_BADGES.get(status, "")


OUTCOME_SLUGS = {0: "unmet", 1: "unknown", 2: "met"}
OUTCOME_MARKS = {0: "✗", 1: "?", 2: "✓"}


@register.filter
def outcome_slug(outcome) -> str:
    """The class of an engine Outcome (0 unmet, 1 unknown, 2 met)."""
    return OUTCOME_SLUGS.get(int(outcome), "")


@register.filter
def outcome_mark(outcome) -> str:
    return OUTCOME_MARKS.get(int(outcome), "")


@register.filter
def get_item(mapping, key):
    """mapping[key] in a template (None when absent)."""
    return mapping.get(key) if hasattr(mapping, "get") else None
