"""The estimated amount of a benefit: one rule for both evaluation paths.

The amount depends on the benefit and on at most one fact (the ratio's base), so the bulk path
computes it once per distinct base value with this same function.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from matching.engine.spec import BenefitSpec

CENT = Decimal("0.01")


class AmountBasis(StrEnum):
    FIXED = "fixed"  # the text names the amount (给予50万元)
    COMPUTED = "computed"  # ratio × base, below the cap (or no cap)
    CAPPED = "capped"  # ratio × base reached the cap
    UP_TO_CAP = "up_to_cap"  # the text states only a ceiling (上限1000万元): the value is that ceiling
    BASE_UNKNOWN = "base_unknown"  # ratio × a base fact the enterprise has not given
    NOT_FIXED = "not_fixed"  # the text gives no figure (一定支持): never 0
    NON_MONETARY = "non_monetary"  # land, approvals, services
    NOT_APPLICABLE = "not_applicable"  # not eligible or not in force


@dataclass(frozen=True)
class Amount:
    value: Decimal | None
    basis: AmountBasis
    per_instalment: Decimal | None = None  # 分三年: value / instalments, paid each year

    @property
    def is_fixed(self) -> bool:
        """The text and the facts fix a figure (exact, computed or a ceiling)."""
        return self.value is not None


NOT_APPLICABLE = Amount(None, AmountBasis.NOT_APPLICABLE)


def depends_on_base(spec: BenefitSpec) -> bool:
    return (
        spec.kind != "non_monetary"
        and spec.amount is None
        and spec.ratio is not None
        and bool(spec.base_fact)
    )


def potential_amount(spec: BenefitSpec, base: Decimal | None) -> Amount:
    """What the benefit pays if granted, given the base fact's value (None = unknown)."""
    if spec.kind == "non_monetary":
        return Amount(None, AmountBasis.NON_MONETARY)
    if spec.amount is not None:
        return _spread(spec, spec.amount, AmountBasis.FIXED)
    if depends_on_base(spec):
        if base is None:
            return Amount(None, AmountBasis.BASE_UNKNOWN)
        raw = max(spec.ratio * base, Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        if spec.cap is not None and raw >= spec.cap:
            return _spread(spec, spec.cap, AmountBasis.CAPPED)
        return _spread(spec, raw, AmountBasis.COMPUTED)
    if spec.cap is not None:
        return _spread(spec, spec.cap, AmountBasis.UP_TO_CAP)
    return Amount(None, AmountBasis.NOT_FIXED)


def _spread(spec: BenefitSpec, value: Decimal, basis: AmountBasis) -> Amount:
    per_instalment = None
    if spec.instalments and spec.instalments > 1:
        per_instalment = (value / spec.instalments).quantize(CENT, ROUND_HALF_UP)
    return Amount(value, basis, per_instalment)


def upper_bound(spec: BenefitSpec, amount: Amount) -> Decimal | None:
    """The most the benefit could pay: the estimate, else the cap (for ranking missing facts)."""
    return amount.value if amount.value is not None else spec.cap
