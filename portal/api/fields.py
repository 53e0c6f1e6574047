"""Field conventions: money as a string of yuan with two decimals, plus a 万元 display string."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from policies.money import wan_fixed

# The API's name for policies.money.wan_fixed ("1000.00 万元"): the one 万元 display of the *_wan fields.
wan_text = wan_fixed


class MoneyField(serializers.DecimalField):
    """Yuan as a string with two decimals ("10000000.00"); null means not stated, never 0."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 16)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("coerce_to_string", True)
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "nullable": True, "example": "1000.00 万元"})
class WanField(serializers.Field):
    """The same amount for people: 万元 with two decimals (policies.money.wan_fixed)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return wan_fixed(value)
