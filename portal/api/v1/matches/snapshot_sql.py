"""Snapshot items written by PostgreSQL: the only JSON rendered in SQL.

A snapshot item as PostgreSQL writes it is, byte for byte, what `output.RowBuilder.snapshot_json`
writes (test_api_snapshot_sql.py compares both, and both with the ChangeSerializer): a full sync is
6,000,000 items, and converting each row's amount and date to Python objects and back to text cost
more than the query. Python puts in the benefit ({"id", "global_key"}, encoded once per page) and the
time (formatted once per distinct value: a run writes many rows at once). Money: numeric(16, 2) as
text has its two decimals; 万元 rounds half away from zero as wan_text does.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from portal.api.v1.matches.output import RowBuilder, encode

# {table}: the stored results' table, or the out-of-scope results' view (the same columns)
SNAPSHOT_HEAD_SQL = """'{"id":null,"enterprise":' || {table}.enterprise_id || ',"benefit":'"""
SNAPSHOT_TAIL_SQL = """
',"old_status":null,"new_status":' || to_json({table}.status)::text
|| ',"old_amount":null,"old_amount_wan":null,"new_amount":'
|| COALESCE('"' || {table}.amount::text || '"', 'null')
|| ',"new_amount_wan":'
|| COALESCE('"' || round({table}.amount / 10000, 2)::text || ' 万元"', 'null')
|| ',"cause":"snapshot","as_of":"' || to_char({table}.as_of, 'YYYY-MM-DD') || '","created_at":'
"""


def snapshot_sql_pieces(results: QuerySet) -> QuerySet:
    """(pk, benefit id, text before the benefit, text after it up to the time, the time) of each result."""
    table = results.model._meta.db_table
    return results.annotate(
        head=RawSQL(SNAPSHOT_HEAD_SQL.replace("{table}", table), ()),
        tail=RawSQL(SNAPSHOT_TAIL_SQL.replace("{table}", table), ()),
    ).values_list("pk", "benefit_id", "head", "tail", "evaluated_at")


def snapshot_items(page, rows: RowBuilder) -> list[str]:
    """The JSON text of each item of a page of `snapshot_sql_pieces`."""
    rows.load_benefits(row[1] for row in page)
    times: dict[dt.datetime, str] = {}
    items = []
    for _pk, benefit, head, tail, evaluated_at in page:
        time = times.get(evaluated_at)
        if time is None:
            time = times[evaluated_at] = encode(rows.time(evaluated_at))
        items.append(f"{head}{rows.benefit_json(benefit)}{tail}{time}}}")
    return items
