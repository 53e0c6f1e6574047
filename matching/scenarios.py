"""Golden scenarios (OpenFisca-style YAML tests) and a loader of the policy fixtures without the DB.

A scenario names a benefit by its global key, an as-of date, the enterprise's facts (absent =
unknown) and the expected status and amount; see matching/scenarios/README.md. The specs come
straight from fixtures/policies/*.yaml and the catalog from fixtures/facts/*.yaml, so scenarios run
without a database; `spec_from_rows` is the one place where fixture-shaped fields become a
BenefitSpec (matching/selectors.py feeds it database rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from matching.engine import BenefitSpec, CatalogFact, Verdict, explain
from policies import amount_rules, formulas
from policies.fidelity import load_catalog
from policies.supersession import superseded_dates

ROOT = Path(__file__).resolve().parent.parent
POLICY_FIXTURES = ROOT / "fixtures" / "policies"
FACT_FIXTURES = ROOT / "fixtures" / "facts"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def spec_from_rows(
    document: Mapping[str, Any],
    clause: Mapping[str, Any],
    benefit: Mapping[str, Any],
    *,
    version: int = 1,
    benefit_id: int | None = None,
    superseded_from: dt.date | None = None,
) -> BenefitSpec:
    """A BenefitSpec from fixture-shaped mappings of a document, a clause and a benefit (the benefit's
    amount rule as stored: one JSON mapping). The document's applicability is evaluated first: it
    becomes the first child of an `all` with the benefit's own condition."""
    condition = benefit.get("condition")
    applicability = document.get("applicability")
    if applicability:
        condition = {"all": [applicability, condition]} if condition else applicability
    return BenefitSpec(
        global_key=f"{document['key']}/{clause['number']}/{benefit['key']}",
        name=benefit["name"],
        kind=benefit["kind"],
        cap=_decimal(benefit.get("cap")),
        amount=_decimal(benefit.get("amount")),
        ratio=_decimal(benefit.get("ratio")),
        base_fact=benefit.get("base_fact") or None,
        instalments=benefit.get("instalments"),
        recurrence=benefit.get("recurrence") or "one_time",
        requires_recognition=bool(benefit.get("requires_recognition")),
        recognition_phrase=benefit.get("recognition_phrase") or "",
        amount_quote=benefit.get("amount_quote") or "",
        stacking_group=benefit.get("stacking_group") or None,
        condition=condition,
        applicability=applicability or None,
        amount_rule=amount_rules.parse(benefit.get("amount_rule")),
        exclusion_groups=tuple(benefit.get("exclusion_groups") or ()),
        per_item=benefit.get("per_item") or None,
        version=version,
        doc_status=document["status"],
        effective_from=document.get("effective_from"),
        effective_to=document.get("effective_to"),
        valid_from=benefit.get("valid_from"),
        valid_to=benefit.get("valid_to"),
        superseded_from=superseded_from,
        document_key=document["key"],
        document_title=document["title"],
        clause_number=str(clause["number"]),
        clause_text=clause.get("text") or "",
        benefit_id=benefit_id,
    )


def load_fixture_specs(directory: Path = POLICY_FIXTURES) -> dict[str, BenefitSpec]:
    """Every benefit of every policy fixture file, by global key."""
    from policies.loader import BenefitSpec as BenefitFileSpec
    from policies.loader import CapGroupSpec, benefit_columns, jsonable

    files = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(directory.glob("*.yaml"))]
    replaced = superseded_dates([data["document"] for data in files])
    specs: dict[str, BenefitSpec] = {}
    for data in files:
        document = {**data["document"], "applicability": jsonable(data["document"].get("applicability"))}
        caps = {
            group["key"]: jsonable(CapGroupSpec.model_validate(group).model_dump())
            for group in data.get("cap_groups") or []
        }
        for clause in data.get("clauses") or []:
            for benefit in clause.get("benefits") or []:
                rule, columns = benefit_columns(BenefitFileSpec.model_validate(benefit), caps)
                # as the database holds them: dates in conditions are ISO strings
                row = {
                    **columns,
                    "key": benefit["key"],
                    "amount_rule": rule,
                    "condition": jsonable(columns["condition"]),
                }
                spec = spec_from_rows(document, clause, row, superseded_from=replaced.get(document["key"]))
                specs[spec.global_key] = spec
    return specs


