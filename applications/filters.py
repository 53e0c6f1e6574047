"""Filters of the staff review queue and the reports (django-filter). Amounts are typed in 万元."""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from applications.models import Application, State
from policies import money
from policies.models import PolicyDocument

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SubmittedRangeFilter(django_filters.FilterSet):
    submitted_from = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__gte", label=_("提交日期自"), widget=DATE_INPUT
    )
    submitted_to = django_filters.DateFilter(
        field_name="submitted_at", lookup_expr="date__lte", label=_("提交日期至"), widget=DATE_INPUT
    )
    document = django_filters.ModelChoiceFilter(
        field_name="benefit__clause__document",
        queryset=PolicyDocument.objects.order_by("source_file", "key"),
        label=_("政策文件"),
        empty_label=_("全部政策"),
    )

    class Meta:
        model = Application
        fields: list[str] = []


class ReviewQueueFilter(SubmittedRangeFilter):
    state = django_filters.ChoiceFilter(
        choices=[(state.value, state.label) for state in State if state != State.DRAFT],
        label=_("状态"),
        empty_label=_("全部状态"),
    )
    enterprise = django_filters.CharFilter(
        field_name="enterprise__name", lookup_expr="icontains", label=_("企业名称")
    )
    amount_min = django_filters.NumberFilter(method="filter_amount", label=_("申请金额不低于（万元）"))
    amount_max = django_filters.NumberFilter(method="filter_amount", label=_("申请金额不高于（万元）"))
    assigned = django_filters.ChoiceFilter(
        choices=[("me", _("分派给我")), ("none", _("未分派"))],
        method="filter_assigned",
        label=_("审核人"),
        empty_label=_("全部"),
    )

    ORDER = (
        "state",
        "document",
        "enterprise",
        "amount_min",
        "amount_max",
        "submitted_from",
        "submitted_to",
        "assigned",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters = {name: self.filters[name] for name in self.ORDER}

    def filter_amount(self, queryset: QuerySet, name: str, value: Decimal) -> QuerySet:
        lookup = "requested_amount__gte" if name == "amount_min" else "requested_amount__lte"
        return queryset.filter(**{lookup: money.yuan_from_wan(value)})

    def filter_assigned(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "me":
            return queryset.filter(reviewer=self.request.user)
        return queryset.filter(reviewer__isnull=True)
