"""facts_for (one enterprise) and facts_table (set-wise) give identical values for every code."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enterprises.catalog import load_catalog
from enterprises.facts import facts_for, facts_table
from enterprises.generator import EnterpriseGenerator, generate
from enterprises.models import Enterprise, FactValue, Project, Recognition, YearlyFigure
from enterprises.taxonomy import INDUSTRY_SUBTRACKS
from enterprises.tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db
AS_OF_DATES = [
    datetime.date(2023, 1, 1),
    datetime.date(2024, 12, 31),
    datetime.date(2025, 6, 1),
    datetime.date(2026, 3, 15),
]


def assert_paths_agree(as_of: datetime.date) -> int:
    """facts_for of each enterprise == its row of facts_table, values (same types) and provenance."""
    catalog = load_catalog()
    table = facts_table(Enterprise.objects.all(), as_of, with_sources=True)
    # the enterprise's own facts are columns; item facts are the items' (table.items, sheet.items)
    assert set(table.columns) == {code for code, fact in catalog.items() if not fact.item_kind}
    enterprises = Enterprise.objects.in_bulk(table.enterprise_ids)
    assert len(table.enterprise_ids) == len(enterprises) == Enterprise.objects.count()
    for index, pk in enumerate(table.enterprise_ids):
        sheet = facts_for(enterprises[pk], as_of, catalog=catalog)
        for code, column in table.columns.items():
            single, bulk = sheet.values[code], column[index]
            assert single == bulk and type(single) is type(bulk), (pk, code, single, bulk)
            if isinstance(single, Decimal):  # the same exponent too ("100.00", not "100")
                assert str(single) == str(bulk), (pk, code, single, bulk)
        assert table.sheet(index) == sheet, pk
    return len(table.enterprise_ids)


def test_paths_agree_on_generated_data(fact_catalog):
    generate(300, seed=11, reference_year=2025, batch_size=120)
    for as_of in AS_OF_DATES:
        assert assert_paths_agree(as_of) == 300


def test_ids_and_querysets_select_the_same_rows(fact_catalog):
    """facts_table reads a chunk of consecutive ids as an id range and anything else by the list or
    the queryset; every way gives the full table's rows of exactly the enterprises asked for."""
    generate(120, seed=5, reference_year=2025, batch_size=60)
    as_of = datetime.date(2025, 6, 1)
    full = facts_table(Enterprise.objects.all(), as_of, with_sources=True)
    ids = full.enterprise_ids
    dense = [pk for pk in ids[10:90] if pk % 5]  # a range with holes: other enterprises inside it
    sparse = ids[::9]  # too sparse for a range
    for chosen in (dense, sparse, [ids[0]], []):
        expected = [ids.index(pk) for pk in chosen]
        for table in (
            facts_table(list(reversed(chosen)), as_of, with_sources=True),
            facts_table(Enterprise.objects.filter(pk__in=chosen), as_of, with_sources=True),
        ):
            assert table.enterprise_ids == sorted(chosen)
            for code, column in full.columns.items():
                assert table.columns[code] == [column[index] for index in expected], code
            assert [table.sheet(i) for i in range(len(chosen))] == [full.sheet(i) for i in expected]


def test_generated_data_is_valid_and_partly_unknown(fact_catalog):
    generate(200, seed=3, reference_year=2025)
    for enterprise in Enterprise.objects.all()[:60]:
        enterprise.full_clean()
    for figure in YearlyFigure.objects.all()[:60]:
        figure.full_clean()
    for recognition in Recognition.objects.all()[:40]:
        recognition.full_clean()
    for project in Project.objects.all()[:40]:
        project.full_clean()
    table = facts_table(Enterprise.objects.all(), datetime.date(2025, 6, 1))
    cells = [value for column in table.columns.values() for value in column]
    unknown_share = sum(value is None for value in cells) / len(cells)
    builtin = [code for code, row in fact_catalog.items() if row.derived == "builtin"]
    builtin_cells = [value for code in builtin for value in table.columns[code]]
    builtin_unknown = sum(value is None for value in builtin_cells) / len(builtin_cells)
    assert 0.10 <= builtin_unknown <= 0.30, builtin_unknown
    assert unknown_share > builtin_unknown  # stored facts are mostly not stated


def test_generation_is_deterministic_for_a_seed(fact_catalog):
    def drafts(seed: int) -> list:
        generator = EnterpriseGenerator(seed=seed, reference_year=2025)
        return [
            (d.enterprise, d.figures, d.recognitions, d.projects, d.fact_values) for d in generator.drafts(40)
        ]

    assert drafts(5) == drafts(5)
    assert drafts(5) != drafts(6)


