"""Set-wise writes of match results (used by services.py only).

Per chunk of enterprises (in a full run only those whose input digest changed, services.evaluate_locked;
their new digests are written here, models.ResultDigest): read the stored fingerprints (one range scan,
binary COPY on PostgreSQL)
and keep only the rows whose fingerprint changed, as tab-separated lines ordered by (enterprise,
benefit). Rows new to the table
go straight in (COPY on PostgreSQL); rows replacing a stored one go through a temporary table:
record the changes (status or amount differs), then upsert. Results of benefits that left force are
deleted, each with a change to not_in_force (the change's date and the benefit's dates say why).

Pairs out of scope (the document's applicability rules the enterprise out: engine Verdict.out_of_scope)
get no row: their letters go into the enterprise's OutOfScope record. A stored row that goes out of
scope is deleted (a change to not_eligible where it said otherwise); an entry that comes into scope
becomes a row (a change from not_eligible where the new verdict differs). So the store holds about
one row per pair that says something the benefit alone does not, plus one record per enterprise.
The caller holds the enterprises' row locks (services.lock_enterprises), so two evaluations of one
enterprise never interleave and a change is never recorded twice.

Per-item benefits also keep one row per item (matching_matchitemresult, beside the pair's aggregate
row): per chunk and benefit, the stored (item, fingerprint) set of each enterprise is compared with
the new one, and the item rows of the enterprises whose set differs are deleted and loaded again
(one DELETE and one COPY per benefit), so an added, edited or deleted item is reflected. Works on PostgreSQL and SQLite (both have INSERT …
ON CONFLICT DO UPDATE; SQLite gets the lines as parameter rows instead of COPY).

The enterprises whose rows (or item rows) a call writes or deletes get their `results:<id>`
validator counter bumped in the same transaction (policies/generations.py: the API's cached pages).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from enterprises.facts import is_dense
from matching.engine import ENGINE_VERSION, TableVerdicts
from matching.models import MatchResult, MatchStatus, OutOfScope
from policies import generations
from policies.models import Benefit

RESULTS = "matching_matchresult"
SCOPE = "matching_outofscope"
SCOPE_COLUMNS = ("enterprise_id", "benefits", "engine_version", "as_of", "evaluated_at")
DIGESTS = "matching_resultdigest"
DIGEST_COLUMNS = ("enterprise_id", "digest", "source")
CHANGES = "matching_matchchange"
INCOMING = "matching_incoming_result"  # a temporary table, one per connection
COLUMNS = (
    "enterprise_id", "benefit_id", "status", "score", "amount", "amount_basis", "leaf_outcomes",
    "fingerprint", "benefit_version", "engine_version", "as_of", "evaluated_at",
)  # fmt: skip
UPDATED = COLUMNS[2:]
CHANGE_COLUMNS = (
    "enterprise_id, benefit_id, old_status, new_status, old_amount, new_amount, cause, as_of, created_at"
)
ITEM_RESULTS = "matching_matchitemresult"
# what a run writes (services.analyze_results)
STORED_TABLES = (RESULTS, SCOPE, DIGESTS, ITEM_RESULTS, CHANGES)
ITEM_COLUMNS = (
    "enterprise_id", "benefit_id", "item_id", "status", "score", "amount", "amount_basis", "leaf_outcomes",
    "fingerprint", "as_of", "evaluated_at",
)  # fmt: skip
NULL = r"\N"


@dataclass
class Written:
    written: int = 0
    removed: int = 0
    changes: int = 0
    item_rows: int = 0  # per-item rows (re)written

    def add(self, other: Written) -> None:
        self.written += other.written
        self.removed += other.removed
        self.changes += other.changes
        self.item_rows += other.item_rows


def store(
    evaluated: list[TableVerdicts],
    enterprise_ids: Sequence[int] | np.ndarray,
    out_of_force: dict[int, str],
    *,
    as_of: dt.date,
    cause: str,
    digests: np.ndarray | None = None,
    sources: np.ndarray | None = None,
) -> Written:
    """Write what changed for these enterprises (call inside a transaction). `digests`: their input
    digests (engine.input_digests) when every benefit in force was evaluated; they are stored with
    the results, with their `sources` (PostgreSQL) when given. Without, the digests of the
    enterprises whose results change are deleted."""
    ids = np.asarray(enterprise_ids, dtype=np.int64)
    now = timezone.now()
    scope = _ScopeRecords.read(ids, evaluated)
    new, replacing, entered, left, touched = _changed_lines(evaluated, ids, as_of, now, scope)
    written = Written(written=len(new) + len(replacing))
    with connection.cursor() as cursor:
        if new and not _insert_new(cursor, new):
            replacing = new + replacing  # someone stored some of them meanwhile: upsert them all
        if replacing:
            _prepare_incoming(cursor)
            _load(cursor, INCOMING, replacing)
            written.changes += _record_changes(cursor, cause, as_of, now)
            cursor.execute(
                f"INSERT INTO {RESULTS} ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} FROM {INCOMING} "
                "WHERE true ON CONFLICT (enterprise_id, benefit_id) DO UPDATE SET "
                + ", ".join(f"{column} = excluded.{column}" for column in UPDATED)
            )
        written.item_rows = _store_items(cursor, evaluated, ids, as_of, now, touched)
        for benefit_id, enterprises in left.items():  # stored rows now out of scope
            removed, changes = _remove(
                [benefit_id], enterprises, cursor, cause, as_of, now, touched, "not_eligible"
            )
            written.removed += removed
            written.changes += changes
        for benefit_ids in _stored_out_of_force(cursor, out_of_force, ids):
            removed, changes = _remove(benefit_ids, ids, cursor, cause, as_of, now, touched, "not_in_force")
            written.removed += removed
            written.changes += changes
        gone = scope.drop(out_of_force)  # out-of-scope entries of benefits that left force
        change_lines = [_change_line(*change, cause, as_of, now) for change in (*entered, *gone)]
        if change_lines:
            _load(cursor, CHANGES, change_lines, CHANGE_COLUMNS.split(", "))
            written.changes += len(change_lines)
        touched.update(scope.write(cursor, as_of, now))
        if digests is not None:
            _write_digests(cursor, ids, digests, sources)
        elif touched:  # what changed is no longer what their digest says
            marks, params = _in_list(sorted(touched))
            cursor.execute(f"DELETE FROM {DIGESTS} WHERE enterprise_id IN ({marks})", params)
    generations.bump_results(touched)
    return written


@dataclass
class StoredDigests:
    """The ResultDigest of each enterprise of a chunk (sorted ids); `has_*` false where absent or null."""

    digest: np.ndarray
    has_digest: np.ndarray
    source: np.ndarray
    has_source: np.ndarray

    @classmethod
    def read(cls, ids: np.ndarray) -> StoredDigests:
        n = len(ids)
        found = cls(np.zeros(n, np.int64), np.zeros(n, bool), np.zeros(n, np.int64), np.zeros(n, bool))
        if not n:
            return found
        condition, params = _enterprises(ids)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(DIGEST_COLUMNS)} FROM {DIGESTS} WHERE {condition}", params)
            rows = cursor.fetchall()
        position = {pk: i for i, pk in enumerate(ids.tolist())}
        for pk, digest, source in rows:
            i = position.get(pk)
            if i is None:  # another enterprise in the range
                continue
            found.digest[i], found.has_digest[i] = digest, True
            if source is not None:
                found.source[i], found.has_source[i] = source, True
        return found

    def same_digest(self, digests: np.ndarray) -> np.ndarray:
        return self.has_digest & (self.digest == digests)

    def same_source(self, sources: np.ndarray) -> np.ndarray:
        return self.has_source & (self.source == sources)


def write_digests(*, ids: np.ndarray, digests: np.ndarray, sources: np.ndarray | None) -> None:
    """Store these enterprises' digests without touching their results (their facts are as the
    digest says, read from other rows or on another date: only the source hash moved)."""
    with connection.cursor() as cursor:
        _write_digests(cursor, ids, digests, sources)


def _write_digests(cursor, ids: np.ndarray, digests: np.ndarray, sources: np.ndarray | None) -> None:
    if not len(ids):
        return
    marks, params = _in_list(ids.tolist())
    cursor.execute(f"DELETE FROM {DIGESTS} WHERE enterprise_id IN ({marks})", params)
    source_texts = [NULL] * len(ids) if sources is None else sources.tolist()
    lines = [
        f"{pk}\t{digest}\t{source}\n"
        for pk, digest, source in zip(ids.tolist(), digests.tolist(), source_texts, strict=True)
    ]
    _load(cursor, DIGESTS, lines, DIGEST_COLUMNS)


def _dense(ids: np.ndarray) -> bool:
    """enterprises.facts.is_dense of a sorted id array: read as the range, else as the ids."""
    return is_dense(ids.tolist())


def _enterprises(ids: np.ndarray) -> tuple[str, list[int]]:
    """A condition on enterprise_id that selects (at least) these sorted ids (_dense)."""
    if _dense(ids):
        return "enterprise_id BETWEEN %s AND %s", [int(ids[0]), int(ids[-1])]
    marks, params = _in_list(ids.tolist())
    return f"enterprise_id IN ({marks})", params


class _ScopeRecords:
    """The OutOfScope records of a chunk of enterprises: read once, updated per benefit, written back
    (only those that changed: delete and load again, like the item rows)."""

    def __init__(self, stored: dict[int, dict[str, str]]) -> None:
        self.stored = stored
        self.maps = {pk: dict(entries) for pk, entries in stored.items()}
        self.holders: dict[str, list[int]] = {}  # benefit key → the enterprises whose record has it
        for pk, entries in stored.items():
            for key in entries:
                self.holders.setdefault(key, []).append(pk)

    @classmethod
    def read(cls, ids: np.ndarray, evaluated: list[TableVerdicts]) -> _ScopeRecords:
        """The records these verdicts may change. A run of a few benefits (a cap edit) reads only the
        records with an entry for one of them and those of the enterprises now out of scope of one."""
        if not len(ids):
            return cls({})
        chunk = set(ids.tolist())
        rows = OutOfScope.objects.filter(
            **(
                {"pk__gte": int(ids[0]), "pk__lte": int(ids[-1])}
                if _dense(ids)
                else {"pk__in": sorted(chunk)}
            )
        )
        if len(evaluated) <= FEW_BENEFITS and len(ids) > FEW_ENTERPRISES:  # (one record: read it)
            out = {
                pk
                for result in evaluated
                if result.out_of_scope is not None
                for pk in ids[result.out_of_scope].tolist()
            }
            keys = [str(result.spec.benefit_id) for result in evaluated]
            rows = rows.filter(Q(benefits__has_any_keys=keys) | Q(pk__in=sorted(out)))
        return cls(
            {pk: benefits for pk, benefits in rows.values_list("enterprise_id", "benefits") if pk in chunk}
        )

    def put(self, benefit_id: int, enterprise_ids: list[int], letters: list[str]) -> None:
        """These enterprises are out of scope of the benefit, with these letters."""
        key, maps = str(benefit_id), self.maps
        for pk, text in zip(enterprise_ids, letters, strict=True):
            entries = maps.get(pk)
            if entries is None:
                entries = maps[pk] = {}
            entries[key] = text

    def clear(self, benefit_id: int, ids: np.ndarray, in_scope: np.ndarray) -> None:
        """The enterprises of `ids` (sorted) where `in_scope` is true have no entry for the benefit."""
        key = str(benefit_id)
        holders = self.holders.get(key)
        if not holders:
            return
        rows = np.searchsorted(ids, holders)
        for pk, inside in zip(holders, in_scope[rows].tolist(), strict=True):
            if inside:
                self.maps[pk].pop(key, None)

    def had(self, enterprise_id: int, benefit_id: int) -> bool:
        return str(benefit_id) in self.stored.get(enterprise_id, {})

    def drop(self, benefit_ids) -> list[tuple]:
        """Remove the entries of these benefits: (enterprise, benefit, old, new status, old, new amount)."""
        keys = {str(pk) for pk in benefit_ids}
        gone = []
        for pk, entries in self.maps.items():
            for key in keys & entries.keys():
                del entries[key]
                gone.append((pk, int(key), MatchStatus.NOT_ELIGIBLE, MatchStatus.NOT_IN_FORCE, None, None))
        return gone

    def write(self, cursor, as_of: dt.date, now: dt.datetime) -> list[int]:
        changed = sorted(pk for pk, entries in self.maps.items() if entries != self.stored.get(pk, {}))
        if not changed:
            return []
        marks, params = _in_list(changed)
        cursor.execute(f"DELETE FROM {SCOPE} WHERE enterprise_id IN ({marks})", params)
        stamp = f"\t{ENGINE_VERSION}{_dated(as_of, now)}"
        lines = [
            f"{pk}\t{json.dumps(self.maps[pk], separators=(',', ':'), sort_keys=True)}{stamp}"
            for pk in changed
            if self.maps[pk]
        ]
        if lines:
            _load(cursor, SCOPE, lines, SCOPE_COLUMNS)
        return changed


def _change_line(
    enterprise_id, benefit_id, old_status, new_status, old_amount, new_amount, cause, as_of, now
) -> str:
    def text(value) -> str:
        return NULL if value is None else str(value)

    fields = (
        enterprise_id,
        benefit_id,
        old_status,
        new_status,
        text(old_amount),
        text(new_amount),
        cause[:200],
    )
    return "\t".join(map(str, fields)) + _dated(as_of, now)


def _dated(as_of: dt.date, now: dt.datetime) -> str:
    """The end of a COPY line: the evaluation date and the time written."""
    return f"\t{as_of.isoformat()}\t{connection.ops.adapt_datetimefield_value(now)}\n"


def _changed_lines(
    evaluated: list[TableVerdicts], ids: np.ndarray, as_of: dt.date, now: dt.datetime, scope: _ScopeRecords
) -> tuple[list[str], list[str], list[tuple], dict[int, list[int]], set[int]]:
    """(new rows, rows replacing a stored one) whose fingerprint differs, as lines in COLUMNS order,
    sorted by (enterprise, benefit) so that the unique index is filled in order; the changes of pairs
    that come into scope (their previous verdict: not eligible, no amount); benefit → the enterprises
    whose stored row is now out of scope; the enterprises of those lines. Out-of-scope pairs go into
    `scope` instead of rows."""
    if not evaluated or not len(ids):
        return [], [], [], {}, set()
    evaluated = sorted(evaluated, key=lambda e: e.spec.benefit_id)
    benefit_ids = np.array([e.spec.benefit_id for e in evaluated], dtype=np.int64)
    stored = _stored_fingerprints(ids, benefit_ids)
    present = np.zeros((len(ids), len(evaluated)), dtype=bool)
    old = np.zeros((len(ids), len(evaluated)), dtype=np.int64)
    if len(stored):
        where = (np.searchsorted(ids, stored[:, 0]), np.searchsorted(benefit_ids, stored[:, 1]))
        present[where], old[where] = True, stored[:, 2]
    in_scope = np.stack([e.in_scope() for e in evaluated], axis=1)
    changed = in_scope & (~present | (old != np.stack([e.fingerprints for e in evaluated], axis=1)))
    enterprise = ids.tolist()
    left: dict[int, list[int]] = {}
    for j, result in enumerate(evaluated):
        benefit_id = int(benefit_ids[j])
        out = np.flatnonzero(~in_scope[:, j])
        if len(out):
            scope.put(
                benefit_id, ids[out].tolist(), _outcome_texts(result.letters[out, : result.scope_leaves])
            )
        scope.clear(benefit_id, ids, in_scope[:, j])
        leaving = np.flatnonzero(~in_scope[:, j] & present[:, j])
        if len(leaving):
            left[benefit_id] = ids[leaving].tolist()
    rows, columns = np.nonzero(changed)  # row-major: ordered by (enterprise, benefit)
    if not len(rows):
        return [], [], [], left, set()
    suffix = f"\t{ENGINE_VERSION}{_dated(as_of, now)}"
    fields = [_fields(result) if changed[:, j].any() else None for j, result in enumerate(evaluated)]
    new: list[str] = []
    replacing: list[str] = []
    entered: list[tuple] = []
    for i, j in zip(rows.tolist(), columns.tolist(), strict=True):
        head, status, score, amount, outcomes, fingerprint, tail = fields[j]
        line = f"{enterprise[i]}\t{head}{status[i]}\t{score[i]}\t{amount[i]}\t{outcomes[i]}\t{fingerprint[i]}{tail}{suffix}"
        (replacing if present[i, j] else new).append(line)
        if scope.stored and not present[i, j] and scope.had(enterprise[i], int(benefit_ids[j])):
            value = evaluated[j].amount(i).value
            if status[i] != MatchStatus.NOT_ELIGIBLE or value is not None:
                entered.append(
                    (enterprise[i], int(benefit_ids[j]), MatchStatus.NOT_ELIGIBLE, status[i], None, value)
                )
    return new, replacing, entered, left, set(ids[np.unique(rows)].tolist())


def _outcome_texts(letters: np.ndarray) -> list[str]:
    """Each row of a (rows, leaves) letter array as text."""
    if not letters.shape[1]:
        return [""] * len(letters)
    return np.ascontiguousarray(letters).view(f"S{letters.shape[1]}").ravel().astype(str).tolist()


def _fields(result: TableVerdicts) -> tuple:
    """Per-row texts of one benefit's verdicts (amount and basis together, looked up by code)."""
    amounts = [f"{NULL if a.value is None else a.value}\t{a.basis.value}" for a in result.amount_table]
    outcomes = _outcome_texts(result.letters)
    return (
        f"{result.spec.benefit_id}\t",
        result.status_slugs(),
        result.score.tolist(),
        [amounts[code] for code in result.amount_codes.tolist()],
        outcomes,
        result.fingerprints.tolist(),
        f"\t{result.spec.version}",
    )


