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
from matching.tests.engine_support import bulk_row, single_row
from policies.loader import catalog_paths, load_files
from policies.models import Region

pytestmark = pytest.mark.django_db

HERE = Path(__file__).resolve().parents[2] / "policies" / "tests" / "rule_model"
PV = "test-liuhe-industry/1/pv-kwh"
AWARD = "test-liuhe-industry/3/new-project-award"
EQUIPMENT = "test-liuhe-industry/3/equipment"
PROVINCIAL = "test-jilin-fund/1/equipment"
RD_RANGE = "test-liuhe-industry/4/rd-range"
REVENUE = "test-liuhe-industry/4/revenue-marginal"
OPERATION = "test-liuhe-industry/4/operation-declining"
HQ = "test-liuhe-industry/4/hq-award"


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
    enterprises = [two_plants, old_plant, no_plant, EnterpriseFactory(district="闵行区")]
    for as_of in (spring_2025, dt.date(2026, 2, 1)):
        _assert_paths_agree(loaded, enterprises, (PV, AWARD, EQUIPMENT, PROVINCIAL), as_of)


def _assert_paths_agree(loaded, enterprises, keys, as_of):
    catalog = selectors.catalog()
    table = facts_table([e.pk for e in enterprises], as_of)
    columns = FactColumns(table.columns, len(table.enterprise_ids), catalog, table.items)
    for key in keys:
        bulk = evaluate_table(loaded[key], columns, as_of)
        for row, pk in enumerate(table.enterprise_ids):
            single = _verdicts(Enterprise.objects.get(pk=pk), as_of)[key]
            assert bulk_row(bulk, row) == single_row(single), (key, pk)


def test_ranges_marginal_bands_declining_rates_and_unequal_instalments(loaded):
    """Clause 4 of the county text: a 5%–20% range with a total cap, marginal revenue bands, an operation
    subsidy at 80% then 50%, and a 5:3:2 award that outlasts the text."""
    as_of = dt.date(2025, 6, 1)
    small = _liuhe_enterprise(None)
    services.set_fact_value(enterprise_id=small.pk, code="test_rd_expense", value="10000000")
    services.set_fact_value(enterprise_id=small.pk, code="test_revenue", value="300000000")
    large = _liuhe_enterprise(None)
    services.set_fact_value(enterprise_id=large.pk, code="test_rd_expense", value="30000000")
    services.set_fact_value(enterprise_id=large.pk, code="test_revenue", value="600000000")
    unanswered = _liuhe_enterprise(None)

    small_verdicts, large_verdicts = _verdicts(small, as_of), _verdicts(large, as_of)
    # 1000 万元 of R&D: 5% = 50 万元 to 20% = 200 万元, a range (never its top as the amount)
    rd = small_verdicts[RD_RANGE].amount
    assert (rd.value, rd.high) == (Decimal("500000.00"), Decimal("2000000.00"))
    # 3000 万元: 150 万元 to 600 万元, the top held at the 300 万元 in total
    rd = large_verdicts[RD_RANGE].amount
    assert (rd.value, rd.high) == (Decimal("1500000.00"), Decimal("3000000"))
    # 3 亿元 of revenue: (3 亿 − 1 亿) × 1% = 200 万元; 6 亿元: 4 亿 × 1% + 1 亿 × 2% = 400 + 200 万元
    assert small_verdicts[REVENUE].amount.value == Decimal("2000000.00")
    assert large_verdicts[REVENUE].amount.value == Decimal("6000000.00")
    # 100 万元 a year: 80 万元 in the first year, 50 万元 in the second
    operation = small_verdicts[OPERATION].amount
    assert [(p.label, p.value) for p in operation.payments] == [
        ("1", Decimal("800000.00")),
        ("2", Decimal("500000.00")),
    ]
    assert operation.value == Decimal("1300000.00")
    # 500 万元 paid 5:3:2 over three years: 250, 150, 100 万元 (the sum is not tripled)
    hq = small_verdicts[HQ].amount
    assert hq.value == Decimal("5000000")
    assert [p.value for p in hq.payments] == [
        Decimal("2500000.00"),
        Decimal("1500000.00"),
        Decimal("1000000.00"),
    ]
    # nothing answered: the range and the bands are unknown, never 0
    none = _verdicts(unanswered, as_of)
    assert none[RD_RANGE].amount.value is None and none[REVENUE].amount.value is None

    _assert_paths_agree(loaded, [small, large, unanswered], (RD_RANGE, REVENUE, OPERATION, HQ), as_of)