def load_fixture_catalog(directory: Path = FACT_FIXTURES) -> dict[str, CatalogFact]:
    """The fixtures' catalog (policies.fidelity.load_catalog, the one YAML reader) as the rule language
    reads it."""
    return {
        code: CatalogFact(
            code=code,
            type=fact["type"],
            label_zh=fact.get("label_zh") or "",
            unit=fact.get("unit") or "",
            choices=tuple(fact.get("choices") or ()),
            label_en=fact.get("label_en") or "",
            item_kind=fact.get("item_kind") or "",
            formula=fact.get("formula") or "",
        )
        for code, fact in load_catalog(directory).items()
    }


@dataclass(frozen=True)
class Scenario:
    name: str
    benefit: str  # global key
    as_of: dt.date
    facts: Mapping[str, Any]
    expected: Mapping[
        str, Any
    ]  # status, amount (yuan or null), optional basis, per_instalment, score, missing
    file: str
    items: tuple[Mapping[str, Any], ...] = ()  # a per-item benefit's items (each its own facts)


@dataclass(frozen=True)
class ScenarioItem:
    id: int
    title: str
    values: Mapping[str, Any]
    source: str = "scenario"


def load_scenarios(directory: Path = SCENARIOS) -> list[Scenario]:
    scenarios = []
    for path in sorted(directory.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            unknown = set(item) - {"name", "benefit", "as_of", "facts", "items", "expected"}
            if unknown:
                raise ValueError(
                    f"{path.name}: scenario {item.get('name')!r} has unknown keys {sorted(unknown)}"
                )
            scenarios.append(
                Scenario(
                    name=item["name"],
                    benefit=item["benefit"],
                    as_of=item["as_of"],
                    facts=item.get("facts") or {},
                    expected=item["expected"],
                    file=path.name,
                    items=tuple(item.get("items") or ()),
                )
            )
    return scenarios


def run_scenario(
    scenario: Scenario, specs: Mapping[str, BenefitSpec], catalog: Mapping[str, Any]
) -> tuple[Verdict | None, list[str]]:
    """The verdict, and every way it differs from the scenario's expectations ([] = pass)."""
    if scenario.benefit not in specs:
        return None, [f"unknown benefit {scenario.benefit!r}"]
    unknown_facts = (set(scenario.facts) | {code for item in scenario.items for code in item}) - set(catalog)
    if unknown_facts:
        return None, [f"unknown facts {sorted(unknown_facts)}"]
    facts = formulas.complete(scenario.facts, catalog, scenario.as_of)  # as facts_for derives them
    items = [
        ScenarioItem(
            index, f"item {index}", formulas.complete({**scenario.facts, **item}, catalog, scenario.as_of)
        )
        for index, item in enumerate(scenario.items, start=1)
    ]
    verdict = explain(
        specs[scenario.benefit], facts, as_of=scenario.as_of, catalog=catalog, items=items or None
    )
    expected = scenario.expected
    actual = {
        "status": verdict.status.slug,
        "amount": verdict.amount.value,
        "basis": verdict.amount.basis.value,
        "per_instalment": verdict.amount.per_instalment,
        "score": verdict.score,
        "validity": verdict.validity,
        "missing": list(verdict.missing_facts),
    }
    problems = []
    for key, wanted in expected.items():
        if key not in actual:
            problems.append(f"unknown expectation {key!r}")
            continue
        got = actual[key]
        if key in ("amount", "per_instalment"):
            wanted = _decimal(wanted)
        if got != wanted:
            problems.append(f"{key}: expected {wanted!r}, got {got!r}")
    if "status" not in expected or "amount" not in expected:
        problems.append("a scenario states both status and amount")
    return verdict, problems