def _store_items(
    cursor, evaluated: list[TableVerdicts], ids: np.ndarray, as_of: dt.date, now, touched: set[int]
) -> int:
    """Rewrite the item rows of the enterprises whose items' (id, fingerprint) set changed."""
    per_item = [result for result in evaluated if result.spec.per_item]
    if not per_item or not len(ids):
        return 0
    benefit_marks, benefit_params = _in_list([result.spec.benefit_id for result in per_item])
    condition, params = _enterprises(ids)
    cursor.execute(
        f"SELECT enterprise_id, benefit_id, item_id, fingerprint FROM {ITEM_RESULTS} "
        f"WHERE {condition} AND benefit_id IN ({benefit_marks})",
        params + benefit_params,
    )
    chunk = set(ids.tolist())
    stored: dict[tuple[int, int], set[tuple[int, int]]] = {}
    for enterprise_id, benefit_id, item_id, fingerprint in cursor.fetchall():
        if enterprise_id in chunk:
            stored.setdefault((benefit_id, enterprise_id), set()).add((item_id, fingerprint))
    stamp = _dated(as_of, now)
    enterprise = ids.tolist()
    count = 0
    for result in per_item:
        benefit_id = result.spec.benefit_id
        fresh: dict[int, set[tuple[int, int]]] = {}
        lines: dict[int, list[str]] = {}
        table = result.items
        if table is not None:
            _, status, score, amount, outcomes, fingerprint, _ = _fields(table.verdicts)
            in_scope = table.verdicts.in_scope()  # an out-of-scope enterprise's items have no rows either
            for k, (row, item_id) in enumerate(zip(table.owner.tolist(), table.ids.tolist(), strict=True)):
                if not in_scope[k]:
                    continue
                owner = enterprise[row]
                fresh.setdefault(owner, set()).add((item_id, fingerprint[k]))
                lines.setdefault(owner, []).append(
                    f"{owner}\t{benefit_id}\t{item_id}\t{status[k]}\t{score[k]}\t{amount[k]}\t"
                    f"{outcomes[k]}\t{fingerprint[k]}{stamp}"
                )
        had = {owner for (benefit, owner) in stored if benefit == benefit_id}
        changed = sorted(
            owner
            for owner in had | set(fresh)
            if fresh.get(owner, set()) != stored.get((benefit_id, owner), set())
        )
        if not changed:
            continue
        touched.update(changed)
        enterprise_marks, enterprise_params = _in_list(changed)
        cursor.execute(
            f"DELETE FROM {ITEM_RESULTS} WHERE benefit_id = %s AND enterprise_id IN ({enterprise_marks})",
            [benefit_id, *enterprise_params],
        )
        rows = [line for owner in changed for line in lines.get(owner, [])]
        if rows:
            _load(cursor, ITEM_RESULTS, rows, ITEM_COLUMNS)
        count += len(rows)
    return count


