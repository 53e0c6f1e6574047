"""An enterprise's best total: one benefit per stacking or exclusion group, never a double count.

Benefits that share a `stacking_group` cannot be collected together (tiers of one clause); benefits
that share a declared exclusion group cannot either, across documents ("已享受其他市级专项资金支持的
项目不再重复支持", "就高不重复"). A benefit may be in several groups: the best total takes benefits
from the most valuable down and skips one whose group is already taken. Only eligible and
pending-recognition verdicts count.

Money is counted honestly: `total` sums only figures the text fixes or the engine computed from the
enterprise's own facts (fixed, computed, capped, a range's low end); ceilings ("最高…", a cap with
nothing to compute it from) are summed apart in `ceiling_total`, never added into the headline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from matching.engine.amounts import AmountBasis
from matching.engine.verdict import Status, Verdict

COUNTED = (Status.ELIGIBLE, Status.PENDING_RECOGNITION)


@dataclass(frozen=True)
class Stack:
    total: Decimal  # computed money of the chosen verdicts (no ceilings)
    chosen: tuple[Verdict, ...]
    excluded: tuple[tuple[Verdict, Verdict], ...]  # (left out, because of the chosen one)
    has_unfixed: bool  # a chosen benefit has no figure: the total is a lower bound
    ceiling_total: Decimal = Decimal(0)  # the ceilings of chosen benefits that give only a cap (需认定)
    high_total: Decimal = Decimal(0)  # total with every range at its high end (= total without ranges)

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
    total = sum((v.amount.value for v in chosen if v.amount.counted), Decimal(0))
    high_total = sum(
        (v.amount.high if v.amount.high is not None else v.amount.value for v in chosen if v.amount.counted),
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
    return Stack(
        total=total,
        chosen=tuple(chosen),
        excluded=tuple(excluded),
        has_unfixed=any(v.amount.value is None for v in chosen),
        ceiling_total=ceilings,
        high_total=high_total,
    )


def _worth(verdict: Verdict) -> tuple[bool, bool, Decimal, bool]:
    """Highest counted figure wins, then the highest ceiling; a figure beats none; eligible beats
    pending at equal figures."""
    amount = verdict.amount
    value = amount.value
    return (amount.counted, value is not None, value or Decimal(0), verdict.status is Status.ELIGIBLE)
