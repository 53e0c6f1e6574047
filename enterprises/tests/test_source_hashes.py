"""enterprises.source_hashes: a full run skips an enterprise whose hash is as stored without reading
its facts, so every row facts_table can read must move its enterprise's hash, and only its own."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from enterprises import source_hashes
from enterprises.models import FactValue, Item
from enterprises.tests.factories import (
    TEST_ITEM_KIND,
    EnterpriseFactory,
    ProjectFactory,
    RecognitionFactory,
    YearlyFigureFactory,
    make_item_kind,
)
from policies.models import FactDefinition

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the database computes them: PostgreSQL"),
]


def hashes(ids) -> dict[int, int]:
    return {int(pk): int(value) for pk, value in source_hashes.source_hashes(sorted(ids))}


def test_every_table_facts_are_read_from_moves_its_enterprise_hash_and_no_other():
    make_item_kind()
    fact = FactDefinition.objects.create(code="test_stored_fact", type="int", label_zh="测试事实")
    one, other = EnterpriseFactory(), EnterpriseFactory()
    ids = [one.pk, other.pk]
    seen = [hashes(ids)]

    def changed(step: str) -> None:
        now = hashes(ids)
        assert now[one.pk] not in {before[one.pk] for before in seen}, step
        assert now[other.pk] == seen[-1][other.pk], step
        seen.append(now)

    one.town = "莘庄镇" if one.town != "莘庄镇" else "七宝镇"
    one.save()
    changed("enterprise row")
    figure = YearlyFigureFactory(enterprise=one, year=2024)
    changed("yearly figure added")
    figure.output_value = Decimal("60000000")
    figure.save()
    changed("yearly figure edited")
    RecognitionFactory(enterprise=one, year=2024)
    changed("recognition")
    ProjectFactory(enterprise=one, year=2024)
    changed("project")
    value = FactValue.objects.create(enterprise=one, fact=fact, value=3, source="self")
    changed("stored fact value")
    item = Item.objects.create(
        enterprise=one, kind=TEST_ITEM_KIND, title="技改", values={"test_upgrade_done": True}
    )
    changed("item")
    item.values = {"test_upgrade_done": False}
    item.save()
    changed("item edited")
    value.delete()
    changed("stored fact value deleted")
    figure.delete()
    changed("yearly figure deleted")


def test_equal_rows_equal_hashes_and_an_id_list_reads_as_the_range_does():
    enterprises = [EnterpriseFactory() for _ in range(5)]
    ids = [e.pk for e in enterprises]
    dense = hashes(ids)
    assert hashes(ids) == dense and set(dense) == set(ids)
    sparse = hashes([ids[0], ids[4]])  # a gap wider than the ids: read as a list
    assert sparse == {ids[0]: dense[ids[0]], ids[4]: dense[ids[4]]}
    assert hashes([ids[0], ids[4] + 1000]) == {ids[0]: dense[ids[0]]}  # absent enterprises are left out
    assert source_hashes.source_hashes([]).shape == (0, 2)


def test_the_code_that_derives_facts_is_part_of_what_a_hash_means():
    text = source_hashes.code_text()
    assert "def facts_table(" in text and "def apply(" in text  # enterprises/facts.py, policies/formulas.py
    assert dt.date.today()  # (the date and policy data are folded in by matching.services)