def _in_list(values: Sequence[int]) -> tuple[str, list[int]]:
    return ", ".join(["%s"] * len(values)), [int(value) for value in values]


# COPY … (FORMAT binary) of three non-null bigint columns: a 19-byte header, then per row the field
# count and each field's length and big-endian value (fixed size: parsed in place), then a -1 trailer.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00"
COPY_ROW = np.dtype(
    [("fields", ">i2"), ("l0", ">i4"), ("enterprise", ">i8"), ("l1", ">i4"), ("benefit", ">i8"),
     ("l2", ">i4"), ("fingerprint", ">i8")]
)  # fmt: skip


# Up to this many benefits (a run after one benefit's edit) the out-of-scope records read are only
# those the run can change (the GIN index answers "has an entry for one of them").
FEW_BENEFITS = 8

# Up to this many enterprises (one being re-evaluated, a small drain) the stored fingerprints are
# fetched as plain rows: COPY and its planner settings cost three round trips, more than the rows.
FEW_ENTERPRISES = 20


def _stored_fingerprints(ids: np.ndarray, benefit_ids: np.ndarray) -> np.ndarray:
    """(enterprise_id, benefit_id, fingerprint) of the stored rows of these enterprises and benefits.

    One range scan of the unique (enterprise, benefit) index over the chunk's ids (binary COPY on
    PostgreSQL, parsed by numpy in place); the rows of other enterprises in that range are dropped here."""
    # the benefits as an index condition too: a job about one benefit reads its rows only
    benefit_marks, benefit_params = _in_list(benefit_ids.tolist())
    condition, params = _enterprises(ids)
    query = (
        f"SELECT enterprise_id, benefit_id, fingerprint FROM {RESULTS} "
        f"WHERE {condition} AND benefit_id IN ({benefit_marks})"
    )
    params += benefit_params
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(ids) > FEW_ENTERPRISES:
            stored = _copy_bigints(cursor, cursor.mogrify(query, params).decode())
        else:
            cursor.execute(query, params)
            stored = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 3)
    return stored[np.isin(stored[:, 0], ids) & np.isin(stored[:, 1], benefit_ids)]


