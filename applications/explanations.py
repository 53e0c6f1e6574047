"""The engine's explanation frozen as JSON when an enterprise submits, and its comparison with the
explanation of today (the review page shows both side by side, differences highlighted).

The stored texts (status_label, requirement, value_text, source_text, label) are always Chinese, the
portal's language of record, whoever submitted: the record reads the same later and comparisons pair
conditions by the same words. Each reason also keeps its structured condition (fact, op, value) and
the enterprise's value as JSON, so `readable` words a snapshot again in the reader's language; an older
snapshot without them keeps its Chinese requirement and value, translated where codes allow
(status, source, outcome).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import translation

from enterprises.facts import FactSheet
from enterprises.models import Enterprise
from matching import selectors as matching_selectors
from matching.engine import ENGINE_VERSION, Status, Verdict
from matching.engine.render import label, source_text, value_text
from policies.money import wan
from policies.rules import Kind, english, jsonable, kind_of, normalize, parse_leaf, requirement

OUTCOME_SLUGS = {0: "unmet", 1: "unknown", 2: "met"}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def snapshot_of(verdict: Verdict) -> dict[str, Any]:
    """A JSON-safe copy of what the engine said: status, amount, each condition with its citation
    (texts in Chinese, the language of record; see the module docstring)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _snapshot(verdict)


def _snapshot(verdict: Verdict) -> dict[str, Any]:
    spec = verdict.spec
    return {
        "as_of": verdict.as_of.isoformat(),
        "benefit_version": spec.version,
        "engine_version": ENGINE_VERSION,
        "status": verdict.status.slug,
        "status_label": verdict.status.label,
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
                "op": reason.leaf.op,
                "constant": jsonable(reason.leaf.value),
                "value": jsonable(reason.value),
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


def readable(
    snapshot: Mapping[str, Any] | None, catalog: Mapping[str, Any] | None = None
) -> Mapping[str, Any] | None:
    """The snapshot worded in the reader's language, for display; in Chinese it is the record as stored.

    Status and source are words for stored codes; a condition and a value are worded again from the
    stored (fact, op, constant, value) when the catalog still has the fact, else the stored text stays.
    """
    if not snapshot or not english():
        return snapshot
    catalog = matching_selectors.catalog() if catalog is None else catalog
    shown = copy.deepcopy(dict(snapshot))
    if shown.get("status"):
        shown["status_label"] = Status.from_slug(shown["status"]).label
    for reason in shown.get("reasons", []):
        reason["source_text"] = source_text(reason.get("source"))
        info = catalog.get(reason.get("fact"))
        if info is None:
            continue
        reason["label"] = label(info)
        if "op" in reason:
            try:
                constant = _constant(kind_of(info), reason["constant"])
                leaf = parse_leaf(
                    {
                        "fact": info.code,
                        "op": reason["op"],
                        "value": constant,
                        "quote": reason.get("quote") or "-",
                    },
                    catalog,
                )
                reason["requirement"] = requirement(leaf, info)
                reason["value_text"] = value_text(info, normalize(kind_of(info), reason["value"]))
            except (
                ValueError,
                TypeError,
                ArithmeticError,
            ):  # the fact changed since: keep the words of record
                pass
    return shown


def _constant(kind: Kind, stored: Any) -> Any:
    """A stored constant as the language reads it: numbers were stored as strings (exact Decimals)."""
    if kind is not Kind.NUMBER:
        return stored
    if isinstance(stored, list):
        return [_constant(kind, item) for item in stored]
    if isinstance(stored, str):
        number = Decimal(stored)
        return int(number) if number == number.to_integral_value() else number
    return stored


def facts_snapshot(
    enterprise: Enterprise, sheet: FactSheet, verdict: Verdict, catalog: Mapping[str, Any]
) -> dict[str, Any]:
    """The enterprise's identity and the facts this benefit reads (condition and ratio base)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _facts_snapshot(enterprise, sheet, verdict, catalog)


def _facts_snapshot(
    enterprise: Enterprise, sheet: FactSheet, verdict: Verdict, catalog: Mapping[str, Any]
) -> dict[str, Any]:
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
                "label": label(catalog[code]),
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
    return wan(amount) if amount is not None else "—"


@dataclass(frozen=True)
class ReasonRow:
    requirement: str
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    changed: bool  # decided on the stored (Chinese) texts, whatever language the rows are shown in


def _changed(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> bool:
    if before is None or after is None:
        return True
    return any(before.get(key) != after.get(key) for key in ("value_text", "outcome", "source"))


@dataclass(frozen=True)
class Comparison:
    status_changed: bool
    amount_changed: bool
    rows: list[ReasonRow]
    benefit_changed: bool  # the policy's encoding moved on since submission

    @property
    def any_change(self) -> bool:
        return self.status_changed or self.amount_changed or any(row.changed for row in self.rows)


def _by_condition(
    snapshot: Mapping[str, Any] | None, shown: Mapping[str, Any] | None = None
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Reasons keyed by their stored (fact, requirement); the values from `shown`, the same snapshot
    worded for display, when given (its reasons are in the same order)."""
    stored = (snapshot or {}).get("reasons", [])
    values = shown.get("reasons", stored) if shown else stored
    return {(r["fact"], r["requirement"]): value for r, value in zip(stored, values, strict=True)}


def compare(
    before: Mapping[str, Any], after: Mapping[str, Any], *, catalog: Mapping[str, Any] | None = None
) -> Comparison:
    """Conditions paired by fact and requirement (so a re-encoded policy still lines up); with a
    catalog the rows are worded in the reader's language (see `readable`)."""
    before_reasons, after_reasons = _by_condition(before), _by_condition(after)
    shown_before, shown_after = before_reasons, after_reasons
    if catalog is not None:
        shown_before = _by_condition(before, readable(before, catalog))
        shown_after = _by_condition(after, readable(after, catalog))
    keys = list(dict.fromkeys([*before_reasons, *after_reasons]))
    rows = [
        ReasonRow(
            requirement=(shown_before.get(key) or shown_after[key])["requirement"],
            before=shown_before.get(key),
            after=shown_after.get(key),
            changed=_changed(before_reasons.get(key), after_reasons.get(key)),
        )
        for key in keys
    ]
    return Comparison(
        status_changed=before.get("status") != after.get("status"),
        amount_changed=before.get("amount") != after.get("amount"),
        rows=rows,
        benefit_changed=before.get("benefit_version") != after.get("benefit_version"),
    )
