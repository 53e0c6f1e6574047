"""An enterprise's best total: one benefit per stacking group, never a double count.

Benefits that share a stacking_group cannot be collected together (tiers of one clause, city and
district support for one project). Only eligible and pending-recognition verdicts count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from matching.engine.verdict import Status, Verdict

COUNTED = (Status.ELIGIBLE, Status.PENDING_RECOGNITION)


@dataclass(frozen=True)
class Stack:
    total: Decimal  # sum of the chosen verdicts' figures (ceilings included: "up to")
    chosen: tuple[Verdict, ...]
    excluded: tuple[tuple[Verdict, Verdict], ...]  # (left out, because of the chosen one)
    has_unfixed: bool  # a chosen benefit has no figure: the total is a lower bound


def best_total(verdicts: Iterable[Verdict]) -> Stack:
    chosen: list[Verdict] = []
    best_of_group: dict[str, Verdict] = {}
    losers: list[Verdict] = []
    for verdict in verdicts:
        if verdict.status not in COUNTED:
            continue
        group = verdict.spec.stacking_group
        if not group:
            chosen.append(verdict)
            continue
        current = best_of_group.get(group)
        if current is None or _worth(verdict) > _worth(current):
            if current is not None:
                losers.append(current)
            best_of_group[group] = verdict
        else:
            losers.append(verdict)
    chosen.extend(best_of_group.values())
    excluded = tuple((loser, best_of_group[loser.spec.stacking_group]) for loser in losers)
    total = sum((v.amount.value for v in chosen if v.amount.value is not None), Decimal(0))
    return Stack(total, tuple(chosen), excluded, any(v.amount.value is None for v in chosen))


def _worth(verdict: Verdict) -> tuple[bool, Decimal, bool]:
    """Highest figure wins; a figure beats none; eligible beats pending at equal figures."""
    value = verdict.amount.value
    return (value is not None, value or Decimal(0), verdict.status is Status.ELIGIBLE)
