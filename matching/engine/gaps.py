"""Gap analysis: what to ask for, what is missing to qualify, and what a bigger base would pay."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from matching.engine.amounts import AmountBasis, depends_on_base, potential_amount, upper_bound
from matching.engine.i18n import gettext
from matching.engine.render import SYMBOLS, label, scalar_text
from matching.engine.spec import BenefitSpec
from matching.engine.values import Catalog, FactInfo, Kind
from matching.engine.verdict import Reason, Status, Verdict
from policies import money
from policies.money import wan


@dataclass(frozen=True)
class MissingFact:
    code: str
    info: FactInfo = field(repr=False, compare=False)
    benefits: tuple[str, ...]  # global keys of the needs-info benefits it could settle
    could_unlock: Decimal | None  # sum of those benefits' estimates or caps; None: no figure known

    @property
    def label(self) -> str:
        """The fact's name in the reader's language."""
        return label(self.info)


def rank_missing_facts(verdicts: Iterable[Verdict], catalog: Catalog) -> list[MissingFact]:
    """Missing facts of one enterprise, the money they could unlock first (then how many benefits)."""
    benefits: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        for code in verdict.missing_facts:
            benefits.setdefault(code, []).append(verdict)
    ranked = []
    for code, needing in benefits.items():
        bounds = [bound for v in needing if (bound := upper_bound(v.spec, v.potential)) is not None]
        ranked.append(
            MissingFact(
                code=code,
                info=catalog[code],
                benefits=tuple(v.spec.global_key for v in needing),
                could_unlock=sum(bounds, Decimal(0)) if bounds else None,
            )
        )
    ranked.sort(key=lambda m: (m.could_unlock is None, -(m.could_unlock or 0), -len(m.benefits), m.code))
    return ranked


@dataclass(frozen=True)
class Gap:
    """An unmet condition of a not-eligible verdict, and how far the enterprise is from it."""

    reason: Reason
    shortfall: Decimal | None  # how much the value must move (days for dates); None: not a threshold
    relative: float | None  # shortfall / |threshold|, for "nearest first"
    target: tuple[str, Decimal | dt.date] | None = None  # (symbol, threshold) of an ordered comparison

    @property
    def text(self) -> str:
        """ "新租赁自用工业厂房面积 4800 平方米，需 ≥ 5000 平方米", worded when read."""
        reason = self.reason
        if self.target is None:
            return gettext("%(requirement)s（当前：%(value)s）") % {
                "requirement": reason.requirement,
                "value": reason.value_text,
            }
        symbol, threshold = self.target
        return gettext("%(name)s %(value)s，需 %(symbol)s %(threshold)s") % {
            "name": reason.label,
            "value": reason.value_text,
            "symbol": symbol,
            "threshold": scalar_text(reason.info, threshold),
        }


def nearest_gaps(verdict: Verdict, catalog: Catalog) -> list[Gap]:
    """The unmet conditions, thresholds nearest to being reached first."""
    gaps = [_gap(reason) for reason in verdict.unmet]
    return sorted(gaps, key=lambda g: (g.relative is None, g.relative or 0.0))


def _gap(reason: Reason) -> Gap:
    leaf = reason.leaf
    target = _threshold(leaf.op, leaf.value, reason.value) if leaf.kind in (Kind.NUMBER, Kind.DATE) else None
    if target is None:
        return Gap(reason, None, None)
    _symbol, threshold = target
    if leaf.kind is Kind.DATE:
        shortfall = Decimal(abs((threshold - reason.value).days))
        scale = 1.0
    else:
        assert isinstance(threshold, Decimal)  # a number's constant is normalised to Decimal
        shortfall = abs(threshold - reason.value)
        scale = float(abs(threshold)) or 1.0
    return Gap(reason, shortfall, float(shortfall) / scale, target)


def _threshold(op: str, constant: Any, value: Any) -> tuple[str, Decimal | dt.date] | None:
    """The bound an unmet ordered comparison asks for: (symbol, threshold)."""
    if op in ("lt", "lte", "gt", "gte", "eq"):
        return SYMBOLS[op], constant
    if op == "between":
        low, high = constant
        return ("≥", low) if value < low else ("≤", high)
    return None


@dataclass(frozen=True)
class WhatIf:
    base_fact: str
    increase: Decimal
    amount_now: Decimal
    amount_after: Decimal
    gain: Decimal
    base_at_cap: Decimal | None  # the base at which the cap is reached; None: no cap
    info: FactInfo = field(repr=False, compare=False)  # the base fact's catalog entry
    cap: Decimal | None = None
    capped: bool = False  # the amount is at the cap already

    @property
    def text(self) -> str:
        """ "新增设备投资额再增加 1000 万元 → 支持金额增加 100 万元，至上限 2000 万元…", worded when read."""
        name = label(self.info)
        if self.capped:
            return gettext("已达上限 %(cap)s，%(name)s再增加也不会提高支持金额") % {
                "cap": wan(self.cap),
                "name": name,
            }
        text = gettext("%(name)s再增加 %(increase)s → 支持金额增加 %(gain)s") % {
            "name": name,
            "increase": scalar_text(self.info, self.increase),
            "gain": wan(self.gain),
        }
        if self.base_at_cap is not None:
            text += gettext("，至上限 %(cap)s（%(name)s达到 %(base)s 时封顶）") % {
                "cap": wan(self.cap),
                "name": name,
                "base": scalar_text(self.info, self.base_at_cap),
            }
        return text


def what_if(verdict: Verdict, catalog: Catalog, increase: Decimal | None = None) -> WhatIf | None:
    """For a ratio benefit with a known base: the amount if the base grows by `increase`
    (default: a round step of the base's order of magnitude), and where the cap is reached."""
    spec, base = verdict.spec, verdict.base_value
    if (
        not depends_on_base(spec)
        or base is None
        or verdict.status not in (Status.ELIGIBLE, Status.PENDING_RECOGNITION)
    ):
        return None
    assert spec.base_fact is not None  # depends_on_base
    increase = Decimal(increase) if increase is not None else _round_step(base, spec)
    now = verdict.potential
    after = potential_amount(spec, {spec.base_fact: base + increase}, verdict.as_of)
    if now.value is None or after.value is None:
        return None  # the amount reads another fact too (a cap as a ratio of another base)
    base_at_cap = (spec.cap / spec.ratio) if spec.cap is not None and spec.ratio else None
    return WhatIf(
        base_fact=spec.base_fact,
        increase=increase,
        amount_now=now.value,
        amount_after=after.value,
        gain=after.value - now.value,
        base_at_cap=base_at_cap,
        info=catalog[spec.base_fact],
        cap=spec.cap,
        capped=now.basis is AmountBasis.CAPPED,
    )


def _round_step(base: Decimal, spec: BenefitSpec) -> Decimal:
    """10^⌊log10(base)⌋: 5000 万元 → 1000 万元; for a zero base a tenth of the base at the cap."""
    reference = (
        base if base > 0 else (spec.cap / spec.ratio / 10 if spec.cap and spec.ratio else money.TEN_THOUSAND)
    )
    return Decimal(10) ** math.floor(math.log10(max(reference, Decimal(1))))
