"""Field conventions: money as a string of yuan with two decimals, plus a 万元 display string."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.utils import translation
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

CENT = Decimal("0.01")
TEN_THOUSAND = Decimal(10000)


def language() -> str:
    """ "en" or "zh": the language of rendered texts (condition wording, fact labels)."""
    return "en" if (translation.get_language() or "").startswith("en") else "zh"


def wan_text(yuan: Decimal | None) -> str | None:
    """10000000 → "1000.00 万元"; None (not stated) stays None."""
    if yuan is None:
        return None
    return f"{(Decimal(yuan) / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)} 万元"


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
    """The same amount for people: 万元 with two decimals."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return wan_text(value)