def _copy_bigints(cursor, query: str) -> np.ndarray:
    """The rows of `query` (three non-null bigint columns) as an int64 array, via binary COPY: parsing
    the text form cost more than the read itself. A chunk's read is small and runs in parallel
    chunks already: PostgreSQL's own parallel workers and JIT only add start-up time to it."""
    cursor.execute(
        "SELECT current_setting('max_parallel_workers_per_gather'), current_setting('jit'), "
        "set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)"
    )
    workers, jit = cursor.fetchone()[:2]
    buffer = io.BytesIO()
    with connection.wrap_database_errors:
        cursor.copy_expert(f"COPY ({query}) TO STDOUT (FORMAT binary)", buffer)
    # for this read only (an error rolls the transaction or savepoint back, settings included)
    cursor.execute(
        "SELECT set_config('max_parallel_workers_per_gather', %s, true), set_config('jit', %s, true)",
        [workers, jit],
    )
    raw = buffer.getbuffer()
    header = len(COPY_HEADER) + 8  # signature, flags, header extension length (0)
    count, trailer = divmod(len(raw) - header - 2, COPY_ROW.itemsize)
    if bytes(raw[: len(COPY_HEADER)]) != COPY_HEADER or trailer or raw[header - 4 : header] != b"\0" * 4:
        raise ValueError(f"unexpected binary COPY output ({len(raw)} bytes)")
    rows = np.frombuffer(raw, dtype=COPY_ROW, count=count, offset=header)
    if count and not (
        (rows["fields"] == 3).all()
        and (rows["l0"] == 8).all()
        and (rows["l1"] == 8).all()
        and (rows["l2"] == 8).all()
    ):
        raise ValueError("unexpected binary COPY row layout (three non-null bigints expected)")
    stored = np.empty((count, 3), dtype=np.int64)
    stored[:, 0], stored[:, 1], stored[:, 2] = rows["enterprise"], rows["benefit"], rows["fingerprint"]
    return stored


