"""The shapes an amount can take beyond a cap, a fixed sum and one ratio: one definition, pure.

A benefit's `amount_rule` (JSON) holds what the simple columns (cap, amount, ratio, base_fact,
instalments) cannot say:

- a per-unit rate × a quantity fact, with its unit: 0.1元/千瓦时, 600元/千瓦 (no upper bound on the rate);
- a ratio range "按5%—20%给予": the estimate is a range, never the top alone;
- tiers (bands) over a fact, each paying a fixed sum, a rate or a ratio; or marginal bands
  ("超出X的部分按Y%");
- further caps: a ratio of another fact ("且不超过投资额的30%"), per year, in total;
- a payment schedule: yearly for N years (rates declining by year: 80% then 50%), until a stop
  condition, unequal instalments (5/3/2), stages (30/30/40, "分两次各50%拨付");
- dated values: cap, amount, ratio or rate in force from a date (as OpenFisca parameters are).

The loader validates the fixture's flat keys with `AmountRuleSpec`, the engine reads the same model
(matching/engine/amounts.py). Facts are checked against the catalog by `catalog_problems`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from policies.rules.caps import CapGroup
from policies.rules.caps import cap_group_note as _cap_group_note
from policies.rules.caps import cap_group_text as _cap_group_text

NUMERIC_FACT_TYPES = ("int", "decimal", "money")
DATED_FIELDS = ("cap", "amount", "ratio", "rate", "cap_per_year", "cap_total")
ONE = Decimal(1)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DatedValue(_Frozen):
    """A value in force from `from_` on (until the next entry); null ends it ("no longer stated")."""

    from_: datetime.date = Field(alias="from")
    value: Decimal | None = Field(default=None, ge=0)
    quote: str = Field(min_length=1)


class Band(_Frozen):
    """One tier: `from_` inclusive, `to` exclusive (null: open); pays exactly one of amount / rate / ratio."""

    from_: Decimal | None = Field(default=None, alias="from")
    to: Decimal | None = None
    amount: Decimal | None = Field(default=None, ge=0)
    rate: Decimal | None = Field(default=None, ge=0)
    ratio: Decimal | None = Field(default=None, ge=0, le=10)
    quote: str = Field(min_length=1)

    @model_validator(mode="after")
    def _one_payout(self) -> Band:
        given = [name for name in ("amount", "rate", "ratio") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"a band pays exactly one of amount, rate, ratio (got {given or 'none'})")
        if self.from_ is not None and self.to is not None and self.from_ >= self.to:
            raise ValueError(f"band from {self.from_} is not below to {self.to}")
        return self


class Stage(_Frozen):
    share: Decimal = Field(gt=0, le=1)
    after: str = Field(min_length=1)  # when it is paid: 签订合同后 / 验收通过后 (the text's words)


class Schedule(_Frozen):
    """How the amount is paid over time. `years`: paid every year for N years (the computed figure is
    per year); `year_factors`: the share of the full rate paid in each year (80% then 50%);
    `shares`: one sum split unequally over the years (5/3/2 → 0.5, 0.3, 0.2); `stages`: one sum in
    stages tied to events; `until`: the stop condition's words (满6050小时或5年，以先到者为准), so N
    years is a maximum; `outlasts_document`: payments granted continue after the text expires."""

    years: int | None = Field(default=None, ge=1)
    year_factors: tuple[Decimal, ...] | None = None
    shares: tuple[Decimal, ...] | None = None
    stages: tuple[Stage, ...] | None = None
    until: str | None = None
    outlasts_document: bool = False
    quote: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Schedule:
        if self.year_factors is not None:
            if self.years is None or len(self.year_factors) != self.years:
                raise ValueError("year_factors needs years and one factor per year")
            if any(factor < 0 for factor in self.year_factors):
                raise ValueError("year_factors cannot be negative")
        if self.shares is not None:
            if sum(self.shares) != ONE:
                raise ValueError(f"shares add up to {sum(self.shares)}, not 1 (100%)")
            if self.years is not None and len(self.shares) != self.years:
                raise ValueError("shares need one share per year")
        if self.stages is not None and sum(stage.share for stage in self.stages) != ONE:
            raise ValueError(f"stages add up to {sum(stage.share for stage in self.stages)}, not 1 (100%)")
        if self.shares is not None and self.stages is not None:
            raise ValueError("give shares (by year) or stages (by event), not both")
        if self.until is not None and self.years is None:
            raise ValueError("until (a stop condition) needs years as the longest period")
        return self


class AmountRuleSpec(_Frozen):
    """The extended amount of one benefit (every key optional)."""

    rate: Decimal | None = Field(default=None, ge=0)
    unit: str | None = None  # 元/千瓦时, 元/千瓦, 元/亩, 元/平方米, 元/人, 元/吨, 元/月
    quantity_fact: str | None = None
    ratio_range: tuple[Decimal, Decimal] | None = None
    tiers: tuple[Band, ...] | None = None
    tier_fact: str | None = None
    tiers_marginal: bool = False  # 超出X的部分按Y%: each band pays on the part of the fact inside it
    cap_ratio: Decimal | None = Field(default=None, ge=0, le=10)  # 且不超过投资额的30%
    cap_base_fact: str | None = None
    cap_per_year: Decimal | None = Field(default=None, ge=0)
    cap_total: Decimal | None = Field(default=None, ge=0)
    schedule: Schedule | None = None
    cap_group: CapGroup | None = None  # a per-enterprise cap shared with other benefits of the document
    dated: Mapping[Literal[DATED_FIELDS], tuple[DatedValue, ...]] = Field(default_factory=dict)  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _consistent(self) -> AmountRuleSpec:
        if self.rate is not None and not (self.unit and self.quantity_fact):
            raise ValueError("a per-unit rate needs its unit and quantity_fact")
        if self.unit and self.rate is None and not self.tiers and "rate" not in self.dated:
            raise ValueError("unit is given without a rate")
        if self.ratio_range is not None and self.ratio_range[0] > self.ratio_range[1]:
            raise ValueError(f"ratio_range low {self.ratio_range[0]} is above high {self.ratio_range[1]}")
        if self.ratio_range is not None and self.ratio_range[1] > 10:
            raise ValueError("ratio_range is a fraction (10% → 0.10)")
        if self.tiers is not None:
            if not self.tiers:
                raise ValueError("tiers is an empty list")
            if not self.tier_fact:
                raise ValueError("tiers need tier_fact (the fact the bands are read on)")
            if any(band.rate is not None for band in self.tiers) and not (self.quantity_fact and self.unit):
                raise ValueError("a band paying a rate needs quantity_fact and unit")
            ordered = [band.from_ for band in self.tiers]
            if any(
                a is not None and b is not None and a > b for a, b in zip(ordered, ordered[1:], strict=False)
            ):
                raise ValueError("tiers must be listed from the lowest band up")
        elif self.tier_fact or self.tiers_marginal:
            raise ValueError("tier_fact / tiers_marginal without tiers")
        if (self.cap_ratio is None) != (self.cap_base_fact is None):
            raise ValueError("cap_ratio and cap_base_fact go together")
        for name, values in self.dated.items():
            dates = [entry.from_ for entry in values]
            if not values or dates != sorted(set(dates)):
                raise ValueError(f"dated {name}: give entries in date order, one per date")
        return self

    @property
    def fact_codes(self) -> set[str]:
        return {code for code in (self.quantity_fact, self.tier_fact, self.cap_base_fact) if code}

    def quotes(self) -> list[tuple[str, str]]:
        """(where, words) of every quote, for the loader's check against the clause text."""
        found: list[tuple[str, str]] = []
        for index, band in enumerate(self.tiers or ()):
            found.append((f"tiers[{index}].quote", band.quote))
        if self.schedule is not None:
            found.append(("schedule.quote", self.schedule.quote))
            if self.schedule.until:
                found.append(("schedule.until", self.schedule.until))
            for index, stage in enumerate(self.schedule.stages or ()):
                found.append((f"schedule.stages[{index}].after", stage.after))
        for name, values in self.dated.items():
            for index, entry in enumerate(values):
                found.append((f"{name}[{index}].quote", entry.quote))
        return found


