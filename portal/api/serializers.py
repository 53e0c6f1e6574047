"""Serializer helpers shared by the API's resources."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from rest_framework import serializers


class StrictSerializerMixin:
    """A field the serializer does not know is an error, not silently dropped (a typo must not pass
    for a successful write). Read-only fields sent back unchanged are ignored."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [_("未知字段。")] for name in unknown})
        return super().to_internal_value(data)