def _insert_new(cursor, lines: list[str]) -> bool:
    """Insert rows absent from the table; False (nothing written) when one appeared meanwhile."""
    try:
        with transaction.atomic():
            _load(cursor, RESULTS, lines)
    except IntegrityError:
        return False
    return True


def _load(cursor, table: str, lines: list[str], columns: Sequence[str] = COLUMNS) -> None:
    if connection.vendor == "postgresql":
        with connection.wrap_database_errors:  # COPY bypasses Django's cursor wrapper: map its errors too
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.StringIO("".join(lines)))
    else:
        rows = [[None if field == NULL else field for field in line[:-1].split("\t")] for line in lines]
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def _prepare_incoming(cursor) -> None:
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {INCOMING} ("
        "enterprise_id bigint, benefit_id bigint, status varchar(20), score smallint, amount numeric(16, 2), "
        "amount_basis varchar(20), leaf_outcomes varchar(200), fingerprint bigint, benefit_version integer, "
        "engine_version varchar(20), as_of date, evaluated_at timestamp with time zone)"
    )
    cursor.execute(f"DELETE FROM {INCOMING}")


def _distinct(left: str, right: str) -> str:
    """NULL-safe inequality in both dialects."""
    return (
        f"{left} IS DISTINCT FROM {right}" if connection.vendor == "postgresql" else f"{left} IS NOT {right}"
    )


