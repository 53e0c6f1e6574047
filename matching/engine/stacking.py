"""An enterprise's best total: one benefit per stacking or exclusion group, never a double count.

Benefits that share a `stacking_group` cannot be collected together (tiers of one clause); benefits
that share a declared exclusion group cannot either, across documents ("已享受其他市级专项资金支持的
项目不再重复支持", "就高不重复"). A benefit may be in several groups: the best total takes benefits
from the most valuable down and skips one whose group is already taken. Only eligible and
pending-recognition verdicts count.

Money is counted honestly: `total` sums only figures the text fixes or the engine computed from the
enterprise's own facts (fixed, computed, capped, a range's low end); ceilings ("最高…", a cap with
nothing to compute it from) are summed apart in `ceiling_total`, never added into the headline.

A per-enterprise cap group ("同一企业每年累计不超过X万元", declared in the document's `cap_groups`)
holds the chosen benefits that name it to its limit together: each benefit's amount already is
(engine amounts, both paths); here their sum is, per year or in total, and `capped` says which
group cut the total and by how much.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from matching.engine.amounts import AmountBasis, cap_group_of, capped_high, capped_sum, known, yearly_values
from matching.engine.verdict import Status, Verdict
from policies.amount_rules import CapGroup, cap_group_note

COUNTED = (Status.ELIGIBLE, Status.PENDING_RECOGNITION)


@dataclass(frozen=True)
class GroupCap:
    """A cap group that cut the chosen benefits' sum: `before` the sum, `after` the sum held to it."""

    group: CapGroup
    before: Decimal
    after: Decimal
    members: tuple[Verdict, ...]

    @property
    def note(self) -> str:
        """ "同一企业每年累计不超过 100 万元，已按上限计" (in the reader's language)."""
        return cap_group_note(self.group)


@dataclass(frozen=True)
class Stack:
    total: Decimal  # computed money of the chosen verdicts (no ceilings)
    chosen: tuple[Verdict, ...]
    excluded: tuple[tuple[Verdict, Verdict], ...]  # (left out, because of the chosen one)
    has_unfixed: bool  # a chosen benefit has no figure: the total is a lower bound
    ceiling_total: Decimal = Decimal(0)  # the ceilings of chosen benefits that give only a cap (需认定)
    high_total: Decimal = Decimal(0)  # total with every range at its high end (= total without ranges)
    capped: tuple[GroupCap, ...] = ()  # cap groups that held the total down

    @property
    def has_range(self) -> bool:
        return self.high_total > self.total


def groups_of(verdict: Verdict) -> tuple[str, ...]:
    spec = verdict.spec
    return ((f"stacking:{spec.stacking_group}",) if spec.stacking_group else ()) + tuple(
        f"exclusion:{key}" for key in spec.exclusion_groups
    )


def best_total(verdicts: Iterable[Verdict]) -> Stack:
    counted = [verdict for verdict in verdicts if verdict.status in COUNTED]
    chosen: list[Verdict] = []
    taken: dict[str, Verdict] = {}
    excluded: list[tuple[Verdict, Verdict]] = []
    # Most valuable first; a stable sort keeps the given order among equals.
    for verdict in sorted(counted, key=_worth, reverse=True):
        groups = groups_of(verdict)
        winner = next((taken[group] for group in groups if group in taken), None)
        if winner is not None:
            excluded.append((verdict, winner))
            continue
        chosen.append(verdict)
        for group in groups:
            taken[group] = verdict
    order = {id(verdict): index for index, verdict in enumerate(counted)}
    chosen.sort(key=lambda verdict: order[id(verdict)])
    total = sum((known(v.amount.value) for v in chosen if v.amount.counted), Decimal(0))
    high_total = sum(
        (
            v.amount.high if v.amount.high is not None else known(v.amount.value)
            for v in chosen
            if v.amount.counted
        ),
        Decimal(0),
    )
    ceilings = sum(
        (
            v.amount.value
            for v in chosen
            if v.amount.basis is AmountBasis.UP_TO_CAP and v.amount.value is not None
        ),
        Decimal(0),
    )
    capped: list[GroupCap] = []
    for cap_group, members in _cap_groups(chosen):
        before = sum((known(v.amount.value) for v in members), Decimal(0))
        after = capped_sum([yearly_values(v.amount) for v in members], cap_group)
        highs = sum(
            (v.amount.high if v.amount.high is not None else known(v.amount.value) for v in members),
            Decimal(0),
        )
        years = max(len(yearly_values(v.amount)) for v in members)
        if any(v.amount.high is not None for v in members):
            high_total -= highs - max(capped_high(highs, years, cap_group), after)
        else:
            high_total -= before - after
        if after < before:
            total -= before - after
            capped.append(GroupCap(cap_group, before, after, tuple(members)))
    return Stack(
        total=total,
        chosen=tuple(chosen),
        excluded=tuple(excluded),
        has_unfixed=any(v.amount.value is None for v in chosen),
        ceiling_total=ceilings,
        high_total=high_total,
        capped=tuple(capped),
    )


def _cap_groups(chosen: list[Verdict]) -> list[tuple[CapGroup, list[Verdict]]]:
    """The chosen counted benefits by the cap group they name (in order of first appearance)."""
    found: dict[str, tuple[CapGroup, list[Verdict]]] = {}
    for verdict in chosen:
        group = cap_group_of(verdict.spec)
        if group is not None and verdict.amount.counted:
            found.setdefault(f"{verdict.spec.document_key}/{group.key}", (group, []))[1].append(verdict)
    return list(found.values())


def _worth(verdict: Verdict) -> tuple[bool, bool, Decimal, bool]:
    """Highest counted figure wins, then the highest ceiling; a figure beats none; eligible beats
    pending at equal figures."""
    amount = verdict.amount
    value = amount.value
    return (amount.counted, value is not None, value or Decimal(0), verdict.status is Status.ELIGIBLE)
