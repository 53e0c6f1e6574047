"""Fast inserts of many plain-dict rows, with their history rows ("+" records).

PostgreSQL: ids are reserved from the table's sequence, then rows go in with COPY (an order of
magnitude faster than INSERT through the ORM). Other databases: bulk_create, and simple_history's
bulk_history_create. Rows are dicts keyed by field attname ("enterprise_id"); missing fields take
their model default; callers validate the data (nothing here calls full_clean). What was inserted is
recorded for re-evaluation in the same transaction (changes.record_dicts), unless the caller says
`record=False` (the synthetic scale data of generator.py, evaluated by a full run).
"""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from enterprises import changes

Row = dict[str, Any]


@transaction.atomic
def insert_rows(
    model: type[models.Model], rows: list[Row], *, with_history: bool = True, record: bool = True
) -> list[int]:
    """Insert rows (setting each row's "id") and return the ids, in order."""
    if not rows:
        return []
    _fill_defaults(model, rows)
    ids = _insert(model, rows, with_history=with_history)
    if record:
        changes.record_dicts(model, rows)
    return ids


def _insert(model: type[models.Model], rows: list[Row], *, with_history: bool) -> list[int]:
    if connection.vendor == "postgresql":
        ids = _reserve_ids(model, len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row["id"] = pk
        _copy(model, rows)
        if with_history:
            _copy(model.history.model, [_history_row(row) for row in rows])
        return ids
    objects = model.objects.bulk_create([model(**row) for row in rows], batch_size=1000)
    for row, obj in zip(rows, objects, strict=True):
        row["id"] = obj.pk
    if with_history:
        model.history.bulk_history_create(objects, batch_size=1000)
    return [obj.pk for obj in objects]


def _fill_defaults(model: type[models.Model], rows: list[Row]) -> None:
    """Every row gets every concrete field: its model default ("" for text, None for nullable)."""
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        for row in rows:
            if field.attname not in row:
                row[field.attname] = now if auto_now else field.get_default()


def _history_row(row: Row) -> Row:
    return {
        **row,
        "history_date": timezone.now(),
        "history_type": "+",
        "history_change_reason": None,
        "history_user_id": None,
    }


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [pk for (pk,) in cursor.fetchall()]


def _copy(model: type[models.Model], rows: list[Row]) -> None:
    fields = [field for field in model._meta.concrete_fields if field.attname in rows[0]]
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(field, row[field.attname]) for field in fields))
        buffer.write("\n")
    buffer.seek(0)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN", buffer
        )


def _copy_text(field: models.Field, value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return r"\N"
    if isinstance(field, models.JSONField):
        value = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        return "t" if value else "f"
    elif isinstance(value, datetime.date | Decimal | int):
        return value.isoformat() if isinstance(value, datetime.date) else str(value)
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