THRESHOLDS = [
    Decimal(n) for n in (0, 1999, 2000, 4999, 5000, 10_000_000, 100_000_000, 999_999_999, 1_000_000_000)
]
money = st.none() | st.sampled_from(THRESHOLDS) | st.decimals(min_value=0, max_value=5 * 10**9, places=2)
years = st.integers(min_value=2019, max_value=2026)
flags = st.none() | st.booleans()
recognition_kinds = st.sampled_from(
    ["sh_specialized_sme", "little_giant", "tech_center_municipal", "tech_center_national", "green_factory"]
)
subtracks = [value for items in INDUSTRY_SUBTRACKS.values() for value, _label in items]

enterprise_fields = st.fixed_dictionaries(
    {
        "district": st.sampled_from(["", "闵行区", "浦东新区", "外省市"]),
        "registered_on": st.none() | st.dates(datetime.date(1990, 1, 1), datetime.date(2026, 1, 1)),
        "industry_code": st.sampled_from(["", "3511", "2720", "6513", "4350"]),
        "industry_tracks": st.lists(
            st.sampled_from(["biomedicine", "new_gen_it", "high_end_equipment"]), unique=True, max_size=2
        ),
        "industry_subtracks": st.lists(st.sampled_from(subtracks), unique=True, max_size=2),
        "scale": st.sampled_from(["", "micro", "small", "medium", "large"]),
        "legal_form": st.sampled_from(["", "llc", "joint_stock"]),
        "is_foreign_invested": flags,
        "above_scale": flags,
        "above_scale_since": st.none() | years,
        "listing_exchange": st.sampled_from(["", "none", "sse", "bse", "hkex"]),
        "listed_on": st.none() | st.dates(datetime.date(2018, 1, 1), datetime.date(2026, 6, 1)),
        "recognitions_declared": st.booleans(),
        "projects_declared": st.booleans(),
        "source": st.sampled_from(["self_declared", "staff", "register"]),
    }
)
figure_rows = st.dictionaries(
    years,
    st.fixed_dictionaries(
        {
            "output_value": money,
            "revenue": money,
            "employees": st.none() | st.integers(0, 5000),
            "source": st.sampled_from(["register", "staff"]),
        }
    ),
    max_size=4,
)
recognition_rows = st.dictionaries(
    st.tuples(recognition_kinds, years),
    st.fixed_dictionaries(
        {
            "first_time": st.booleans(),
            "grade": st.sampled_from(["", "excellent", "good"]),
            "source": st.sampled_from(["register", "staff"]),
        }
    ),
    max_size=4,
)
project_rows = st.lists(
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from([kind.value for kind in Project.Kind]),
            "year": years,
            "level": st.sampled_from(["municipal", "district"]),
            "total_investment": money,
            "area_m2": money,
            "rent_total": money,
            "contract_amount": money,
            "cost": money,
            "interest_paid": money,
            "is_new": st.booleans(),
            "self_use": st.booleans(),
            "key_industry_new_project": flags,
            "policy_guaranteed": flags,
            "source": st.sampled_from(["self_declared", "register"]),
        }
    ),
    max_size=5,
)
stored_rows = st.lists(
    st.tuples(
        st.none() | years,
        st.none() | st.dates(datetime.date(2022, 1, 1), datetime.date(2026, 6, 1)),
        st.booleans(),
    ),
    max_size=3,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=enterprise_fields,
    figures=figure_rows,
    recognitions=recognition_rows,
    projects=project_rows,
    stored=stored_rows,
    as_of=st.dates(datetime.date(2022, 1, 1), datetime.date(2027, 12, 31)),
)
def test_paths_agree_on_arbitrary_profiles(
    fact_catalog, fields, figures, recognitions, projects, stored, as_of
):
    enterprise = EnterpriseFactory(**fields)
    for year, row in figures.items():
        YearlyFigure.objects.create(enterprise=enterprise, year=year, **row)
    for (kind, year), row in recognitions.items():
        Recognition.objects.create(enterprise=enterprise, kind=kind, year=year, **row)
    for row in projects:
        Project.objects.create(enterprise=enterprise, **row)
    association = fact_catalog["is_industry_association"]
    seen = set()
    for year, valid_from, value in stored:
        key = (year, None if year is not None else valid_from)
        if key in seen:
            continue
        seen.add(key)
        FactValue.objects.create(
            enterprise=enterprise, fact=association, value=value, year=year, valid_from=key[1]
        )
    assert_paths_agree(as_of)
