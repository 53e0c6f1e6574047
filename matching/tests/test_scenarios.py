"""The golden scenarios (matching/scenarios/*.yaml) against specs read straight from the fixtures."""

from decimal import Decimal

import pytest

from matching.engine.conditions import compile_condition
from matching.scenarios import load_fixture_catalog, load_fixture_specs, load_scenarios, run_scenario

SPECS = load_fixture_specs()
CATALOG = load_fixture_catalog()
SCENARIOS = load_scenarios()
COVERED_DOCUMENTS = ("mh-2024-new-industrialization/", "sh-2022-high-end-manufacturing/")


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


def test_a_wrong_expectation_is_reported():
    scenario = next(s for s in SCENARIOS if s.name == "新租赁厂房恰好5000平方米（含），待认定")
    wrong = type(scenario)(**{**scenario.__dict__, "expected": {"status": "eligible", "amount": 1}})
    _, problems = run_scenario(wrong, SPECS, CATALOG)
    assert problems == [
        "status: expected 'eligible', got 'pending_recognition'",
        "amount: expected Decimal('1'), got Decimal('10000000')",
    ]
