"""Read a values_list queryset as columns through COPY (PostgreSQL), split and decoded with numpy.

The bulk readers (facts.facts_table, facts.item_rows) read hundreds of thousands of rows; through the
cursor every value of every row becomes a Python object on its own (a Decimal parsed from text, a
date, ...), which cost more than PostgreSQL's work. Here the queryset's own SQL runs as
`COPY (…) TO STDOUT`: the output is split on its tabs and newlines in one vectorised pass, each
column's cells are gathered into a fixed-width byte array, and only its distinct cells are decoded
(most columns hold a few distinct values: districts, scales, sources, years). The values are those
the ORM gives for the same queryset (ints, str, bool, date, Decimal, None), except that JSON comes
as its text (as `Cast(name, TextField())` gives it).

Why the text format and not binary (as matching.storage reads the fingerprints): binary COPY has no
delimiters, so rows with variable-width fields (texts, NULLs) can only be found by walking them one
by one; the fingerprints are three non-null bigints, a fixed-width row numpy reads in place.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import QuerySet

TAB, NEWLINE, BACKSLASH = 9, 10, 92
NULL = b"\\N"
_ESCAPES = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v", b"\\": b"\\"}

INT_FIELDS = {
    "AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
    "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField", "ForeignKey",
    "OneToOneField",
}  # fmt: skip
TEXT_FIELDS = {"CharField", "TextField", "SlugField", "EmailField", "URLField", "JSONField"}

DATE_KEY_YEAR = 10**4  # a date as the integer YYYYMMDD: year × 10⁴ + month × 100 + day


def _unescape(cell: bytes) -> bytes:
    """COPY text escapes (\\t, \\n, \\\\ …) back to bytes (PostgreSQL writes no octal/hex escapes)."""
    if BACKSLASH not in cell:
        return cell
    out, i = bytearray(), 0
    while i < len(cell):
        if cell[i] == BACKSLASH and i + 1 < len(cell):
            out += _ESCAPES.get(cell[i + 1 : i + 2], cell[i + 1 : i + 2])
            i += 2
        else:
            out.append(cell[i])
            i += 1
    return bytes(out)


def _text(cell: bytes) -> str:
    return _unescape(cell).decode()


DECODERS: dict[str, Callable[[bytes], Any]] = {
    "int": int,
    "text": _text,
    "bool": lambda cell: cell == b"t",
    "date": lambda cell: dt.date.fromisoformat(cell.decode()),
    "decimal": lambda cell: Decimal(cell.decode()),
}


def kind_of_field(field: Any) -> str:
    internal = field.get_internal_type()
    if internal in INT_FIELDS:
        return "int"
    if internal in TEXT_FIELDS:
        return "text"
    if internal == "BooleanField":
        return "bool"
    if internal == "DateField":
        return "date"
    if internal == "DecimalField":
        return "decimal"
    raise TypeError(f"copy_columns cannot read a {internal}")


def copy_columns(queryset: QuerySet) -> list[list[Any]]:
    """The columns of a values_list queryset of field names (one list per field, rows in the
    queryset's order), read by COPY: PostgreSQL only."""
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    kinds = [kind_of_field(expression.output_field) for expression, _sql, _alias in compiler.select]
    with connection.cursor() as cursor:
        query = cursor.mogrify(sql, params).decode()
        buffer = io.BytesIO()
        with connection.wrap_database_errors:  # COPY bypasses Django's cursor wrapper: map its errors too
            cursor.copy_expert(f"COPY ({query}) TO STDOUT", buffer)
    return split_columns(buffer.getbuffer(), kinds)


def split_columns(raw: memoryview | bytes, kinds: list[str]) -> list[list[Any]]:
    """COPY text output (tab-separated fields, newline-terminated rows) as one list per column."""
    data = np.frombuffer(raw, dtype=np.uint8)
    width = len(kinds)
    delimiters = np.flatnonzero((data == TAB) | (data == NEWLINE))
    rows, extra = divmod(len(delimiters), width)
    if extra:
        raise ValueError(f"unexpected COPY output: {len(delimiters)} delimiters for {width} columns")
    ends = delimiters.reshape(rows, width)
    if rows and ((data[ends[:, -1]] != NEWLINE).any() or (data[ends[:, :-1]] == NEWLINE).any()):
        raise ValueError(f"unexpected COPY output: rows of other than {width} columns")
    starts = np.empty_like(ends)
    if rows:
        starts[:, 1:] = ends[:, :-1] + 1
        starts[0, 0] = 0
        starts[1:, 0] = ends[:-1, -1] + 1
    return [_column(data, starts[:, j], ends[:, j], kind) for j, kind in enumerate(kinds)]


_BOOLS = np.array([None, True, False], dtype=object)


def _column(data: np.ndarray, starts: np.ndarray, ends: np.ndarray, kind: str) -> list[Any]:
    """One column. Its cells are gathered into a fixed-width byte matrix (zero-padded); ints, dates
    and booleans are parsed from it arithmetically, other kinds decoded once per distinct cell."""
    if not len(starts):
        return []
    lengths = ends - starts
    size = max(int(lengths.max()), 1)
    offsets = np.arange(size)
    inside = offsets < lengths[:, None]
    matrix = data[np.where(inside, starts[:, None] + offsets, 0)]
    matrix[~inside] = 0
    null = (lengths == 2) & (matrix[:, 0] == BACKSLASH)
    if kind == "bool":
        return _BOOLS[np.where(null, 0, np.where(matrix[:, 0] == ord("t"), 1, 2))].tolist()
    digits = matrix.astype(np.int64) - ord("0")
    if kind == "int" and ((digits[~null] >= 0) & (digits[~null] <= 9) | ~inside[~null]).all():
        power = np.where(inside, lengths[:, None] - 1 - offsets, 0)
        numbers = (np.where(inside, digits, 0) * 10**power).sum(axis=1)
        return _with_nulls(numbers, null)
    if (
        kind == "date"
        and size == 10
        and (lengths[~null] == 10).all()
        and not (matrix[~null, 0] == ord("-")).any()
    ):
        keys = (
            (digits[:, :4] * [1000, 100, 10, 1]).sum(axis=1) * DATE_KEY_YEAR
            + (digits[:, 5:7] * [10, 1]).sum(axis=1) * 100
            + (digits[:, 8:10] * [10, 1]).sum(axis=1)
        )
        keys[null] = -1
        distinct, inverse = np.unique(keys, return_inverse=True)
        values = np.empty(len(distinct), dtype=object)
        values[:] = [
            None if key < 0 else dt.date(key // DATE_KEY_YEAR, key // 100 % 100, key % 100)
            for key in distinct.tolist()
        ]
        return values[inverse.reshape(-1)].tolist()
    decode = DECODERS[kind]
    cells = np.ascontiguousarray(matrix).view(f"S{size}").ravel()
    distinct, inverse = np.unique(cells, return_inverse=True)
    values = np.empty(len(distinct), dtype=object)
    values[:] = [None if cell == NULL else decode(cell) for cell in distinct.tolist()]
    return values[inverse.reshape(-1)].tolist()


def _with_nulls(numbers: np.ndarray, null: np.ndarray) -> list[Any]:
    if not null.any():
        return numbers.tolist()
    values = np.asarray(numbers.tolist(), dtype=object)
    values[null] = None
    return values.tolist()
