"""Set-wise writes of match results (used by services.py only).

Per chunk of enterprises: read the stored fingerprints in one query and keep only the rows whose
fingerprint changed. Rows new to the table go straight in (COPY on PostgreSQL); rows replacing a
stored one go through a temporary table: record the changes (status or amount differs), then
upsert. Results of benefits not in force are deleted, each with a change to not_in_force. Works on
PostgreSQL and SQLite (both have INSERT … ON CONFLICT DO UPDATE).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from matching.engine import ENGINE_VERSION, TableVerdicts

RESULTS = "matching_matchresult"
INCOMING = "matching_incoming_result"  # a temporary table, one per connection
COLUMNS = (
    "enterprise_id", "benefit_id", "status", "score", "amount", "amount_basis", "leaf_outcomes",
    "fingerprint", "benefit_version",
)  # fmt: skip
CONSTANTS = ("engine_version", "as_of", "evaluated_at")
UPDATED = (*COLUMNS[2:], *CONSTANTS)
CHANGE_COLUMNS = (
    "enterprise_id, benefit_id, old_status, new_status, old_amount, new_amount, cause, as_of, created_at"
)


@dataclass
class Written:
    written: int = 0
    removed: int = 0
    changes: int = 0


def store(
    evaluated: list[TableVerdicts],
    enterprise_ids: Sequence[int],
    out_of_force: dict[int, str],
    *,
    as_of: dt.date,
    cause: str,
) -> Written:
    """Write what changed for these enterprises (call inside a transaction)."""
    ids = np.asarray(enterprise_ids, dtype=np.int64)
    new, replacing = _changed_rows(evaluated, ids)
    now = timezone.now()
    constants = [ENGINE_VERSION, as_of, now]
    written = Written(written=len(new) + len(replacing))
    with connection.cursor() as cursor:
        if new and not _copy_new(cursor, new, as_of, now):
            replacing = new + replacing  # someone stored some of them meanwhile: upsert all
        if replacing:
            _prepare_incoming(cursor)
            _load(cursor, INCOMING, COLUMNS, replacing)
            written.changes += _record_changes(cursor, cause, as_of, now)
            cursor.execute(
                f"INSERT INTO {RESULTS} ({', '.join(COLUMNS + CONSTANTS)}) "
                f"SELECT {', '.join(COLUMNS)}, %s, %s, %s FROM {INCOMING} WHERE true "
                "ON CONFLICT (enterprise_id, benefit_id) DO UPDATE SET "
                + ", ".join(f"{column} = excluded.{column}" for column in UPDATED),
                constants,
            )
        for benefit_ids in _stored_out_of_force(cursor, out_of_force, ids).values():
            reason = out_of_force[benefit_ids[0]]
            removed, changes = _remove(cursor, benefit_ids, ids, f"{cause}: {reason}", as_of, now)
            written.removed += removed
            written.changes += changes
    return written


def _changed_rows(evaluated: list[TableVerdicts], ids: np.ndarray) -> tuple[list[tuple], list[tuple]]:
    """(new rows, rows replacing a stored one) whose fingerprint differs, ordered by (enterprise, benefit)."""
    if not evaluated or not len(ids):
        return [], []
    evaluated = sorted(evaluated, key=lambda e: e.spec.benefit_id)
    benefit_ids = np.array([e.spec.benefit_id for e in evaluated], dtype=np.int64)
    stored = _stored_fingerprints(ids, benefit_ids)
    present = np.zeros((len(ids), len(evaluated)), dtype=bool)
    old = np.zeros((len(ids), len(evaluated)), dtype=np.int64)
    if len(stored):
        where = (np.searchsorted(ids, stored[:, 0]), np.searchsorted(benefit_ids, stored[:, 1]))
        present[where], old[where] = True, stored[:, 2]
    fingerprints = np.stack([e.fingerprints for e in evaluated], axis=1)
    new: list[tuple] = []
    replacing: list[tuple] = []
    rows, columns = np.nonzero(~present | (old != fingerprints))  # row-major: sorted by (enterprise, benefit)
    for i, j in zip(rows.tolist(), columns.tolist(), strict=True):
        result = evaluated[j]
        amount = result.amount(i)
        row = (
            int(ids[i]),
            result.spec.benefit_id,
            result.status_slug(i),
            int(result.score[i]),
            amount.value,
            amount.basis.value,
            result.leaf_outcomes(i),
            int(fingerprints[i, j]),
            result.spec.version,
        )
        (replacing if present[i, j] else new).append(row)
    return new, replacing


def _in_list(values: Sequence[int]) -> tuple[str, list[int]]:
    return ", ".join(["%s"] * len(values)), [int(value) for value in values]


def _stored_fingerprints(ids: np.ndarray, benefit_ids: np.ndarray) -> np.ndarray:
    """(enterprise_id, benefit_id, fingerprint) of the stored rows, as an int64 array."""
    enterprise_marks, enterprise_params = _in_list(ids)
    benefit_marks, benefit_params = _in_list(benefit_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT enterprise_id, benefit_id, fingerprint FROM {RESULTS} "
            f"WHERE enterprise_id IN ({enterprise_marks}) AND benefit_id IN ({benefit_marks})",
            enterprise_params + benefit_params,
        )
        rows = cursor.fetchall()
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def _copy_new(cursor, rows: list[tuple], as_of: dt.date, now: dt.datetime) -> bool:
    """Insert rows absent from the table; False (nothing written) when one appeared meanwhile."""
    rows = [(*row, ENGINE_VERSION, as_of, now) for row in rows]
    try:
        with transaction.atomic():
            _load(cursor, RESULTS, COLUMNS + CONSTANTS, rows)
    except IntegrityError:
        return False
    return True


def _load(cursor, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if connection.vendor == "postgresql":
        text = "".join(
            "\t".join(r"\N" if value is None else str(value) for value in row) + "\n" for row in rows
        )
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO(text))
    else:
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _prepare_incoming(cursor) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {INCOMING} ("
        "enterprise_id bigint, benefit_id bigint, status varchar(20), score smallint, amount numeric(16, 2), "
        "amount_basis varchar(20), leaf_outcomes varchar(200), fingerprint bigint, benefit_version integer)"
    )
    cursor.execute(f"DELETE FROM {INCOMING}")


def _distinct(left: str, right: str) -> str:
    """NULL-safe inequality in both dialects."""
    return (
        f"{left} IS DISTINCT FROM {right}" if connection.vendor == "postgresql" else f"{left} IS NOT {right}"
    )


def _record_changes(cursor, cause: str, as_of: dt.date, now: dt.datetime) -> int:
    cursor.execute(
        f"INSERT INTO matching_matchchange ({CHANGE_COLUMNS}) "
        f"SELECT i.enterprise_id, i.benefit_id, m.status, i.status, m.amount, i.amount, %s, %s, %s FROM {INCOMING} i "
        f"JOIN {RESULTS} m ON m.enterprise_id = i.enterprise_id AND m.benefit_id = i.benefit_id "
        f"WHERE m.status <> i.status OR {_distinct('m.amount', 'i.amount')}",
        [cause[:200], as_of, now],
    )
    return cursor.rowcount


def _stored_out_of_force(cursor, out_of_force: dict[int, str], ids: np.ndarray) -> dict[str, list[int]]:
    """The benefits not in force that still have results for these enterprises, by reason."""
    if not out_of_force or not len(ids):
        return {}
    benefit_marks, benefit_params = _in_list(list(out_of_force))
    enterprise_marks, enterprise_params = _in_list(ids)
    cursor.execute(
        f"SELECT DISTINCT benefit_id FROM {RESULTS} "
        f"WHERE enterprise_id IN ({enterprise_marks}) AND benefit_id IN ({benefit_marks})",
        enterprise_params + benefit_params,
    )
    by_reason: dict[str, list[int]] = {}
    for (benefit_id,) in cursor.fetchall():
        by_reason.setdefault(out_of_force[benefit_id], []).append(benefit_id)
    return by_reason


def _remove(
    cursor, benefit_ids: list[int], ids: np.ndarray, cause: str, as_of: dt.date, now
) -> tuple[int, int]:
    """Delete the results of benefits not in force, each with a change to not_in_force."""
    benefit_marks, benefit_params = _in_list(benefit_ids)
    enterprise_marks, enterprise_params = _in_list(ids)
    where = f"benefit_id IN ({benefit_marks}) AND enterprise_id IN ({enterprise_marks})"
    cursor.execute(
        f"INSERT INTO matching_matchchange ({CHANGE_COLUMNS}) "
        f"SELECT enterprise_id, benefit_id, status, 'not_in_force', amount, NULL, %s, %s, %s FROM {RESULTS} WHERE {where}",
        [cause[:200], as_of, now, *benefit_params, *enterprise_params],
    )
    changes = cursor.rowcount
    cursor.execute(f"DELETE FROM {RESULTS} WHERE {where}", benefit_params + enterprise_params)
    return cursor.rowcount, changes