# Keys of a fixture benefit that belong to the amount rule (flat in YAML, one JSON field in the database).
RULE_KEYS = tuple(name for name in AmountRuleSpec.model_fields if name != "dated")


def parse(data: Mapping[str, Any] | None) -> AmountRuleSpec | None:
    """The stored JSON (or None / {}) as the model; raises pydantic's ValidationError when malformed."""
    if not data:
        return None
    return AmountRuleSpec.model_validate(data)


def to_json(rule: AmountRuleSpec | None) -> dict:
    """JSON for the database: dates as ISO strings, decimals as strings, defaults left out."""
    if rule is None:
        return {}
    return rule.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def catalog_problems(rule: AmountRuleSpec, catalog: Mapping[str, Any]) -> list[str]:
    """Facts the rule names that the catalog lacks or that are not numbers."""
    problems = []
    for field in ("quantity_fact", "tier_fact", "cap_base_fact"):
        code = getattr(rule, field)
        if not code:
            continue
        fact = catalog.get(code)
        if fact is None:
            problems.append(f"{field}: unknown fact {code} (not in the fact catalog)")
        elif fact.type not in NUMERIC_FACT_TYPES:
            problems.append(f"{field}: {code} must be a numeric fact, it is {fact.type}")
    return problems


def value_on(
    rule: AmountRuleSpec | None, name: str, default: Decimal | None, as_of: datetime.date
) -> Decimal | None:
    """The value of `name` in force on `as_of`: the latest dated entry on or before it, else `default`
    (the plain column) when no entry has started yet."""
    if rule is None or name not in rule.dated:
        return default
    current = default
    for entry in rule.dated[name]:
        if entry.from_ <= as_of:
            current = entry.value
    return current


