"""Serializer and filter helpers shared by the API's resources: input is checked strictly, so a typo
or a wrong JSON type is a 400 naming the field, never silently dropped or coerced."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django import forms
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

# Field class -> (accepted JSON types, message); the first matching class wins (subclasses first).
JSON_TYPES: list[tuple[type, tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), gettext_lazy("应为 true 或 false。")),
    (serializers.IntegerField, (int,), gettext_lazy("应为整数。")),
    (serializers.PrimaryKeyRelatedField, (int,), gettext_lazy("应为整数 id。")),
    (serializers.DecimalField, (str,), gettext_lazy('金额和小数请用字符串，例如 "1000.00"。')),
    (serializers.DateTimeField, (str,), gettext_lazy("应为 ISO 8601 日期时间字符串。")),
    (serializers.DateField, (str,), gettext_lazy("应为日期字符串 YYYY-MM-DD。")),
    (serializers.ListField, (list,), gettext_lazy("应为列表。")),
    (serializers.DictField, (dict,), gettext_lazy("应为对象。")),
    (serializers.ChoiceField, (str,), gettext_lazy("应为字符串。")),
    (serializers.CharField, (str,), gettext_lazy("应为字符串。")),
]


def _wrong_type(field: serializers.Field, value: object) -> str | None:
    if value is None:
        return None  # allow_null decides
    for field_class, types, message in JSON_TYPES:
        if isinstance(field, field_class):
            if isinstance(value, bool) and bool not in types:
                return str(message)
            return None if isinstance(value, types) else str(message)
    return None


class StrictSerializerMixin:
    """Unknown fields and values of the wrong JSON type are errors (DRF would drop or coerce them).
    Read-only fields sent back unchanged are ignored."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            errors = {name: [_("未知字段。")] for name in sorted(set(data) - set(self.fields))}
            for name, field in self.fields.items():
                if name in data and not field.read_only:
                    problem = _wrong_type(field, data[name])
                    if problem:
                        errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


BOOLEAN_WORDS = {"true", "false", "1", "0"}


class StrictFilterForm(forms.Form):
    """Query parameters: present means meant, so an empty value, a repeated single value or an
    unreadable boolean is an error rather than silently no filter."""

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            if name not in self.data:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if any(value == "" for value in values):
                self.add_error(name, _("不能为空；不筛选时请去掉这个参数。"))
            elif len(values) > 1 and not isinstance(field, forms.MultipleChoiceField):
                self.add_error(name, _("只能给一个值。"))
            elif isinstance(field, forms.NullBooleanField) and values[0].lower() not in BOOLEAN_WORDS:
                self.add_error(name, _("应为 true 或 false。"))
        return cleaned


_FORM_CLASSES: dict[tuple[type, str | None], type] = {}


class StrictFilterSet(filters.FilterSet):
    def get_form_class(self):
        # Built once per filter set and language, not per request: the filters are declared on the
        # class (none depends on the request), and building the fields cost ~0.5 ms a request.
        marker = (self.__class__, translation.get_language())
        form_class = _FORM_CLASSES.get(marker)
        if form_class is None:
            fields = {name: filter_.field for name, filter_ in self.filters.items()}
            form_class = _FORM_CLASSES[marker] = type(
                f"{self.__class__.__name__}Form", (StrictFilterForm,), fields
            )
        return form_class


class InstantField(IsoDateTimeField):
    """An ISO 8601 instant, normalised to UTC: any offset Python reads (e.g. +16:02, which PostgreSQL
    refuses) becomes a plain UTC time, and one outside the representable years is a 400, not a 500."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None or timezone.is_naive(parsed):
            return parsed
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError as error:
            raise forms.ValidationError(_("日期时间超出范围。"), code="invalid") from error


class InstantFilter(filters.IsoDateTimeFilter):
    """`…_since` filters: an instant (InstantField)."""

    field_class = InstantField
