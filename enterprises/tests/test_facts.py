"""Each builtin fact derived by hand-checked scenarios; stored facts read from the generic store."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enterprises.facts import BUILTIN_CODES, UnknownFactError, facts_for, facts_table
from enterprises.models import Enterprise, FactValue, Project
from enterprises.tests.conftest import FACTS_DIR
from enterprises.tests.factories import (
    EnterpriseFactory,
    ProjectFactory,
    RecognitionFactory,
    YearlyFigureFactory,
)

AS_OF = datetime.date(2025, 6, 1)  # last completed year 2024; "this year" = 2024 or 2025
pytestmark = pytest.mark.django_db


def test_every_builtin_code_of_core_yaml_has_a_derivation():
    import yaml

    core = yaml.safe_load((FACTS_DIR / "core.yaml").read_text(encoding="utf-8"))
    builtin = {entry["code"] for entry in core if entry.get("derived") == "builtin"}
    assert builtin == BUILTIN_CODES


def test_choices_of_enterprise_fields_match_the_catalog(fact_catalog):
    for code, field in [
        ("legal_form", Enterprise.LegalForm),
        ("enterprise_scale", Enterprise.Scale),
        ("listing_exchange", Enterprise.Exchange),
    ]:
        assert set(fact_catalog[code].choice_values()) == set(field.values), code


def test_sheet_has_every_catalog_code_and_unknown_is_none(fact_catalog):
    enterprise = Enterprise.objects.create(name="空白企业", credit_code=EnterpriseFactory.build().credit_code)
    sheet = facts_for(enterprise, AS_OF)
    # an item's facts are the item's, not the enterprise's (enterprises.items)
    assert set(sheet.values) == {code for code, fact in fact_catalog.items() if not fact.item_kind}
    assert all(value is None for value in sheet.values.values())
    assert sheet.sources == {}


def test_identity_facts(fact_catalog):
    enterprise = EnterpriseFactory(
        registered_on=datetime.date(2015, 6, 2),
        district="闵行区",
        industry_code="3511",
        scale="small",
        is_foreign_invested=False,
        industry_tracks=["high_end_equipment"],
        industry_subtracks=["machine_tools"],
        source="register",
    )
    values = facts_for(enterprise, AS_OF).values
    assert values["years_since_registration"] == Decimal(9)  # the tenth anniversary is one day later
    assert facts_for(enterprise, datetime.date(2025, 6, 2)).values["years_since_registration"] == Decimal(10)
    assert values["located_in_minhang"] is True
    assert values["district"] == "闵行区"
    assert values["is_manufacturing"] is True
    assert values["is_sme"] is True
    assert values["enterprise_scale"] == "small"
    assert values["legal_form"] == "llc"
    assert values["is_foreign_invested"] is False
    assert values["industry_tracks"] == frozenset({"high_end_equipment"})
    assert values["industry_subtracks"] == frozenset({"machine_tools"})
    assert facts_for(enterprise, AS_OF).sources["district"] == "register"

    other = EnterpriseFactory(district="浦东新区", industry_code="6513", scale="large", industry_tracks=[])
    values = facts_for(other, AS_OF).values
    assert (values["located_in_minhang"], values["is_manufacturing"], values["is_sme"]) == (
        False,
        False,
        False,
    )
    assert values["industry_tracks"] is None  # nothing stated is unknown, not "no track"


@pytest.mark.parametrize(
    ("above", "since", "expected_above", "expected_new"),
    [
        (True, 2024, True, True),
        (True, 2025, True, True),
        (True, 2022, True, False),
        (True, 2026, False, False),  # included after the as-of date
        (True, None, True, None),
        (False, None, False, False),
        (None, None, None, None),
    ],
)
def test_above_scale(fact_catalog, above, since, expected_above, expected_new):
    enterprise = EnterpriseFactory(above_scale=above, above_scale_since=since)
    values = facts_for(enterprise, AS_OF).values
    assert (values["is_above_scale"], values["newly_above_scale"]) == (expected_above, expected_new)


@pytest.mark.parametrize(
    ("exchange", "listed_on", "expected_exchange", "expected_new"),
    [
        ("sse", datetime.date(2024, 8, 1), "sse", True),
        ("bse", datetime.date(2025, 5, 31), "bse", True),
        ("szse", datetime.date(2019, 1, 8), "szse", False),
        ("hkex", datetime.date(2025, 6, 2), "none", False),  # listed after the as-of date
        ("hkex", None, "hkex", None),
        ("none", None, "none", False),
        ("", None, None, None),
    ],
)
def test_listing(fact_catalog, exchange, listed_on, expected_exchange, expected_new):
    enterprise = EnterpriseFactory(listing_exchange=exchange, listed_on=listed_on)
    values = facts_for(enterprise, AS_OF).values
    assert (values["listing_exchange"], values["newly_listed"]) == (expected_exchange, expected_new)


def test_yearly_figures_use_the_last_completed_year(fact_catalog):
    enterprise = EnterpriseFactory()
    YearlyFigureFactory(
        enterprise=enterprise, year=2022, output_value=Decimal("800000000"), source="register"
    )
    YearlyFigureFactory(
        enterprise=enterprise, year=2023, output_value=Decimal("900000000"), source="register"
    )
    YearlyFigureFactory(
        enterprise=enterprise,
        year=2024,
        output_value=Decimal("1050000000"),
        revenue=Decimal("1200000000"),
        rd_expense=Decimal("60000000"),
        employees=850,
        tax_paid=None,
        source="register",
    )
    YearlyFigureFactory(enterprise=enterprise, year=2025, output_value=Decimal("1"))
    sheet = facts_for(enterprise, AS_OF)
    values = sheet.values
    assert values["output_value"] == Decimal("1050000000")
    assert values["revenue"] == Decimal("1200000000")
    assert values["rd_expense"] == Decimal("60000000")
    assert values["employees"] == 850
    assert values["tax_paid"] is None
    assert "tax_paid" not in sheet.sources
    assert values["output_value_increase"] == Decimal("150000000")
    assert values["output_growth_rate"] == Decimal("16.67")
    assert values["output_first_crossed_1bn"] is True
    assert sheet.sources["output_value_increase"] == "register"


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        ({2024: "1000000000", 2023: "999999999.99"}, True),  # exactly at the threshold
        ({2024: "999999999.99", 2023: "500000000"}, False),
        ({2024: "1500000000", 2022: "1100000000", 2023: "900000000"}, False),  # crossed before
        ({2024: "1500000000"}, None),  # no earlier year known: cannot tell it is the first time
        ({2024: "1500000000", 2023: None, 2021: "200000000"}, True),
        ({2023: "900000000"}, None),
    ],
)
def test_first_crossing_of_one_billion(fact_catalog, history, expected):
    enterprise = EnterpriseFactory()
    for year, output in history.items():
        YearlyFigureFactory(
            enterprise=enterprise, year=year, output_value=None if output is None else Decimal(output)
        )
    assert facts_for(enterprise, AS_OF).values["output_first_crossed_1bn"] is expected


def test_growth_needs_both_years_and_a_non_zero_base(fact_catalog):
    enterprise = EnterpriseFactory()
    YearlyFigureFactory(enterprise=enterprise, year=2024, output_value=Decimal("100"))
    values = facts_for(enterprise, AS_OF).values
    assert values["output_value_increase"] is None and values["output_growth_rate"] is None
    YearlyFigureFactory(enterprise=enterprise, year=2023, output_value=Decimal("0"))
    values = facts_for(enterprise, AS_OF).values
    assert values["output_value_increase"] == Decimal("100") and values["output_growth_rate"] is None


def test_recognitions_held_new_and_rating(fact_catalog):
    enterprise = EnterpriseFactory()
    RecognitionFactory(
        enterprise=enterprise, kind="sh_specialized_sme", year=2024, first_time=True, source="register"
    )
    RecognitionFactory(
        enterprise=enterprise, kind="little_giant", year=2021, first_time=True, source="register"
    )
    RecognitionFactory(
        enterprise=enterprise, kind="high_tech_enterprise", year=2025, first_time=False, source="register"
    )
    RecognitionFactory(enterprise=enterprise, kind="tech_center_municipal", year=2023, grade="good")
    RecognitionFactory(
        enterprise=enterprise, kind="tech_center_municipal", year=2024, grade="excellent", first_time=False
    )
    RecognitionFactory(enterprise=enterprise, kind="single_champion", year=2026)  # after the as-of year
    sheet = facts_for(enterprise, AS_OF)
    assert sheet.values["recognitions"] == frozenset(
        {"sh_specialized_sme", "little_giant", "high_tech_enterprise", "tech_center_municipal"}
    )
    assert sheet.values["recognitions_new"] == frozenset({"sh_specialized_sme"})
    assert sheet.values["tech_center_rating"] == "excellent"
    assert sheet.sources["recognitions"] == "derived"  # rows from several sources
    assert sheet.sources["recognitions_new"] == "register"


def test_no_recognitions_is_unknown_unless_declared(fact_catalog):
    enterprise = EnterpriseFactory()
    assert facts_for(enterprise, AS_OF).values["recognitions"] is None
    enterprise.recognitions_declared = True
    enterprise.save()
    values = facts_for(enterprise, AS_OF).values
    assert values["recognitions"] == frozenset() and values["recognitions_new"] == frozenset()
    assert values["tech_center_rating"] is None


def test_projects_are_summed_per_kind_over_two_years(fact_catalog):
    enterprise = EnterpriseFactory()
    ProjectFactory(
        enterprise=enterprise,
        kind="factory_lease",
        year=2024,
        area_m2=Decimal("3000"),
        rent_total=Decimal("2400000"),
        key_industry_new_project=True,
    )
    ProjectFactory(
        enterprise=enterprise,
        kind="factory_lease",
        year=2025,
        area_m2=Decimal("2000"),
        rent_total=Decimal("1600000"),
        key_industry_new_project=False,
    )
    ProjectFactory(
        enterprise=enterprise,
        kind="factory_lease",
        year=2025,
        area_m2=Decimal("900"),
        self_use=False,
        rent_total=Decimal("100000"),
        key_industry_new_project=False,
    )
    ProjectFactory(
        enterprise=enterprise, kind="factory_lease", year=2023, area_m2=Decimal("99999")
    )  # too old
    ProjectFactory(
        enterprise=enterprise,
        kind="tech_upgrade",
        level="district",
        year=2024,
        total_investment=Decimal("12000000"),
        new_equipment_investment=Decimal("8000000"),
    )
    ProjectFactory(
        enterprise=enterprise,
        kind="tech_upgrade",
        level="municipal",
        year=2025,
        total_investment=Decimal("30000000"),
        new_equipment_investment=Decimal("20000000"),
        municipal_funding_granted=Decimal("3000000"),
    )
    ProjectFactory(
        enterprise=enterprise,
        kind="loan",
        year=2025,
        interest_paid=Decimal("120000"),
        guarantee_fee_paid=Decimal("20000"),
        policy_guaranteed=True,
    )
    ProjectFactory(enterprise=enterprise, kind="event", year=2024, cost=Decimal("400000"))
    ProjectFactory(enterprise=enterprise, kind="mna", year=2025, contract_amount=Decimal("80000000"))
    ProjectFactory(enterprise=enterprise, kind="first_of_kind", year=2025, contract_amount=Decimal("6000000"))
    ProjectFactory(enterprise=enterprise, kind="drug_rd", year=2024, cost=Decimal("45000000"))
    ProjectFactory(enterprise=enterprise, kind="industrial_upstairs", year=2025, rent_total=Decimal("500000"))
    values = facts_for(enterprise, AS_OF).values
    assert values["new_factory_lease_area_m2"] == Decimal("5000")  # the non-self-use lease does not count
    assert values["rent_total"] == Decimal("4600000")
    assert values["is_new_key_industry_project"] is True
    assert values["tech_upgrade_level"] == "municipal"
    assert values["tech_upgrade_total_investment"] == Decimal("42000000")
    assert values["new_equipment_investment"] == Decimal("28000000")
    assert values["municipal_funding_granted"] is None  # the district project left it blank: unknown
    assert values["loan_interest_paid"] == Decimal("120000")
    assert values["loan_guarantee_fee_paid"] == Decimal("20000")
    assert values["has_policy_guaranteed_loan"] is True
    assert values["event_cost"] == Decimal("400000")
    assert values["mna_amount"] == Decimal("80000000")
    assert values["first_of_kind_contract_amount"] == Decimal("6000000")
    assert values["innovative_drug_rd_spend"] == Decimal("45000000")
    assert values["in_industrial_upstairs_project"] is True
    assert values["new_factory_purchase_area_m2"] is None  # no purchase and the list is not declared complete


def test_declared_project_list_turns_missing_into_none(fact_catalog):
    enterprise = EnterpriseFactory(projects_declared=True)
    ProjectFactory(
        enterprise=enterprise, kind="factory_purchase", year=2024, area_m2=Decimal("2500"), is_new=False
    )
    values = facts_for(enterprise, AS_OF).values
    assert values["new_factory_purchase_area_m2"] == Decimal("0")  # a purchase, but not a new one
    assert values["new_factory_lease_area_m2"] == Decimal("0")
    assert values["in_industrial_upstairs_project"] is False
    assert values["has_policy_guaranteed_loan"] is False
    assert values["is_new_key_industry_project"] is None  # the purchase does not say
    assert values["tech_upgrade_level"] == "none"  # declared complete, no upgrade project


def test_stored_facts_latest_year_or_undated(fact_catalog):
    enterprise = EnterpriseFactory()
    association = fact_catalog["is_industry_association"]
    milestone = fact_catalog["output_milestone_first_crossed"]
    service = fact_catalog["ic_verification_service_for"]
    FactValue.objects.create(enterprise=enterprise, fact=association, value=True, source="staff")
    FactValue.objects.create(enterprise=enterprise, fact=milestone, value="5000000000", year=2023)
    FactValue.objects.create(enterprise=enterprise, fact=milestone, value="10000000000", year=2026)
    FactValue.objects.create(
        enterprise=enterprise,
        fact=service,
        value=["first_set_equipment"],
        valid_from=datetime.date(2025, 7, 1),
    )
    sheet = facts_for(enterprise, AS_OF)
    assert sheet.values["is_industry_association"] is True
    assert sheet.sources["is_industry_association"] == "staff"
    assert sheet.values["output_milestone_first_crossed"] == Decimal("5000000000")
    assert sheet.values["ic_verification_service_for"] is None  # valid only from July
    later = facts_for(enterprise, datetime.date(2026, 12, 31)).values
    assert later["output_milestone_first_crossed"] == Decimal("10000000000")
    assert later["ic_verification_service_for"] == frozenset({"first_set_equipment"})


def test_a_fact_added_in_admin_is_read_without_code(fact_catalog):
    from policies.models import FactDefinition

    offshore = FactDefinition.objects.create(
        code="offshore_distance_km",
        type="decimal",
        unit="千米",
        label_zh="离岸距离",
        label_en="Offshore distance",
        derived="stored",
    )
    enterprise = EnterpriseFactory()
    FactValue.objects.create(enterprise=enterprise, fact=offshore, value="35.5")
    assert facts_for(enterprise, AS_OF).values["offshore_distance_km"] == Decimal("35.5")
    table = facts_table(Enterprise.objects.all(), AS_OF, ["offshore_distance_km"])
    assert table.columns == {"offshore_distance_km": [Decimal("35.5")]}


def test_table_asks_only_for_known_codes(fact_catalog):
    with pytest.raises(UnknownFactError):
        facts_table(Enterprise.objects.all(), AS_OF, ["no_such_fact"])


def test_table_uses_a_fixed_number_of_queries(fact_catalog):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            facts_table(Enterprise.objects.all(), AS_OF)
        return len(queries)

    enterprise = EnterpriseFactory()
    ProjectFactory(enterprise=enterprise, year=2024, area_m2=Decimal("10"))
    few = count_queries()
    for _ in range(25):
        other = EnterpriseFactory()
        YearlyFigureFactory(enterprise=other, year=2024)
        RecognitionFactory(enterprise=other, year=2024)
        ProjectFactory(enterprise=other, year=2024, area_m2=Decimal("10"))
    # the catalog (with the region tree as its region facts' choices), the enterprises, one per
    # related table, the region tree again (registered / operating region), and the items when the
    # catalog has item facts
    assert count_queries() == few <= 9


def test_table_with_a_subset_of_codes_and_ordered_by_id(fact_catalog):
    first, second = EnterpriseFactory(district="闵行区"), EnterpriseFactory(district="徐汇区")
    table = facts_table(Enterprise.objects.order_by("-pk"), AS_OF, ["located_in_minhang", "district"])
    assert table.enterprise_ids == [first.pk, second.pk]
    assert table.columns == {"located_in_minhang": [True, False], "district": ["闵行区", "徐汇区"]}


def test_kinds_have_a_project_kind_for_every_project_fact():
    assert {kind.value for kind in Project.Kind} >= {
        "tech_upgrade",
        "factory_purchase",
        "factory_lease",
        "loan",
    }


def test_each_group_returns_exactly_the_codes_it_registers():
    from enterprises.facts import BUILTIN_GROUPS, ENTERPRISE_FIELDS, AsOf, Loaded

    blank = Loaded(enterprise={name: [None] for name in ENTERPRISE_FIELDS})
    nobody = Loaded(enterprise={name: [] for name in ENTERPRISE_FIELDS})
    for group in BUILTIN_GROUPS:
        columns = group.derive(blank, AsOf(AS_OF))
        assert set(columns) == group.codes, group.derive.__name__
        assert all(column.values == [None] and column.sources == [None] for column in columns.values())
        columns = group.derive(nobody, AsOf(AS_OF))
        assert set(columns) == group.codes, group.derive.__name__
        assert all(column.values == [] for column in columns.values())


def test_the_cyclic_garbage_collector_is_paused_only_while_reading(fact_catalog):
    import gc

    from enterprises.facts import cyclic_gc_paused

    assert gc.isenabled()
    facts_table(Enterprise.objects.all(), AS_OF)
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # a caller that disabled it keeps it disabled
    finally:
        gc.enable()
