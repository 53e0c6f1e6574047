"""After a large write a run refreshes the planner statistics of every table it writes
(services.analyze_results): a table never analyzed is misjudged by the planner."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from matching import services
from matching.models import OutOfScope, ResultDigest
from matching.storage import STORED_TABLES

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="ANALYZE is PostgreSQL's")


def estimated_rows(table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_every_stored_table_gets_fresh_statistics():
    now = timezone.now()
    OutOfScope.objects.bulk_create(
        OutOfScope(
            enterprise_id=pk,
            benefits={"1": "x"},
            engine_version="t",
            as_of=dt.date(2025, 6, 1),
            evaluated_at=now,
        )
        for pk in range(1, 138)
    )
    ResultDigest.objects.bulk_create(ResultDigest(enterprise_id=pk, digest=pk) for pk in range(1, 212))

    services.analyze_results()

    # ANALYZE reads a small table whole: its estimate is then the exact count
    assert {table: estimated_rows(table) for table in STORED_TABLES} == {
        "matching_matchresult": 0,
        "matching_outofscope": 137,
        "matching_resultdigest": 211,
        "matching_matchitemresult": 0,
        "matching_matchchange": 0,
    }