def _record_changes(cursor, cause: str, as_of: dt.date, now: dt.datetime) -> int:
    cursor.execute(
        f"INSERT INTO {CHANGES} ({CHANGE_COLUMNS}) "
        f"SELECT i.enterprise_id, i.benefit_id, m.status, i.status, m.amount, i.amount, %s, %s, %s FROM {INCOMING} i "
        f"JOIN {RESULTS} m ON m.enterprise_id = i.enterprise_id AND m.benefit_id = i.benefit_id "
        f"WHERE m.status <> i.status OR {_distinct('m.amount', 'i.amount')}",
        [cause[:200], as_of, now],
    )
    return cursor.rowcount


def _stored_out_of_force(cursor, out_of_force: dict[int, str], ids: np.ndarray) -> list[list[int]]:
    """The benefits not in force that may still have results for these enterprises (one batch)."""
    if not out_of_force or not len(ids):
        return []
    benefit_marks, benefit_params = _in_list(list(out_of_force))
    condition, params = _enterprises(ids)
    cursor.execute(
        f"SELECT DISTINCT benefit_id FROM {RESULTS} WHERE benefit_id IN ({benefit_marks}) AND {condition}",
        [*benefit_params, *params],
    )
    stored = [benefit_id for (benefit_id,) in cursor.fetchall()]
    return [stored] if stored else []