def dated_epoch(rule: AmountRuleSpec | None, as_of: datetime.date) -> int:
    """How many dated entries have started by `as_of`: results must be recomputed when it moves."""
    if rule is None:
        return 0
    return sum(1 for values in rule.dated.values() for entry in values if entry.from_ <= as_of)


def cap_group_text(group: CapGroup) -> str:
    """ "同一企业每年累计不超过 100 万元" / "同一企业累计不超过 3000 万元" (policies.rules.caps)."""
    return _cap_group_text(group.period, group.limit)


def cap_group_note(group: CapGroup) -> str:
    """ "同一企业每年累计不超过 100 万元，已按上限计" (policies.rules.caps)."""
    return _cap_group_note(group.period, group.limit)


def describe(rule: AmountRuleSpec | None) -> list[str]:
    """The rule's terms beyond the plain columns, worded for people in the reader's language:
    "0.1元/千瓦时", "按 5%—20% 给予", "每年最高 100 万元", "连续 5 年（满6050小时或5年，以先到者为准）",
    "分阶段拨付：签约后 30%、开工后 30%、投产后 40%"."""
    from django.utils.translation import gettext as _

    from policies.money import wan
    from policies.rules import display_lang, unit_text
    from policies.rules import plain_number as format_number

    if rule is None:
        return []
    sep = ", " if display_lang() == "en" else "、"

    def percent(value: Decimal) -> str:
        return f"{format_number(value * 100)}%"

    terms: list[str] = []
    if rule.rate is not None:
        terms.append(f"{format_number(rule.rate)}{unit_text(rule.unit or '')}")
    if rule.ratio_range is not None:
        terms.append(
            _("按 %(low)s—%(high)s 给予")
            % {"low": percent(rule.ratio_range[0]), "high": percent(rule.ratio_range[1])}
        )
    if rule.tiers:
        terms.append(_("按 %(n)s 档分档计算") % {"n": len(rule.tiers)})
    if rule.cap_ratio is not None:
        terms.append(_("且不超过计算基数的 %(ratio)s") % {"ratio": percent(rule.cap_ratio)})
    if rule.cap_per_year is not None:
        terms.append(_("每年最高 %(cap)s") % {"cap": wan(rule.cap_per_year)})
    if rule.cap_total is not None:
        terms.append(_("累计最高 %(cap)s") % {"cap": wan(rule.cap_total)})
    if rule.cap_group is not None:
        terms.append(cap_group_text(rule.cap_group))
    schedule = rule.schedule
    if schedule is not None:
        if schedule.years:
            text = _("连续 %(n)s 年") % {"n": schedule.years}
            if schedule.until:
                text += _("（%(until)s）") % {"until": schedule.until}
            terms.append(text)
        if schedule.year_factors:
            terms.append(
                _("各年按 %(factors)s 拨付")
                % {"factors": sep.join(percent(f) for f in schedule.year_factors)}
            )
        if schedule.shares:
            terms.append(
                _("分年拨付 %(shares)s") % {"shares": sep.join(percent(share) for share in schedule.shares)}
            )
        if schedule.stages:
            stages = sep.join(f"{stage.after} {percent(stage.share)}" for stage in schedule.stages)
            terms.append(_("分阶段拨付：%(stages)s") % {"stages": stages})
        if schedule.outlasts_document:
            terms.append(_("已确定的拨付在政策到期后继续"))
    if rule.dated:
        terms.append(_("金额按日期调整（见原文）"))
    return terms
