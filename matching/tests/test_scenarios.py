"""The golden scenarios (matching/scenarios/*.yaml) against specs read straight from the fixtures."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
import yaml

from matching.engine import explain
from matching.engine.conditions import compile_condition
from matching.scenarios import (
    POLICY_FIXTURES,
    load_fixture_catalog,
    load_fixture_specs,
    load_scenarios,
    run_scenario,
)

SPECS = load_fixture_specs()
CATALOG = load_fixture_catalog()
SCENARIOS = load_scenarios()
# Every policy fixture's document (fixtures/policies/*.yaml `document`), by its key.
DOCUMENTS = {
    data["document"]["key"]: data["document"]
    for data in (
        yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(POLICY_FIXTURES.glob("*.yaml"))
    )
}
# The region each document's money is for (document key -> region code of fixtures/regions/).
REGIONS = {key: document["jurisdiction"] for key, document in DOCUMENTS.items()}
COVERED_DOCUMENTS = tuple(f"{key}/" for key in REGIONS)
# The region tree: each region code with the chain of regions it lies within.
WITHIN = {choice["value"]: tuple(choice["within"]) for choice in CATALOG["registered_region"].choices}
DISTRICTS = tuple(
    choice["value"] for choice in CATALOG["registered_region"].choices if choice["level"] == "district"
)
REGION_FACTS = tuple(code for code, fact in CATALOG.items() if fact.type == "region")
MUNICIPALITY = "310000"
OUTSIDE_SHANGHAI = "CN-other"
AS_OF = dt.date(2026, 12, 2)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.file}:{s.name}" for s in SCENARIOS])
def test_scenario(scenario):
    _, problems = run_scenario(scenario, SPECS, CATALOG)
    assert problems == []


def _priced(spec) -> bool:
    return spec.cap is not None or spec.ratio is not None or spec.amount is not None


def test_every_priced_benefit_has_a_scenario():
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


def _document_specs():
    specs = [spec for spec in SPECS.values() if spec.document_key in REGIONS]
    assert {spec.document_key for spec in specs} == set(REGIONS)
    return specs


def _within(region: str, area: str) -> bool:
    return region == area or area in WITHIN.get(region, ())


def _below_the_municipality(region: str) -> bool:
    return MUNICIPALITY in WITHIN[region]


def _another_district(region: str) -> str:
    """A district of Shanghai that neither holds nor lies within `region`."""
    return next(
        code
        for code in DISTRICTS
        if _within(code, MUNICIPALITY) and not _within(region, code) and not _within(code, region)
    )


def _located(region: str) -> dict:
    """An enterprise registered, operating and taxed in `region` (every region fact of the catalog)."""
    return dict.fromkeys(REGION_FACTS, region)


def _applicability_region_facts(document_key: str) -> set[str]:
    """The region facts the document's applicability tests (its leaves on a region-type fact)."""
    applicability = DOCUMENTS[document_key].get("applicability")
    assert applicability, document_key
    leaves = compile_condition(applicability, CATALOG).leaves
    facts = {leaf.fact for leaf in leaves if CATALOG[leaf.fact].type == "region"}
    assert facts, document_key
    return facts


def test_every_document_has_a_region_of_the_tree():
    assert len(REGIONS) >= 11  # guards against the loader silently finding nothing
    assert {key: region for key, region in REGIONS.items() if region not in WITHIN} == {}


def test_an_enterprise_outside_the_documents_region_gets_nothing():
    """An enterprise outside Shanghai gets no benefit of any document, one in another district none of a
    district's (or a town's, a park's) document: not_eligible, citing the document's applicability — every
    region fact it tests is reported unmet."""
    elsewhere = _located(OUTSIDE_SHANGHAI)
    for spec in _document_specs():
        region = REGIONS[spec.document_key]
        spec = _as_if_in_force(spec)
        profiles = [elsewhere]
        if _below_the_municipality(region):
            profiles.append(_located(_another_district(region)))
        for facts in profiles:
            verdict = explain(spec, facts, as_of=AS_OF, catalog=CATALOG)
            assert verdict.status.slug == "not_eligible", (spec.global_key, facts)
            cited = {reason.leaf.fact for reason in verdict.reasons if reason.outcome.name == "UNMET"}
            assert _applicability_region_facts(spec.document_key) <= cited, (spec.global_key, facts)


def test_an_empty_profile_meets_nothing():
    """Nothing is met by default: with no answers every benefit of every document asks for information."""
    for spec in _document_specs():
        verdict = explain(_as_if_in_force(spec), {}, as_of=AS_OF, catalog=CATALOG)
        assert verdict.status.slug == "needs_info", spec.global_key


def test_knowing_only_the_location_no_figure_is_shown_as_met():
    """An enterprise that only said where it is (in the document's region): no benefit with a figure
    (amount, cap, ratio) is eligible or pending recognition — each rests on its object (a project, an
    event, a recognition) being stated."""
    shown = []
    for spec in _document_specs():
        facts = _located(REGIONS[spec.document_key])
        verdict = explain(_as_if_in_force(spec), facts, as_of=AS_OF, catalog=CATALOG)
        if verdict.status.slug in ("eligible", "pending_recognition") and _priced(spec):
            shown.append(spec.global_key)
    assert shown == []


def test_every_document_has_cross_jurisdiction_and_empty_scenarios():
    """Each document's scenarios include an empty profile, an enterprise outside Shanghai, one in the
    document's region and, when that region is below the municipality, one elsewhere in Shanghai — located
    by the region facts the document's applicability tests."""
    missing = []
    for key, region in REGIONS.items():
        tested = _applicability_region_facts(key)
        cases = [s.facts for s in SCENARIOS if s.benefit.startswith(f"{key}/")]
        places = [[str(f[fact]) for fact in tested if f.get(fact) is not None] for f in cases]
        wanted = {
            "empty profile": {} in cases,
            "outside Shanghai": any(OUTSIDE_SHANGHAI in codes for codes in places),
            "in the region": any(codes and all(_within(c, region) for c in codes) for codes in places),
        }
        if _below_the_municipality(region):
            wanted["elsewhere in Shanghai"] = any(
                any(_within(c, MUNICIPALITY) and not _within(c, region) for c in codes) for codes in places
            )
        missing += [f"{key}: {what}" for what, ok in wanted.items() if not ok]
    assert missing == []


def test_a_wrong_expectation_is_reported():
    scenario = next(s for s in SCENARIOS if s.name == "新租赁厂房恰好5000平方米（含），待认定")
    wrong = type(scenario)(**{**scenario.__dict__, "expected": {"status": "eligible", "amount": 1}})
    _, problems = run_scenario(wrong, SPECS, CATALOG)
    assert problems == [
        "status: expected 'eligible', got 'pending_recognition'",
        "amount: expected Decimal('1'), got Decimal('10000000')",
    ]