def _remove(
    benefit_ids: Sequence[int],
    enterprise_ids: Sequence[int] | np.ndarray,
    cursor,
    cause: str,
    as_of: dt.date,
    now,
    touched: set[int],
    new_status: str,
) -> tuple[int, int]:
    """Delete the stored results (and item rows) of these benefits for these enterprises, each with a
    change to `new_status` (no amount) where the stored status or amount differs: not_in_force for a
    benefit that left force, not_eligible for a pair now out of scope (OutOfScope keeps it)."""
    benefit_marks, benefit_params = _in_list(benefit_ids)
    enterprise_marks, enterprise_params = _in_list(enterprise_ids)
    where = f"benefit_id IN ({benefit_marks}) AND enterprise_id IN ({enterprise_marks})"
    cursor.execute(
        f"SELECT DISTINCT enterprise_id FROM {RESULTS} WHERE {where}", benefit_params + enterprise_params
    )
    touched.update(pk for (pk,) in cursor.fetchall())
    cursor.execute(
        f"INSERT INTO {CHANGES} ({CHANGE_COLUMNS}) "
        f"SELECT enterprise_id, benefit_id, status, %s, amount, NULL, %s, %s, %s FROM {RESULTS} "
        f"WHERE {where} AND (status <> %s OR amount IS NOT NULL)",
        [new_status, cause[:200], as_of, now, *benefit_params, *enterprise_params, new_status],
    )
    changes = cursor.rowcount
    cursor.execute(f"DELETE FROM {ITEM_RESULTS} WHERE {where}", benefit_params + enterprise_params)
    cursor.execute(f"DELETE FROM {RESULTS} WHERE {where}", benefit_params + enterprise_params)
    return cursor.rowcount, changes


