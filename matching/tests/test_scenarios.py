"""The golden scenarios (matching/scenarios/*.yaml) against specs read straight from the fixtures."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from matching.engine import explain
from matching.engine.conditions import compile_condition
from matching.scenarios import load_fixture_catalog, load_fixture_specs, load_scenarios, run_scenario

SPECS = load_fixture_specs()
CATALOG = load_fixture_catalog()
SCENARIOS = load_scenarios()
# The five seed texts and the region each one's money is for (document key -> region code).
SEED_REGIONS = {
    "mh-2024-new-industrialization": "310112",
    "mh-2024-industry-quality-draft": "310112",
    "mh-2018-manufacturing-plan": "310112",
    "sh-2022-high-end-manufacturing": "310000",
    "sh-new-industrialization-excerpt": "310000",
}
COVERED_DOCUMENTS = tuple(f"{key}/" for key in SEED_REGIONS)
AS_OF = dt.date(2026, 12, 2)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.file}:{s.name}" for s in SCENARIOS])
def test_scenario(scenario):
    _, problems = run_scenario(scenario, SPECS, CATALOG)
    assert problems == []


def _priced(spec) -> bool:
    return spec.cap is not None or spec.ratio is not None or spec.amount is not None


def test_every_benefit_with_a_cap_or_ratio_in_000_and_003_has_a_scenario():
    priced = {key for key, spec in SPECS.items() if key.startswith(COVERED_DOCUMENTS) and _priced(spec)}
    assert len(priced) >= 40  # guards against the loader silently finding nothing
    assert priced - {s.benefit for s in SCENARIOS} == set()


def test_every_numeric_threshold_is_tried_at_below_and_above():
    """For each `fact gte|gt|lte|lt N` of a covered benefit: a scenario with the fact at N, one
    above and, when N > 0 (amounts below 0 are not valid input), one below."""
    missing = []
    for key, spec in SPECS.items():
        if not key.startswith(COVERED_DOCUMENTS) or not _priced(spec):
            continue
        tried = [s.facts for s in SCENARIOS if s.benefit == key]
        for leaf in compile_condition(spec.condition, CATALOG).leaves:
            if leaf.op not in ("gte", "gt", "lte", "lt") or not isinstance(leaf.value, Decimal):
                continue
            values = [Decimal(str(facts[leaf.fact])) for facts in tried if facts.get(leaf.fact) is not None]
            sides = {"at": leaf.value in values, "above": any(v > leaf.value for v in values)}
            if leaf.value > 0:
                sides["below"] = any(v < leaf.value for v in values)
            missing += [
                f"{key} {leaf.fact} {leaf.op} {leaf.value}: {side}" for side, ok in sides.items() if not ok
            ]
    assert missing == []


def _as_if_in_force(spec):
    """The benefit with its validity ignored: the draft (001) and the expired plan (002) are judged too."""
    return dataclasses.replace(
        spec, doc_status="in_force", effective_from=None, effective_to=None, valid_from=None, valid_to=None
    )


def _seed_specs():
    specs = [spec for spec in SPECS.values() if spec.document_key in SEED_REGIONS]
    assert {spec.document_key for spec in specs} == set(SEED_REGIONS)
    return specs


def _located(region: str) -> dict:
    return {"registered_region": region, "operating_region": region}


def test_an_enterprise_outside_the_documents_region_gets_nothing():
    """A Pudong firm gets no benefit of the Minhang texts, an enterprise outside Shanghai none of the five:
    not_eligible, citing the document's applicability (its clause and words)."""
    pudong, elsewhere = _located("310115"), _located("CN-other")
    for spec in _seed_specs():
        spec = _as_if_in_force(spec)
        profiles = [elsewhere] + ([pudong] if SEED_REGIONS[spec.document_key] == "310112" else [])
        for facts in profiles:
            verdict = explain(spec, facts, as_of=AS_OF, catalog=CATALOG)
            assert verdict.status.slug == "not_eligible", (spec.global_key, facts)
            cited = {reason.leaf.fact for reason in verdict.reasons if reason.outcome.name == "UNMET"}
            assert {"registered_region", "operating_region"} <= cited, spec.global_key


def test_an_empty_profile_meets_nothing():
    """Nothing is met by default: with no answers every benefit of the five texts asks for information."""
    for spec in _seed_specs():
        verdict = explain(_as_if_in_force(spec), {}, as_of=AS_OF, catalog=CATALOG)
        assert verdict.status.slug == "needs_info", spec.global_key


def test_knowing_only_the_location_no_figure_is_shown_as_met():
    """An enterprise that only said where it is: no benefit with a figure (amount, cap, ratio) is eligible or
    pending recognition — each rests on its object (a project, an event, a recognition) being stated."""
    shown = []
    for spec in _seed_specs():
        facts = _located("310112")
        verdict = explain(_as_if_in_force(spec), facts, as_of=AS_OF, catalog=CATALOG)
        if verdict.status.slug in ("eligible", "pending_recognition") and _priced(spec):
            shown.append(spec.global_key)
    assert shown == []


def test_every_seed_document_has_cross_jurisdiction_and_empty_scenarios():
    for key, region in SEED_REGIONS.items():
        cases = [s.facts for s in SCENARIOS if s.benefit.startswith(f"{key}/")]
        assert {} in cases, key
        assert any(f.get("registered_region") == "CN-other" for f in cases), key
        assert any(str(f.get("registered_region", "")).startswith("310112") for f in cases), key
        if region == "310112":
            other = [f for f in cases if str(f.get("registered_region", "")).startswith("3101")]
            assert any(not f["registered_region"].startswith("310112") for f in other), key


def test_a_wrong_expectation_is_reported():
    scenario = next(s for s in SCENARIOS if s.name == "新租赁厂房恰好5000平方米（含），待认定")
    wrong = type(scenario)(**{**scenario.__dict__, "expected": {"status": "eligible", "amount": 1}})
    _, problems = run_scenario(wrong, SPECS, CATALOG)
    assert problems == [
        "status: expected 'eligible', got 'pending_recognition'",
        "amount: expected Decimal('1'), got Decimal('10000000')",
    ]
