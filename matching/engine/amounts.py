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
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from matching.engine.spec import BenefitSpec
from policies.amount_rules import Band, CapGroup, value_on

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
    group_capped: bool = False  # cut to the benefit's per-enterprise cap group ("已按上限计")

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
    """What the benefit pays if granted, given the values of `amount_inputs(spec)` (None = unknown);
    never more than the benefit's per-enterprise cap group allows on its own."""
    return apply_cap_group(_potential_amount(spec, inputs, as_of), cap_group_of(spec))


def cap_group_of(spec: BenefitSpec) -> CapGroup | None:
    return spec.amount_rule.cap_group if spec.amount_rule is not None else None


def _potential_amount(spec: BenefitSpec, inputs: Mapping[str, Decimal | None], as_of: dt.date) -> Amount:
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


def _band_payout(
    spec: BenefitSpec, band: Band, inputs: Mapping[str, Decimal | None], portion: Decimal | None
) -> Decimal | None:
    rule = spec.amount_rule
    assert rule is not None  # a band belongs to the rule's tiers
    if band.amount is not None:
        return band.amount
    if band.rate is not None:
        if portion is not None:
            quantity: Decimal | None = portion
        else:
            quantity = inputs.get(rule.quantity_fact) if rule.quantity_fact else None
        return None if quantity is None else band.rate * quantity
    assert band.ratio is not None  # a band pays exactly one of amount, rate, ratio
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
        payments: tuple[Payment, ...] = tuple(
            Payment(str(index), value) for index, value in enumerate(yearly, start=1)
        )
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
    payments = ()
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


def combine_amounts(amounts: list[Amount], group: CapGroup | None = None) -> Amount:
    """The amount of several items of one per-item benefit: each item is paid on its own, and the
    sum is held to the benefit's per-enterprise cap group (each item amount already is): per year,
    the items' payments of the same year are added before the limit applies."""
    combined = _combine_amounts(amounts)
    if group is None or len(amounts) == 1 or combined.value is None or combined.basis not in CAPPABLE:
        return apply_cap_group(combined, group)
    vectors = [yearly_values(amount) for amount in amounts]
    total = capped_sum(vectors, group)
    high = None if combined.high is None else capped_high(combined.high, max(map(len, vectors)), group)
    if total == combined.value and high == combined.high:
        return combined
    if total == combined.value:
        return replace(combined, high=high if high is not None and high > total else None)
    return replace(
        combined,
        value=total,
        basis=combined.basis if combined.basis is AmountBasis.UP_TO_CAP else AmountBasis.CAPPED,
        high=high if high is not None and high > total else None,
        group_capped=True,
    )


def known(value: Decimal | None) -> Decimal:
    """The value of an amount that is counted, or a ceiling: always stated."""
    assert value is not None
    return value


def _combine_amounts(amounts: list[Amount]) -> Amount:
    if len(amounts) == 1:
        return amounts[0]
    if all(amount.counted for amount in amounts):
        bases = {amount.basis for amount in amounts}
        total = sum((known(amount.value) for amount in amounts), ZERO)
        high = sum(
            (amount.high if amount.high is not None else known(amount.value) for amount in amounts), ZERO
        )
        basis = bases.pop() if len(bases) == 1 else AmountBasis.COMPUTED
        return Amount(total, basis, high=high if high > total else None)
    if all(amount.basis is AmountBasis.UP_TO_CAP for amount in amounts):
        return Amount(sum((known(amount.value) for amount in amounts), ZERO), AmountBasis.UP_TO_CAP)
    unknown = next(amount for amount in amounts if not amount.counted)
    return Amount(None, unknown.basis if unknown.value is None else AmountBasis.BASE_UNKNOWN)


# --- per-enterprise cap groups ("同一企业每年累计不超过X万元") -----------------------------------------------
#
# What falls due in each year: yearly payments by year; a one-time, staged or instalment award counts
# in the year it is granted (one evaluation date, one year). A group with period "year" caps each
# year's sum, "total" caps the whole sum.

CAPPABLE = COUNTED_BASES | {AmountBasis.UP_TO_CAP}


def yearly_values(amount: Amount) -> list[Decimal]:
    """What the amount pays in year 1, 2, … (its value in year 1 unless paid yearly)."""
    assert amount.value is not None
    if amount.years and amount.payments and not amount.by_stage:
        return [payment.value for payment in amount.payments]
    if amount.years and amount.per_year is not None:
        left, years = amount.value, []
        for _year in range(amount.years):  # a total cap may have cut the last years
            paid = min(amount.per_year, left)
            years.append(paid)
            left -= paid
        return years
    return [amount.value]


def capped_sum(vectors: list[list[Decimal]], group: CapGroup) -> Decimal:
    """The sum of several amounts' yearly values held to the group's limit."""
    if group.period == "total":
        return min(sum((sum(vector, ZERO) for vector in vectors), ZERO), group.limit).quantize(CENT)
    length = max((len(vector) for vector in vectors), default=0)
    by_year = [sum((vector[i] for vector in vectors if i < len(vector)), ZERO) for i in range(length)]
    return sum((min(value, group.limit) for value in by_year), ZERO).quantize(CENT)


def capped_high(highs: Decimal, years: int, group: CapGroup) -> Decimal:
    """A range's high end held to the group (per year: at most the limit in each year paid)."""
    return min(highs, group.limit * (years if group.period == "year" else 1))


def apply_cap_group(amount: Amount, group: CapGroup | None) -> Amount:
    """`amount` held to the group's limit; marked `group_capped` when the group cut it."""
    if group is None or amount.value is None or amount.basis not in CAPPABLE:
        return amount
    vector = yearly_values(amount)
    total = capped_sum([vector], group)
    high = None if amount.high is None else capped_high(amount.high, len(vector), group)
    if total == amount.value and high == amount.high:
        return amount
    if total == amount.value:  # only a range's high end was cut
        return replace(amount, high=high if high is not None and high > total else None)
    basis = amount.basis if amount.basis is AmountBasis.UP_TO_CAP else AmountBasis.CAPPED
    payments = amount.payments
    per_year = amount.per_year
    if amount.years and group.period == "year":
        capped = [min(value, group.limit) for value in vector]
        if amount.payments:
            payments = tuple(
                Payment(p.label, value) for p, value in zip(amount.payments, capped, strict=False)
            )
        per_year = capped[0] if per_year is not None else None
    elif payments:  # stages or shares of one sum: the same shares of the capped sum
        payments = tuple(
            Payment(p.label, _round(total * p.value / amount.value)) if amount.value else p for p in payments
        )
        per_year = min(per_year, total) if per_year is not None else None
    per_instalment = amount.per_instalment
    if per_instalment is not None and amount.value:
        per_instalment = _round(total * per_instalment / amount.value)
    return replace(
        amount,
        value=total,
        basis=basis,
        high=high if high is not None and high > total else None,
        per_year=per_year,
        payments=payments,
        per_instalment=per_instalment,
        group_capped=True,
    )
