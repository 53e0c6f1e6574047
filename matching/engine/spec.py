"""What the engine knows about one benefit, and whether it is in force on a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


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
    condition: Mapping[str, Any] | None = None
    version: int = 1
    # validity: the document's status and dates, narrowed by the benefit's own dates when stated
    doc_status: str = "in_force"  # draft | in_force | expired | superseded
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    # citation
    document_key: str = ""
    document_title: str = ""
    clause_number: str = ""
    clause_text: str = ""
    benefit_id: int | None = None  # the database row, when there is one


IN_FORCE = "in_force"
# Why a benefit is not in force on a date (the same words as PolicyDocument.validity_on).
NOT_IN_FORCE_REASONS = ("draft", "not_yet_effective", "expired", "superseded")


def validity_on(spec: BenefitSpec, as_of: dt.date) -> str:
    """ "in_force", or the reason it is not: draft, not_yet_effective, expired, superseded.

    A draft has no start date (自2024年XX月XX日起施行) and is never in force; an unknown start of an
    in-force document does not hold it back; an open end (null) never expires.
    """
    if spec.doc_status in ("draft", "superseded", "expired"):
        return spec.doc_status
    starts = [day for day in (spec.effective_from, spec.valid_from) if day is not None]
    ends = [day for day in (spec.effective_to, spec.valid_to) if day is not None]
    if starts and as_of < max(starts):
        return "not_yet_effective"
    if ends and as_of > min(ends):
        return "expired"
    return IN_FORCE
