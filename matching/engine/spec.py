"""What the engine knows about one benefit, and whether it is in force on a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from policies.amount_rules import AmountRuleSpec, dated_epoch


@dataclass(frozen=True)
class BenefitSpec:
    """One benefit with its clause and document, as plain data (built by matching/selectors.py
    from the ORM, or by matching/scenarios.py straight from the fixture files)."""

    global_key: str  # f"{document.key}/{clause.number}/{benefit.key}"
    name: str
    kind: str  # lump_sum | ratio | matching | rent | interest | guarantee_fee | voucher | non_monetary
    cap: Decimal | None = None
    amount: Decimal | None = None
    ratio: Decimal | None = None
    base_fact: str | None = None
    instalments: int | None = None
    recurrence: str = "one_time"
    requires_recognition: bool = False
    recognition_phrase: str = ""
    amount_quote: str = ""
    stacking_group: str | None = None
    condition: Mapping[str, Any] | None = None  # the benefit's own condition, with the document's
    # applicability (evaluated first) as the first child of an `all` when the document has one
    applicability: Mapping[str, Any] | None = None  # the document's (the start of `condition`): an
    # enterprise it rules out is out of scope — one uniform verdict, not stored (matching/storage.py)
    amount_rule: AmountRuleSpec | None = None  # per-unit rates, ranges, tiers, caps, schedules, dated values
    exclusion_groups: tuple[str, ...] = ()  # declared groups (any document) it shares with others
    per_item: str | None = None  # an item kind: evaluated once per item of the enterprise, paid per item
    version: int = 1
    # validity: the document's status and dates, narrowed by the benefit's own dates when stated
    doc_status: str = "in_force"  # draft | in_force | expired | superseded
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    superseded_from: dt.date | None = None  # the effective date of a document that replaces this one
    # citation
    document_key: str = ""
    document_title: str = ""
    clause_number: str = ""
    clause_text: str = ""
    benefit_id: int | None = None  # the database row, when there is one

    @property
    def row_id(self) -> int:
        """benefit_id of a spec read from the database (an unsaved benefit's spec, as the impact
        preview builds, has none: asking for it is a programming error)."""
        if self.benefit_id is None:
            raise ValueError(f"{self.global_key} is not a stored benefit")
        return self.benefit_id


IN_FORCE = "in_force"
# Why a benefit is not in force on a date (the same words as PolicyDocument.validity_on).
NOT_IN_FORCE_REASONS = ("draft", "not_yet_effective", "expired", "superseded")


def validity_on(spec: BenefitSpec, as_of: dt.date) -> str:
    """ "in_force", or the reason it is not: draft, not_yet_effective, expired, superseded.

    The same rule as policies.models.Benefit.validity_on (a test holds them together): a draft or a
    superseded text is never in force; otherwise known dates decide (an expired plan was in force
    within its period; an unknown start does not hold a text back, an open end never expires), and
    an expired text without an end date is expired on every date. The benefit's own dates narrow
    the document's.
    """
    if spec.doc_status in ("draft", "superseded"):
        return spec.doc_status
    if spec.superseded_from is not None and as_of >= spec.superseded_from:
        return "superseded"
    if spec.effective_from is not None and as_of < spec.effective_from:
        return "not_yet_effective"
    if spec.effective_to is not None and as_of > spec.effective_to:
        return "expired"
    if spec.doc_status == "expired" and spec.effective_to is None:
        return "expired"
    if spec.valid_from is not None and as_of < spec.valid_from:
        return "not_yet_effective"
    if spec.valid_to is not None and as_of > spec.valid_to:
        return "expired"
    return IN_FORCE


def validity_key(spec: BenefitSpec, as_of: dt.date) -> str:
    """What of the date a verdict depends on: its validity, and which dated values are in force
    (a cap corrected from a date changes the answer on that date). Fingerprints fold it in."""
    validity = validity_on(spec, as_of)
    epoch = dated_epoch(spec.amount_rule, as_of)
    return f"{validity}#{epoch}" if epoch else validity
