"""Impact preview: what an edit to a benefit would do to every enterprise, before it is published.

A dry run: the stored benefit and the edited one (an unsaved Benefit) are evaluated set-wise on the
same facts, chunk by chunk; nothing is written. Publishing is policies.services.save_benefit, whose
save marks the benefit, and the background job then applies the change to every result.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from enterprises.facts import facts_table
from enterprises.models import Enterprise
from matching import selectors
from matching.engine import FactColumns, TableVerdicts, evaluate_table, facts_read
from matching.engine.verdict import Status
from matching.models import MatchStatus
from policies.models import Benefit

MET = (int(Status.ELIGIBLE), int(Status.PENDING_RECOGNITION))


@dataclass(frozen=True)
class Move:
    enterprise_id: int
    old_status: str
    new_status: str
    old_amount: Decimal | None
    new_amount: Decimal | None
    enterprise_name: str = ""

    @property
    def delta(self) -> Decimal:
        return (self.new_amount or Decimal(0)) - (self.old_amount or Decimal(0))

    @property
    def old_label(self) -> str:
        return MatchStatus(self.old_status).label

    @property
    def new_label(self) -> str:
        return MatchStatus(self.new_status).label


@dataclass
class Impact:
    """Who gains, who loses, how amounts move (lists capped at `limit`, counts complete)."""

    benefit_id: int
    as_of: dt.date
    enterprises: int = 0
    gained: int = 0
    lost: int = 0
    amount_up: int = 0
    amount_down: int = 0
    old_total: Decimal = Decimal(0)  # sum of the figures of eligible and pending enterprises
    new_total: Decimal = Decimal(0)
    transitions: Counter = field(default_factory=Counter)  # (old status, new status) -> count, changes only
    gains: list[Move] = field(default_factory=list)
    losses: list[Move] = field(default_factory=list)
    amount_moves: list[Move] = field(default_factory=list)

    @property
    def transition_rows(self) -> list[tuple[str, str, int]]:
        """(old label, new label, count), most frequent first (for the page)."""
        return [
            (MatchStatus(old).label, MatchStatus(new).label, count)
            for (old, new), count in self.transitions.most_common()
        ]


def preview_benefit_change(
    *, edited: Benefit, as_of: dt.date, chunk_size: int = 5000, limit: int = 100
) -> Impact:
    """Compare the stored benefit with `edited` (same pk, unsaved, validated by the caller) for
    every enterprise on `as_of`."""
    current = selectors.benefit_specs([edited.pk])[0]
    proposed = selectors.spec_for(edited)
    catalog = selectors.catalog()
    codes = facts_read([current, proposed], catalog)
    impact = Impact(benefit_id=edited.pk, as_of=as_of)
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        table = facts_table(chunk, as_of, codes)  # ids: a chunk is read as an id range
        columns = FactColumns(table.columns, len(table.enterprise_ids), catalog, table.items)
        before = evaluate_table(current, columns, as_of)
        after = evaluate_table(proposed, columns, as_of)
        _compare(impact, table.enterprise_ids, before, after, limit)
    names = dict(
        Enterprise.objects.filter(
            pk__in=[m.enterprise_id for m in (*impact.gains, *impact.losses, *impact.amount_moves)]
        ).values_list("pk", "name")
    )
    for moves in (impact.gains, impact.losses, impact.amount_moves):
        moves[:] = [Move(**{**m.__dict__, "enterprise_name": names.get(m.enterprise_id, "")}) for m in moves]
    impact.amount_moves.sort(key=lambda move: -abs(move.delta))
    del impact.amount_moves[limit:]
    return impact


def _amounts(verdicts: TableVerdicts) -> list[Decimal | None]:
    values = [amount.value for amount in verdicts.amount_table]
    return [values[code] for code in verdicts.amount_codes.tolist()]


def _compare(impact: Impact, ids: list[int], before: TableVerdicts, after: TableVerdicts, limit: int) -> None:
    impact.enterprises += len(ids)
    old_met, new_met = np.isin(before.status, MET), np.isin(after.status, MET)
    old_amounts, new_amounts = _amounts(before), _amounts(after)
    old_slugs, new_slugs = before.status_slugs(), after.status_slugs()
    for row in np.nonzero(old_met)[0].tolist():
        impact.old_total += old_amounts[row] or 0
    for row in np.nonzero(new_met)[0].tolist():
        impact.new_total += new_amounts[row] or 0
    differs = (before.status != after.status) | np.array(
        [a != b for a, b in zip(old_amounts, new_amounts, strict=True)], dtype=bool
    )
    for row in np.nonzero(differs)[0].tolist():
        move = Move(ids[row], old_slugs[row], new_slugs[row], old_amounts[row], new_amounts[row])
        if move.old_status != move.new_status:
            impact.transitions[(move.old_status, move.new_status)] += 1
        if new_met[row] and not old_met[row]:
            impact.gained += 1
            if len(impact.gains) < limit:
                impact.gains.append(move)
        elif old_met[row] and not new_met[row]:
            impact.lost += 1
            if len(impact.losses) < limit:
                impact.losses.append(move)
        elif move.old_amount != move.new_amount and (old_met[row] or new_met[row]):
            if move.delta > 0:
                impact.amount_up += 1
            else:
                impact.amount_down += 1
            if len(impact.amount_moves) < limit * 10:  # sorted by size at the end, then cut
                impact.amount_moves.append(move)
