"""A made-up county document, loaded through the loader only, exercises the general rule model:
jurisdiction outside Shanghai, a per-unit rate paid yearly for 5 years with a stop condition and a
yearly cap, per-item benefits, a 30/30/40 stage payment, a dated cap, a condition quoting another
clause, and an exclusion group shared with another document. Both engine paths agree on it, and a
Shanghai enterprise is not eligible for any of it.

Figures are worked out by hand from the test texts (policies/tests/rule_model/)."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from enterprises import items as item_services
from enterprises import services
from enterprises.facts import facts_table
from enterprises.models import Enterprise
from enterprises.tests.factories import EnterpriseFactory
from matching import selectors
from matching.engine import FactColumns, Status, best_total, evaluate_table
from policies.loader import catalog_paths, load_files
from policies.models import Region

pytestmark = pytest.mark.django_db

HERE = Path(__file__).resolve().parents[2] / "policies" / "tests" / "rule_model"
PV = "test-liuhe-industry/1/pv-kwh"
AWARD = "test-liuhe-industry/3/new-project-award"
EQUIPMENT = "test-liuhe-industry/3/equipment"
PROVINCIAL = "test-jilin-fund/1/equipment"


@pytest.fixture
def loaded(db):
    base = catalog_paths()
    # given out of order on purpose: the county text names a group the provincial text declares
    paths = [HERE / "items.yaml", *base, HERE / "facts.yaml", HERE / "a_county.yaml", HERE / "b_other.yaml"]
    reports, errors = load_files(paths)
    assert errors == [], [error.messages for error in errors]
    Region.objects.get(code="220524")  # the tree reaches 吉林省 / 通化市 / 柳河县
    return {spec.global_key: spec for spec in selectors.benefit_specs()}


def _verdicts(enterprise: Enterprise, as_of: dt.date) -> dict:
    return {v.spec.global_key: v for v in selectors.verdicts_for(enterprise, as_of)}


def _liuhe_enterprise(investment: str | None, land_mu: str | None = None) -> Enterprise:
    enterprise = EnterpriseFactory(district="外省市", town="", registered_region="220524")
    for code, value in (("test_equipment_investment", investment), ("test_land_area_mu", land_mu)):
        if value is not None:
            services.set_fact_value(enterprise_id=enterprise.pk, code=code, value=value)
    return enterprise


def test_a_shanghai_or_unspecified_enterprise_gets_nothing_of_the_county(loaded):
    shanghai = EnterpriseFactory(district="闵行区", town="")
    for key in (PV, AWARD, EQUIPMENT, PROVINCIAL):
        verdict = _verdicts(shanghai, dt.date(2025, 6, 1))[key]
        assert verdict.status is Status.NOT_ELIGIBLE
        assert verdict.unmet[0].citation.quote in ("本政策适用于在柳河县注册的企业", "吉林省内企业")
        assert verdict.unmet[0].citation.clause_number in ("附则", "1")
    # "外省市" without the province: not inside 柳河县 as far as the profile says
    elsewhere = _verdicts(EnterpriseFactory(district="外省市", town=""), dt.date(2025, 6, 1))
    assert elsewhere[EQUIPMENT].status is Status.NOT_ELIGIBLE
    # no location at all: unknown, so needs information
    unknown = _verdicts(EnterpriseFactory(district="", town=""), dt.date(2025, 6, 1))
    assert unknown[EQUIPMENT].status is Status.NEEDS_INFO
    assert "registered_region" in unknown[EQUIPMENT].missing_facts


def test_amount_shapes_items_and_both_paths(loaded):
    two_plants = _liuhe_enterprise("80000000", "40")  # 8000 万元 of equipment on 40 亩: 200 万元/亩
    for title, kwh, day in (("一期", "4000000", "2025-03-01"), ("二期", "20000000", "2025-05-01")):
        item_services.save_item(
            enterprise_id=two_plants.pk,
            kind="test_pv_plant",
            title=title,
            values={"test_pv_annual_kwh": kwh, "test_pv_grid_date": day},
        )
    old_plant = _liuhe_enterprise(None, "10")
    item_services.save_item(
        enterprise_id=old_plant.pk,
        kind="test_pv_plant",
        title="老电站",
        values={"test_pv_annual_kwh": "1000000", "test_pv_grid_date": "2024-06-01"},
    )
    no_plant = _liuhe_enterprise("10000000", "0")  # a zero area: the ratio is unknown, never a crash

    spring_2025 = dt.date(2025, 6, 1)
    verdicts = _verdicts(two_plants, spring_2025)
    pv = verdicts[PV]
    # plant 1: 4,000,000 kWh × 0.1 = 40 万元 a year; plant 2: 2,000,000 yuan capped at 100 万元 a year;
    # each for 5 years: 200 万元 + 500 万元 = 700 万元
    assert pv.status is Status.ELIGIBLE
    assert [entry.verdict.amount.value for entry in pv.items] == [
        Decimal("2000000.00"),
        Decimal("5000000.00"),
    ]
    assert pv.items[0].verdict.amount.per_year == Decimal("400000.00")
    assert pv.items[1].verdict.amount.per_year == Decimal("1000000") and pv.items[1].verdict.amount.years == 5
    assert pv.amount.value == Decimal("7000000.00")
    # stages: 100 万元 paid 30 / 30 / 40 万元
    award = verdicts[AWARD].amount
    assert [(p.label, p.value) for p in award.payments] == [
        ("签约后", Decimal("300000.00")),
        ("开工后", Decimal("300000.00")),
        ("投产后", Decimal("400000.00")),
    ]
    # a derived fact (亩均设备投资 = investment / land area): 200 万元/亩 meets "不低于200万元"
    assert verdicts[AWARD].status is Status.ELIGIBLE
    assert verdicts[AWARD].reasons[-1].value == Decimal("2000000")
    # division by zero (0 亩) and a missing input (no investment given) make it unknown
    assert _verdicts(no_plant, spring_2025)[AWARD].status is Status.NEEDS_INFO
    assert _verdicts(old_plant, spring_2025)[AWARD].status is Status.NEEDS_INFO
    # dated cap: 10% of 8000 万元 = 800 万元, capped at 500 万元 in 2025 and 300 万元 from 2026
    assert verdicts[EQUIPMENT].amount.value == Decimal("5000000")
    assert _verdicts(two_plants, dt.date(2026, 2, 1))[EQUIPMENT].amount.value == Decimal("3000000")
    # exclusion across documents: the provincial 20% (capped 200 万元) and the county 10% share a group
    assert verdicts[PROVINCIAL].status is Status.ELIGIBLE
    stack = best_total(verdicts.values())
    chosen = {v.spec.global_key for v in stack.chosen}
    assert EQUIPMENT in chosen and PROVINCIAL not in chosen
    assert (verdicts[PROVINCIAL], verdicts[EQUIPMENT]) in stack.excluded

    # a plant connected before the window (a condition quoting clause 2): not eligible
    old = _verdicts(old_plant, spring_2025)[PV]
    assert old.status is Status.NOT_ELIGIBLE and old.unmet[0].citation.clause_number == "2"
    # no plant at all: needs information (the plant's facts are unknown), never eligible
    none = _verdicts(no_plant, spring_2025)[PV]
    assert none.status is Status.NEEDS_INFO and none.items == ()

    # the bulk path gives the same answers, amounts and fingerprints for every enterprise
    catalog = selectors.catalog()
    enterprises = [two_plants, old_plant, no_plant, EnterpriseFactory(district="闵行区")]
    for as_of in (spring_2025, dt.date(2026, 2, 1)):
        table = facts_table([e.pk for e in enterprises], as_of)
        columns = FactColumns(table.columns, len(table.enterprise_ids), catalog, table.items)
        for key in (PV, AWARD, EQUIPMENT, PROVINCIAL):
            bulk = evaluate_table(loaded[key], columns, as_of)
            for row, pk in enumerate(table.enterprise_ids):
                single = _verdicts(Enterprise.objects.get(pk=pk), as_of)[key]
                assert bulk.status_slug(row) == single.status.slug, (key, pk)
                assert bulk.score[row] == single.score
                assert bulk.amount(row) == single.amount, (key, pk)
                assert bulk.leaf_outcomes(row) == single.leaf_outcomes
                assert int(bulk.fingerprints[row]) == single.fingerprint, (key, pk)
