# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Snapshot items written by PostgreSQL (portal/api/v1/matches/snapshot_sql.py) are, byte for byte, the
items the Python rendering writes (RowBuilder.snapshot_json), and, parsed, what the output definition
(ChangeSerializer) says of the same rows."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from matching.models import MatchChange, MatchResult
from portal.api.v1.matches.output import SNAPSHOT, SNAPSHOT_COLUMNS, ChangeSerializer, RowBuilder
from portal.api.v1.matches.snapshot_sql import snapshot_items, snapshot_sql_pieces
from portal.tests.api_support import api_data, api_world, fresh_throttle_counts, key_client  # noqa: F401

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL rendering is PostgreSQL's"),
]

AMOUNTS = [None, Decimal("0.00"), Decimal("5.00"), Decimal("50.00"), Decimal("12345.67"),
           Decimal("150.00"), Decimal("10000000.00"), Decimal("99999999999999.99")]  # fmt: skip
TIMES = [
    dt.datetime(2025, 6, 1, 2, 3, 4, tzinfo=dt.UTC),
    dt.datetime(2025, 6, 1, 18, 0, 0, 120, tzinfo=dt.UTC),  # microseconds; the next day in Shanghai
    dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(1890, 1, 1, 12, 0, 0, tzinfo=dt.UTC),  # local mean time: offsets with seconds (+08:05:43)
]


def sql_items() -> list[str]:
    return snapshot_items(
        list(snapshot_sql_pieces(MatchResult.objects.order_by("pk"))), RowBuilder(catalog=None)
    )


def definition_items() -> list[str]:
    """Each current result as the ChangeSerializer renders a snapshot item: no previous state."""
    items = []
    for result in MatchResult.objects.select_related("benefit__clause__document").order_by("pk"):
        item = MatchChange(
            enterprise_id=result.enterprise_id, benefit=result.benefit, old_status=None,
            new_status=result.status, old_amount=None, new_amount=result.amount, cause=SNAPSHOT,
            as_of=result.as_of, created_at=result.evaluated_at,
        )  # fmt: skip
        items.append(JSONRenderer().render(ChangeSerializer(item).data).decode())
    return items


def python_items() -> list[str]:
    rows = RowBuilder(catalog=None)
    return [
        rows.snapshot_json(row) for row in MatchResult.objects.order_by("pk").values_list(*SNAPSHOT_COLUMNS)
    ]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "UTC", "America/New_York"])
def test_sql_items_are_the_python_items(api_world, zone):
    results = list(MatchResult.objects.order_by("pk"))
    assert len(results) >= len(AMOUNTS) * len(TIMES)
    for index, result in enumerate(results):
        MatchResult.objects.filter(pk=result.pk).update(
            amount=AMOUNTS[index % len(AMOUNTS)], evaluated_at=TIMES[index // len(AMOUNTS) % len(TIMES)]
        )
    with timezone.override(zone):
        expected = python_items()
        assert sql_items() == expected
        assert definition_items() == expected  # byte for byte, keys in the definition's order
    parsed = [json.loads(item) for item in expected]
    assert {item["new_amount"] for item in parsed} >= {None, "5.00", "12345.67", "99999999999999.99"}
    # Half a cent of 万元 and more rounds up, as wan_text does.
    assert {item["new_amount_wan"] for item in parsed} >= {None, "0.01 万元", "0.02 万元", "1.23 万元"}


def test_a_snapshot_page_is_the_same_in_both_renderings(api_world, monkeypatch):
    client = key_client(api_world.machine_key)
    url = "/api/v1/changes/?snapshot=true&page_size=1000"
    by_sql = client.get(url)
    monkeypatch.setattr(connection, "vendor", "sqlite")  # the Python rendering (SQLite's)
    calls = []
    python_rendering = RowBuilder.snapshot_json
    monkeypatch.setattr(
        RowBuilder, "snapshot_json", lambda self, row: calls.append(row) or python_rendering(self, row)
    )
    by_python = client.get(url)
    assert len(calls) == len(by_python.json()["results"])
    assert by_sql.status_code == by_python.status_code == 200
    assert by_sql.content == by_python.content and len(by_sql.json()["results"]) > 10
