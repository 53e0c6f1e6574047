"""facts_table read by COPY (enterprises/copy_read.py) and through the cursor gives identical
tables (values, sources, items) for generated enterprises with items and stored facts: PostgreSQL
(SQLite, the embedded default, always reads through the cursor)."""

import datetime as dt

import pytest
from django.db import connection

from enterprises.facts import facts_table, reading_by_copy
from enterprises.generator import generate
from enterprises.models import Enterprise, FactValue, Item
from enterprises.tests.factories import TEST_ITEM_KIND, EnterpriseFactory, make_item_kind
from matching import selectors

AS_OF = dt.date(2025, 6, 1)
pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")


@pytest.mark.django_db
def test_fact_tables_read_by_copy_and_by_cursor_are_identical(policies_loaded):
    generate(300, seed=5, reference_year=2025, batch_size=100)
    EnterpriseFactory(district="", industry_code="", scale="")
    make_item_kind()
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    catalog = selectors.catalog()
    fact = next(d for d in catalog.values() if d.derived == "stored" and d.type == "int" and not d.item_kind)
    for n, pk in enumerate(ids[::7]):
        Item.objects.create(
            enterprise_id=pk,
            kind=TEST_ITEM_KIND,
            title=f"项目\t{n}",
            values={"test_upgrade_investment": str(1000 * n), "test_upgrade_done": n % 2 == 0},
        )
        FactValue.objects.create(enterprise_id=pk, fact_id=fact.pk, value=None if n % 3 else n, source="self")
    catalog = selectors.catalog()  # with the item facts
    selections = [
        ids,  # a dense range
        ids[::3],  # an id list
        Enterprise.objects.filter(pk__in=ids[5:50]),  # a queryset
    ]
    for selected in selections:
        tables = []
        for by_copy in (True, False):
            with reading_by_copy(by_copy):
                tables.append(facts_table(selected, AS_OF, with_sources=True, catalog=catalog))
        copied, cursor = tables
        assert copied.enterprise_ids == cursor.enterprise_ids
        assert copied.columns == cursor.columns
        assert copied.sources == cursor.sources
        assert copied.items == cursor.items
        assert copied.items[TEST_ITEM_KIND].ids  # the items were read
