"""The estimated amount of a benefit: one rule for both evaluation paths.

The amount depends on the benefit, the as-of date (dated values) and a few facts (`amount_inputs`:
the ratio's base, a rate's quantity, the fact tiers are read on, the base of a ratio cap), so the
bulk path computes it once per distinct tuple of those values with this same function.

Shapes (policies/amount_rules.py): fixed sum; ratio × base; ratio range (the estimate is a range);
per-unit rate × quantity; tiers (by band, or marginal); caps (the cap column, a ratio of another
fact, per year, in total); yearly payments for N years (factors by year), unequal shares, stages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from matching.engine.spec import BenefitSpec
from policies.amount_rules import value_on

CENT = Decimal("0.01")
ZERO = Decimal(0)


class AmountBasis(StrEnum):
    FIXED = "fixed"  # the text names the amount (给予50万元)
    COMPUTED = "computed"  # ratio × base or rate × quantity, below the cap (or no cap)
    CAPPED = "capped"  # the computed figure reached a cap
    RANGE = "range"  # 按5%—20%给予: value is the low end, `high` the high end
    UP_TO_CAP = "up_to_cap"  # the text states only a ceiling (上限1000万元): the value is that ceiling
    BASE_UNKNOWN = "base_unknown"  # computed from a fact the enterprise has not given
    NOT_FIXED = "not_fixed"  # the text gives no figure (一定支持): never 0
    NON_MONETARY = "non_monetary"  # land, approvals, services
    NOT_APPLICABLE = "not_applicable"  # not eligible or not in force


# Figures that are money the enterprise can count on (given its facts): what a headline total sums.
COUNTED_BASES = frozenset({AmountBasis.FIXED, AmountBasis.COMPUTED, AmountBasis.CAPPED, AmountBasis.RANGE})


@dataclass(frozen=True)
class Payment:
    """One part of a payment plan: in year N, or at a stage ("验收通过后")."""

    label: str  # "1" .. for years; the stage's words for stages
    value: Decimal


@dataclass(frozen=True)
class Amount:
    value: Decimal | None  # the estimate; for a range its low end; for yearly payments the total
    basis: AmountBasis
    per_instalment: Decimal | None = None  # 分三年: value / instalments, paid each year
    high: Decimal | None = None  # a range's high end
    per_year: Decimal | None = None  # paid every year: the first year's figure
    years: int | None = None  # paid over this many years (at most, when the schedule has a stop condition)
    payments: tuple[Payment, ...] = ()  # unequal shares by year, or stages
    by_stage: bool = False  # payments are stages (events), not years

    @property
    def is_fixed(self) -> bool:
        """The text and the facts fix a figure (exact, computed or a ceiling)."""
        return self.value is not None

    @property
    def counted(self) -> bool:
        """Money to add into a headline total: not a ceiling, not unknown."""
        return self.value is not None and self.basis in COUNTED_BASES


NOT_APPLICABLE = Amount(None, AmountBasis.NOT_APPLICABLE)


def amount_inputs(spec: BenefitSpec) -> tuple[str, ...]:
    """The facts the amount reads, sorted."""
    codes = {spec.base_fact} if spec.base_fact else set()
    if spec.amount_rule is not None:
        codes |= spec.amount_rule.fact_codes
    return tuple(sorted(codes))


def depends_on_base(spec: BenefitSpec) -> bool:
    """A plain ratio × base benefit (what-if analysis moves the base)."""
    return (
        spec.kind != "non_monetary"
        and spec.amount is None
        and spec.ratio is not None
        and bool(spec.base_fact)
        and (spec.amount_rule is None or not (spec.amount_rule.tiers or spec.amount_rule.rate is not None))
    )


def _round(value: Decimal) -> Decimal:
    return max(value, ZERO).quantize(CENT, ROUND_HALF_UP)


def potential_amount(spec: BenefitSpec, inputs: Mapping[str, Decimal | None], as_of: dt.date) -> Amount:
    """What the benefit pays if granted, given the values of `amount_inputs(spec)` (None = unknown)."""
    if spec.kind == "non_monetary":
        return Amount(None, AmountBasis.NON_MONETARY)
    rule = spec.amount_rule
    cap = value_on(rule, "cap", spec.cap, as_of)
    amount = value_on(rule, "amount", spec.amount, as_of)
    ratio = value_on(rule, "ratio", spec.ratio, as_of)
    rate = value_on(rule, "rate", rule.rate if rule else None, as_of)

    high: Decimal | None = None
    if amount is not None:
        raw, basis = amount, AmountBasis.FIXED
    elif rule is not None and rule.tiers:
        figure = _tiered(spec, inputs)
        if figure is None:
            return Amount(None, AmountBasis.BASE_UNKNOWN)
        raw, basis = figure, AmountBasis.COMPUTED
    elif rate is not None and rule is not None and rule.quantity_fact:
        quantity = inputs.get(rule.quantity_fact)
        if quantity is None:
            return Amount(None, AmountBasis.BASE_UNKNOWN)
        raw, basis = rate * quantity, AmountBasis.COMPUTED
    elif rule is not None and rule.ratio_range is not None and spec.base_fact:
        base = inputs.get(spec.base_fact)
        if base is None:
            return Amount(None, AmountBasis.BASE_UNKNOWN)
        raw, high, basis = rule.ratio_range[0] * base, _round(rule.ratio_range[1] * base), AmountBasis.RANGE
    elif ratio is not None and spec.base_fact:
        base = inputs.get(spec.base_fact)
        if base is None:
            return Amount(None, AmountBasis.BASE_UNKNOWN)
        raw, basis = ratio * base, AmountBasis.COMPUTED
    elif cap is not None:
        return _schedule(spec, cap, AmountBasis.UP_TO_CAP, None, as_of)
    else:
        return Amount(None, AmountBasis.NOT_FIXED)

    raw = _round(raw)
    limit = cap if basis is not AmountBasis.FIXED else None
    if rule is not None and rule.cap_ratio is not None and rule.cap_base_fact:
        cap_base = inputs.get(rule.cap_base_fact)
        if cap_base is None:
            return Amount(None, AmountBasis.BASE_UNKNOWN)
        by_ratio = _round(rule.cap_ratio * cap_base)
        limit = by_ratio if limit is None else min(limit, by_ratio)
    if limit is not None:
        if raw >= limit:
            raw, basis, high = limit, AmountBasis.CAPPED, None
        elif high is not None:
            high = min(high, limit)
    if high is not None and high <= raw:
        high, basis = None, AmountBasis.COMPUTED
    return _schedule(spec, raw, basis, high, as_of)


def _tiered(spec: BenefitSpec, inputs: Mapping[str, Decimal | None]) -> Decimal | None:
    """The figure of the band the tier fact falls in (or, marginal, the sum over the bands)."""
    rule = spec.amount_rule
    assert rule is not None and rule.tiers and rule.tier_fact
    x = inputs.get(rule.tier_fact)
    if x is None:
        return None
    total = ZERO
    for band in rule.tiers:
        low = band.from_ if band.from_ is not None else Decimal("-Infinity")
        top = band.to if band.to is not None else Decimal("Infinity")
        if rule.tiers_marginal:
            portion = min(x, top) - low if x > low else ZERO
            if portion <= 0:
                continue
            payout = _band_payout(spec, band, inputs, portion)
            if payout is None:
                return None
            total += payout
        elif low <= x < top:
            return _band_payout(spec, band, inputs, None)
    return total


def _band_payout(spec: BenefitSpec, band, inputs: Mapping[str, Decimal | None], portion: Decimal | None):
    rule = spec.amount_rule
    if band.amount is not None:
        return band.amount
    if band.rate is not None:
        quantity = portion if portion is not None else inputs.get(rule.quantity_fact)
        return None if quantity is None else band.rate * quantity
    base = portion if portion is not None else inputs.get(spec.base_fact) if spec.base_fact else None
    return None if base is None else band.ratio * base


def _schedule(
    spec: BenefitSpec, figure: Decimal, basis: AmountBasis, high: Decimal | None, as_of: dt.date
) -> Amount:
    """Spread `figure` (per award, or per year when paid yearly) over the payment schedule."""
    rule = spec.amount_rule
    schedule = rule.schedule if rule is not None else None
    cap_per_year = value_on(rule, "cap_per_year", rule.cap_per_year if rule else None, as_of)
    cap_total = value_on(rule, "cap_total", rule.cap_total if rule else None, as_of)

    if schedule is not None and schedule.years:
        factors = schedule.year_factors or (Decimal(1),) * schedule.years
        yearly = [_round(figure * factor) for factor in factors]
        if cap_per_year is not None:
            if any(value > cap_per_year for value in yearly) and basis is AmountBasis.COMPUTED:
                basis = AmountBasis.CAPPED
            yearly = [min(value, cap_per_year) for value in yearly]
        total = sum(yearly, ZERO)
        high_total = None
        if high is not None:
            high_yearly = [_round(high * factor) for factor in factors]
            if cap_per_year is not None:
                high_yearly = [min(value, cap_per_year) for value in high_yearly]
            high_total = sum(high_yearly, ZERO)
        if cap_total is not None and total >= cap_total:
            total = cap_total
            basis = AmountBasis.CAPPED if basis is not AmountBasis.UP_TO_CAP else basis
        if high_total is not None and cap_total is not None:
            high_total = min(high_total, cap_total)
        payments = tuple(Payment(str(index), value) for index, value in enumerate(yearly, start=1))
        if schedule.shares:  # one sum split unequally by year
            payments = tuple(
                Payment(str(index), _round(total * share))
                for index, share in enumerate(schedule.shares, start=1)
            )
        return Amount(
            total,
            basis,
            high=high_total if high_total is not None and high_total > total else None,
            per_year=yearly[0],
            years=schedule.years,
            payments=payments if (schedule.year_factors or schedule.shares) else (),
        )

    if cap_per_year is not None and figure > cap_per_year:
        figure = cap_per_year
        basis = AmountBasis.CAPPED if basis is AmountBasis.COMPUTED else basis
    if cap_total is not None and figure > cap_total:
        figure = cap_total
        basis = AmountBasis.CAPPED if basis is AmountBasis.COMPUTED else basis
    for ceiling in (cap_per_year, cap_total):
        if high is not None and ceiling is not None:
            high = min(high, ceiling)
    if high is not None and high <= figure:
        high = None
        basis = AmountBasis.COMPUTED if basis is AmountBasis.RANGE else basis
    payments: tuple[Payment, ...] = ()
    by_stage = False
    if schedule is not None and schedule.stages:
        payments = tuple(Payment(stage.after, _round(figure * stage.share)) for stage in schedule.stages)
        by_stage = True
    elif schedule is not None and schedule.shares:
        payments = tuple(
            Payment(str(index), _round(figure * share))
            for index, share in enumerate(schedule.shares, start=1)
        )
    per_instalment = None
    if spec.instalments and spec.instalments > 1:
        per_instalment = (figure / spec.instalments).quantize(CENT, ROUND_HALF_UP)
    return Amount(figure, basis, per_instalment, high=high, payments=payments, by_stage=by_stage)


def upper_bound(spec: BenefitSpec, amount: Amount) -> Decimal | None:
    """The most the benefit could pay: the estimate (a range's top), else the cap (for ranking missing facts)."""
    if amount.high is not None:
        return amount.high
    return amount.value if amount.value is not None else spec.cap


def combine_amounts(amounts: list[Amount]) -> Amount:
    """The amount of several items of one per-item benefit: each item is paid on its own."""
    if len(amounts) == 1:
        return amounts[0]
    if all(amount.counted for amount in amounts):
        bases = {amount.basis for amount in amounts}
        total = sum((amount.value for amount in amounts), ZERO)
        high = sum((amount.high if amount.high is not None else amount.value for amount in amounts), ZERO)
        basis = bases.pop() if len(bases) == 1 else AmountBasis.COMPUTED
        return Amount(total, basis, high=high if high > total else None)
    if all(amount.basis is AmountBasis.UP_TO_CAP for amount in amounts):
        return Amount(sum((amount.value for amount in amounts), ZERO), AmountBasis.UP_TO_CAP)
    unknown = next(amount for amount in amounts if not amount.counted)
    return Amount(None, unknown.basis if unknown.value is None else AmountBasis.BASE_UNKNOWN)
