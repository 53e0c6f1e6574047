"""Property, on the real database: random condition trees over the real fact catalog, evaluated for
generated enterprises (with missing facts) through facts_table + evaluate_table and through
facts_for + explain, give the same status, score, amount, outcomes and fingerprint for every pair."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enterprises.facts import facts_for, facts_table, reading_by_copy
from enterprises.generator import generate
from enterprises.models import Enterprise
from enterprises.tests.factories import EnterpriseFactory
from matching import selectors
from matching.engine import BenefitSpec, FactColumns, evaluate_table, explain
from matching.engine.conditions import OPS_BY_KIND
from matching.engine.values import Kind, kind_of
from matching.tests.engine_support import bulk_row, single_row

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def world(policies_loaded, django_db_blocker):
    """Generated enterprises, their facts through both paths, and the catalog."""
    with django_db_blocker.unblock():
        generate(200, seed=23, reference_year=2025, batch_size=100)
        EnterpriseFactory(district="", industry_code="", scale="")
        catalog = selectors.catalog()
        with reading_by_copy():  # PostgreSQL: the COPY loader (SQLite: the cursor)
            table = facts_table(Enterprise.objects.all(), AS_OF)
        with reading_by_copy(False):
            by_cursor = facts_table(Enterprise.objects.all(), AS_OF)
        assert (table.enterprise_ids, table.columns, table.items) == (
            by_cursor.enterprise_ids,
            by_cursor.columns,
            by_cursor.items,
        )
        enterprises = Enterprise.objects.in_bulk(table.enterprise_ids)
        sheets = [facts_for(enterprises[pk], AS_OF, catalog=catalog) for pk in table.enterprise_ids]
    return catalog, table, sheets


def leaf_strategy(catalog, table):
    def values_for(code):
        info, kind = catalog[code], kind_of(catalog[code])
        choices = [choice["value"] for choice in info.choices or []]
        if kind is Kind.BOOL:
            return st.booleans()
        if kind in (Kind.SET, Kind.TEXT) and choices:
            return st.sampled_from(choices)
        observed = sorted({v for v in table.columns[code] if v is not None and v != ""}, key=str)
        if kind is Kind.SET:  # elements seen in the column's sets
            elements = sorted(set().union(*observed))
            return st.sampled_from(elements) if elements else st.text(min_size=1, max_size=3)
        if kind is Kind.NUMBER and info.type == "int":  # the language writes int constants as ints
            extra = st.integers(-(10**6), 10**9)
            return (st.sampled_from([int(v) for v in observed]) | extra) if observed else extra
        if kind is Kind.NUMBER:
            extra = st.decimals(-(10**9), 10**10, places=2)
            return (st.sampled_from(observed) | extra) if observed else extra
        if kind is Kind.DATE:
            return st.dates(dt.date(2000, 1, 1), dt.date(2026, 1, 1))
        if kind is Kind.REGION:
            return st.sampled_from(choices)
        return st.sampled_from(observed) if observed else st.text(min_size=1, max_size=3)

    @st.composite
    def leaves(draw):
        # enterprise facts only: item facts and their formulas are columns of the item table
        code = draw(st.sampled_from(sorted(code for code in catalog if code in table.columns)))
        kind = kind_of(catalog[code])
        op = draw(st.sampled_from(sorted(OPS_BY_KIND[kind])))
        values = values_for(code)
        if op == "exists":
            value = draw(st.booleans())
        elif op == "in":
            value = draw(st.lists(values, min_size=1, max_size=3))
        elif op == "between":
            value = sorted([draw(values), draw(values)])
        else:
            value = draw(values)
        if isinstance(value, dt.date):
            value = value.isoformat() if not isinstance(value, list) else value
        return {"fact": code, "op": op, "value": value, "quote": "原文"}

    return leaves()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_random_conditions_agree_on_every_enterprise(world, data):
    catalog, table, sheets = world
    trees = st.recursive(
        leaf_strategy(catalog, table),
        lambda children: st.one_of(
            st.builds(lambda items: {"all": items}, st.lists(children, min_size=1, max_size=4)),
            st.builds(lambda items: {"any": items}, st.lists(children, min_size=1, max_size=4)),
            st.builds(lambda child: {"not": child}, children),
        ),
        max_leaves=8,
    )
    money = sorted(code for code, info in catalog.items() if info.type == "money")
    spec = BenefitSpec(
        global_key="random/1/benefit",
        name="随机",
        kind="ratio",
        ratio=Decimal("0.3"),
        cap=data.draw(st.sampled_from([None, Decimal(5_000_000)])),
        base_fact=data.draw(st.sampled_from(money)),
        requires_recognition=data.draw(st.booleans()),
        condition=data.draw(trees),
    )
    bulk = evaluate_table(
        spec, FactColumns(table.columns, len(table.enterprise_ids), catalog, table.items), AS_OF
    )
    for i, sheet in enumerate(sheets):
        single = explain(spec, sheet.values, as_of=AS_OF, catalog=catalog, sources=sheet.sources)
        assert bulk_row(bulk, i) == single_row(single), (table.enterprise_ids[i], spec.condition)
