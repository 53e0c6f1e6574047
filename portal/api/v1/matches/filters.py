"""The query parameters of the match list and the change feed (and the enterprise filter the item and
application lists share)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound

from matching.models import MatchChange, MatchResult, MatchStatus
from portal.api.access import access_for
from portal.api.base import bilingual
from portal.api.serializers import InstantFilter, StrictFilterSet


class VisibleEnterpriseFilterMixin(StrictFilterSet):
    enterprise = django_filters.NumberFilter(
        method="filter_enterprise",
        help_text=bilingual(
            "企业 id；看不到的企业返回 404。", "Enterprise id; one you may not see is a 404."
        ),
    )

    def filter_enterprise(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # The queryset is already limited to visible enterprises; naming another one is a 404, like its page.
        visible = access_for(self.request).enterprises()
        if not visible.filter(pk=value).exists():
            raise NotFound(_("未找到该企业，或您无权查看。"))
        return queryset.filter(enterprise_id=value)


class MatchResultFilter(VisibleEnterpriseFilterMixin):
    benefit = django_filters.NumberFilter(
        field_name="benefit_id", help_text=bilingual("扶持项目 id。", "Benefit id.")
    )
    document = django_filters.CharFilter(
        field_name="benefit__clause__document__key", help_text=bilingual("政策文件标识。", "Document key.")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=MatchStatus.choices, help_text=bilingual("结论，可重复。", "Status; repeat for several.")
    )
    min_amount = django_filters.NumberFilter(
        field_name="amount",
        lookup_expr="gte",
        help_text=bilingual("预估金额不低于（元）。", "Estimated amount at least (yuan)."),
    )
    changed_since = InstantFilter(
        field_name="evaluated_at",
        lookup_expr="gte",
        help_text=bilingual(
            "只返回此后结论或输入有变化、重新评估的结果（ISO 8601）。",
            "Only results re-evaluated since (their inputs changed), ISO 8601.",
        ),
    )

    class Meta:
        model = MatchResult
        fields = ["enterprise", "benefit", "document", "status", "min_amount", "changed_since"]


class ChangeFilter(VisibleEnterpriseFilterMixin):
    benefit = django_filters.NumberFilter(
        field_name="benefit_id", help_text=bilingual("扶持项目 id。", "Benefit id.")
    )
    since = InstantFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text=bilingual("只返回此后记录的变化（ISO 8601）。", "Only changes recorded since (ISO 8601)."),
    )
    snapshot = django_filters.BooleanFilter(
        method="filter_snapshot",
        help_text=bilingual(
            "true：先逐页给出当前的全部结果（cause 为 snapshot），最后一页的 next_cursor 接上此后的变化。"
            "首次同步用它，之后只用 ?cursor=。",
            "true: first every current result, page by page (cause snapshot); the last page's next_cursor "
            "continues with the changes since. Use it for the first sync, then ?cursor= only.",
        ),
    )

    class Meta:
        model = MatchChange
        fields = ["enterprise", "benefit", "since", "snapshot"]

    def filter_snapshot(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # chooses the mode (ChangeViewSet.list), filters nothing
