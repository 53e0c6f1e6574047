"""The engine's explanation frozen as JSON when an enterprise submits, and its comparison with the
explanation of today (the review page shows both side by side, differences highlighted)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from enterprises.facts import FactSheet
from enterprises.models import Enterprise
from enterprises.presentation import wan_yuan
from matching.engine import ENGINE_VERSION, STATUS_LABELS_ZH, Verdict
from matching.engine.render import source_text, value_text

OUTCOME_SLUGS = {0: "unmet", 1: "unknown", 2: "met"}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def snapshot_of(verdict: Verdict) -> dict[str, Any]:
    """A JSON-safe copy of what the engine said: status, amount, each condition with its citation."""
    spec = verdict.spec
    return {
        "as_of": verdict.as_of.isoformat(),
        "benefit_version": spec.version,
        "engine_version": ENGINE_VERSION,
        "status": verdict.status.slug,
        "status_label": STATUS_LABELS_ZH[verdict.status],
        "validity": verdict.validity,
        "score": verdict.score,
        "amount": _money(verdict.amount.value),
        "amount_basis": verdict.amount.basis.value,
        "per_instalment": _money(verdict.amount.per_instalment),
        "amount_citation": {
            "document_title": spec.document_title,
            "clause_number": spec.clause_number,
            "quote": spec.amount_quote,
        },
        "reasons": [
            {
                "fact": reason.fact,
                "label": reason.label,
                "requirement": reason.requirement,
                "value_text": reason.value_text,
                "source": reason.source,
                "source_text": reason.source_text,
                "outcome": OUTCOME_SLUGS[int(reason.outcome)],
                "quote": reason.citation.quote,
                "document_title": reason.citation.document_title,
                "clause_number": reason.citation.clause_number,
            }
            for reason in verdict.reasons
        ],
        "missing_facts": list(verdict.missing_facts),
    }


def facts_snapshot(
    enterprise: Enterprise, sheet: FactSheet, verdict: Verdict, catalog: Mapping[str, Any]
) -> dict[str, Any]:
    """The enterprise's identity and the facts this benefit reads (condition and ratio base)."""
    codes = list(dict.fromkeys([reason.fact for reason in verdict.reasons] + [verdict.spec.base_fact or ""]))
    facts = []
    for code in codes:
        if not code or code not in catalog:
            continue
        value = sheet.values.get(code)
        source = sheet.sources.get(code, "") if value is not None else ""
        facts.append(
            {
                "code": code,
                "label": catalog[code].label_zh,
                "value_text": value_text(catalog[code], value),
                "source": source,
                "source_text": source_text(source),
            }
        )
    return {
        "enterprise": {
            "name": enterprise.name,
            "credit_code": enterprise.credit_code,
            "district": enterprise.district,
            "industry_code": enterprise.industry_code,
        },
        "facts": facts,
    }


def amount_text(snapshot: Mapping[str, Any]) -> str:
    amount = snapshot.get("amount")
    return str(wan_yuan(Decimal(amount))) if amount is not None else "—"


@dataclass(frozen=True)
class ReasonRow:
    requirement: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None

    @property
    def changed(self) -> bool:
        if self.before is None or self.after is None:
            return True
        return any(self.before.get(key) != self.after.get(key) for key in ("value_text", "outcome", "source"))


@dataclass(frozen=True)
class Comparison:
    status_changed: bool
    amount_changed: bool
    rows: list[ReasonRow]
    benefit_changed: bool  # the policy's encoding moved on since submission

    @property
    def any_change(self) -> bool:
        return self.status_changed or self.amount_changed or any(row.changed for row in self.rows)


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> Comparison:
    """Conditions paired by fact and requirement (so a re-encoded policy still lines up)."""
    before_reasons = {(r["fact"], r["requirement"]): r for r in before.get("reasons", [])}
    after_reasons = {(r["fact"], r["requirement"]): r for r in after.get("reasons", [])}
    keys = list(dict.fromkeys([*before_reasons, *after_reasons]))
    rows = [ReasonRow(key[1], before_reasons.get(key), after_reasons.get(key)) for key in keys]
    return Comparison(
        status_changed=before.get("status") != after.get("status"),
        amount_changed=before.get("amount") != after.get("amount"),
        rows=rows,
        benefit_changed=before.get("benefit_version") != after.get("benefit_version"),
    )