def benefits_with_results(benefit_ids: Sequence[int]) -> set[int]:
    """Those of these benefits with any stored result: a MatchResult row or an out-of-scope entry
    (the GIN index on PostgreSQL; a scan of the records on SQLite, the small embedded mode)."""
    benefit_ids = [int(pk) for pk in benefit_ids]
    if not benefit_ids:
        return set()
    found = set(  # one index probe per benefit (a DISTINCT would read every row of the index)
        Benefit.objects.filter(pk__in=benefit_ids)
        .filter(Exists(MatchResult.objects.filter(benefit_id=OuterRef("pk"))))
        .values_list("pk", flat=True)
    )
    rest = [pk for pk in benefit_ids if pk not in found]
    if not rest:
        return found
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT b FROM unnest(%s::bigint[]) b WHERE EXISTS (SELECT 1 FROM {SCOPE} WHERE benefits ? b::text)",
                [rest],
            )
        else:
            marks, params = _in_list(rest)
            cursor.execute(
                f"SELECT DISTINCT CAST(e.key AS INTEGER) FROM {SCOPE} o, json_each(o.benefits) e "
                f"WHERE CAST(e.key AS INTEGER) IN ({marks})",
                params,
            )
        found.update(pk for (pk,) in cursor.fetchall())
    return found
