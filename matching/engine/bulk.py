"""The bulk path: one benefit over many enterprises at once, vectorised with numpy.

Each leaf becomes a vector of outcomes (a `known` mask plus a truth mask); the tree is folded with
the same `fold` as the per-enterprise path, so there is no per-row loop over the condition tree.
Columns are normalised and encoded once per fact and shared by every benefit:
- numbers: float64 keys; float(Decimal) is monotonic, so comparisons are exact except between
  values that round to the same float: those rows (rare) are re-compared exactly as Decimals;
- dates: ordinal ints; bools: 0/1; texts and region codes: ranks among the column's sorted distinct values (odd
  numbers; a constant absent from the column gets the even number between its neighbours);
- sets: one membership mask per element;
- every column: a code per row into its distinct values, so that amounts (one rule, one base) and
  value hashes (fingerprints) are computed once per distinct value.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from matching.engine.amounts import (
    NOT_APPLICABLE,
    Amount,
    amount_inputs,
    cap_group_of,
    combine_amounts,
    potential_amount,
)
from matching.engine.conditions import (
    COMPARISONS,
    OUTCOME_LETTERS,
    CompiledCondition,
    Leaf,
    Outcome,
    comparison_truth,
    compile_condition,
    fold,
)
from matching.engine.fingerprint import PRIME, combine_fingerprint_rows, fingerprints, mix64, value_hashes
from matching.engine.spec import IN_FORCE, BenefitSpec, validity_key, validity_on
from matching.engine.values import Catalog, FactValueError, Kind, kind_of, normalize
from matching.engine.verdict import (
    AMOUNT_STATUSES,
    Status,
    Verdict,
    input_codes,
    scope_node,
    status_and_score,
)

# Python types a column may hold as they are (anything else goes through normalize, value by value).
_READY: dict[Kind, set[type]] = {
    Kind.NUMBER: {Decimal},
    Kind.TEXT: {str},
    Kind.BOOL: {bool},
    Kind.SET: {frozenset},
    Kind.DATE: {dt.date},
    Kind.REGION: {str},
}
_LETTERS = np.frombuffer(OUTCOME_LETTERS.encode(), dtype=np.uint8)
_SLUGS = np.array([status.slug for status in Status], dtype=object)


def _normalized(kind: Kind, raw: Sequence[Any]) -> list[Any]:
    """The column as normalize would make it; values already of the right type are kept as they are."""
    if set(map(type, raw)) - {type(None)} <= _READY[kind]:
        return raw if isinstance(raw, list) else list(raw)
    return [normalize(kind, value) for value in raw]


class _Column:
    def __init__(self, kind: Kind, raw: Sequence[Any]):
        self.kind = kind
        self.values = _normalized(kind, raw)
        # one pass over the rows: a code per row into the distinct values (equal values, one code)
        self.distinct_values = list(dict.fromkeys(self.values))
        index = {value: code for code, value in enumerate(self.distinct_values)}
        self.codes = np.fromiter(map(index.__getitem__, self.values), dtype=np.int64, count=len(self.values))
        if kind is Kind.NUMBER:
            for value in self.distinct_values:
                if value is not None and not value.is_finite():
                    raise FactValueError(f"{value!r} is not a finite number")
        n = len(self.values)
        self.known = self.codes != index.get(None, -1)
        self.exact = True
        if kind is Kind.SET:
            self.members: dict[str, np.ndarray] = {}
            for code, items in enumerate(self.distinct_values):
                for item in items or ():
                    self.members[item] = self.members.get(item, np.zeros(n, dtype=bool)) | (
                        self.codes == code
                    )
            return
        key_of: Callable[[Any], Any]
        dtype: type[np.generic]
        if kind is Kind.NUMBER:
            key_of, dtype, self.exact = float, np.float64, False
        elif kind is Kind.DATE:
            key_of, dtype = dt.date.toordinal, np.int64
        elif kind is Kind.BOOL:
            key_of, dtype = int, np.int64
        else:
            distinct = sorted(value for value in self.distinct_values if value is not None)
            ranks = {value: 2 * i + 1 for i, value in enumerate(distinct)}

            def key_of(text: str) -> int:
                return ranks.get(text) or 2 * bisect.bisect_left(distinct, text)

            dtype = np.int64
        self.key_of = key_of
        distinct_keys = [0 if value is None else key_of(value) for value in self.distinct_values]
        self.keys = np.array(distinct_keys, dtype=dtype)[self.codes] if n else np.zeros(0, dtype=dtype)

    def compare(self, name: str, constant: Any) -> np.ndarray:
        """Mask of rows where `value <name> constant` (unknown rows are masked later)."""
        function, key = COMPARISONS[name], self.key_of(constant)
        mask: np.ndarray = function(self.keys, key)
        if not self.exact:
            ties = np.flatnonzero(self.known & (self.keys == key))
            if ties.size:
                mask[ties] = [function(self.values[row], constant) for row in ties]
        return mask

    def contains(self, element: str) -> np.ndarray:
        return self.members.get(element, np.zeros(len(self.values), dtype=bool))

    @cached_property
    def hashes(self) -> np.ndarray:
        return value_hashes(self.distinct_values)[self.codes]


class ItemColumns(Protocol):
    """The items of one kind (enterprises.facts.ItemRows): `owner` the row of each item's enterprise."""

    @property
    def owner(self) -> Sequence[int]: ...
    @property
    def ids(self) -> Sequence[int]: ...
    @property
    def columns(self) -> Mapping[str, Sequence[Any]]: ...


class FactColumns:
    """Fact columns (code → one value per row), as `enterprises.facts.facts_table` returns them, and
    the rows' items by kind (for per-item benefits).

    A code absent from `columns` is unknown for every row (as an absent key is for one enterprise).
    """

    def __init__(
        self,
        columns: Mapping[str, Sequence[Any]],
        n: int,
        catalog: Catalog,
        items: Mapping[str, ItemColumns] | None = None,
    ):
        self.raw, self.n, self.catalog = columns, n, catalog
        self.items = items or {}
        self._encoded: dict[str, _Column] = {}

    def column(self, code: str) -> _Column:
        if code not in self._encoded:
            raw = self.raw.get(code)
            if raw is None:
                raw = [None] * self.n
            elif len(raw) != self.n:
                raise ValueError(f"column {code!r} has {len(raw)} values, expected {self.n}")
            self._encoded[code] = _Column(kind_of(self.catalog[code]), raw)
        return self._encoded[code]


def input_digests(table: FactColumns, codes: Sequence[str], signature: int) -> np.ndarray:
    """One int64 per row over everything its verdicts are computed from: the plan (`signature`,
    fingerprint.plan_signature), the row's values of `codes` (the facts the benefits read) and, for
    each item kind, each item's id and values of those codes. Two rows with the same digest get the
    same verdicts for every benefit of the plan, as fingerprints promise pair by pair."""
    folded = np.full(table.n, signature, dtype=np.uint64)
    for code in codes:
        if code in table.raw:  # an absent code is unknown for every row: nothing to tell rows apart
            folded = folded * PRIME + table.column(code).hashes
    for kind in sorted(table.items):
        rows = table.items[kind]
        read = [code for code in codes if code in rows.columns]
        owner = np.asarray(rows.owner, dtype=np.int64)
        if not len(owner):
            continue
        item_columns = FactColumns({code: rows.columns[code] for code in read}, len(owner), table.catalog)
        per_item = np.asarray(rows.ids, dtype=np.int64).view(np.uint64)
        for code in read:
            per_item = per_item * PRIME + item_columns.column(code).hashes
        items = np.zeros(table.n, dtype=np.uint64)
        np.add.at(items, owner, mix64(per_item))  # order-free within the enterprise, wrapping
        folded = folded * PRIME + items
    digests: np.ndarray = folded.view(np.int64)
    return digests


@dataclass
class TableVerdicts:
    """Verdicts of one benefit for every row, as arrays; read one row with the accessors."""

    spec: BenefitSpec
    validity: str
    status: np.ndarray  # Status codes (int8)
    score: np.ndarray  # int16
    amount_codes: np.ndarray  # index into amount_table
    amount_table: list[Amount]
    letters: np.ndarray  # (rows, leaves) uint8: the compact outcome string of each row
    fingerprints: np.ndarray  # int64, see fingerprint.py
    # A per-item benefit: the verdict of each item itself (rows in (enterprise, item id) order)
    items: ItemTableVerdicts | None = None
    # rows the document's applicability rules out (Verdict.out_of_scope): their outcome string is the
    # applicability's first `scope_leaves` letters only
    out_of_scope: np.ndarray | None = None  # bool; None: no row is
    scope_leaves: int = 0

    @classmethod
    def of_verdict(cls, verdict: Verdict) -> TableVerdicts:
        """One enterprise's verdict in the same shape (the storage takes both paths alike)."""
        return cls._of_verdicts([verdict], items=ItemTableVerdicts.of_verdict(verdict))

    @classmethod
    def _of_verdicts(
        cls, verdicts: Sequence[Verdict], items: ItemTableVerdicts | None = None
    ) -> TableVerdicts:
        width = len(verdicts[0].leaf_outcomes) if verdicts else 0
        letters = np.frombuffer("".join(v.leaf_outcomes for v in verdicts).encode(), dtype=np.uint8)
        out_of_scope = np.array([v.out_of_scope for v in verdicts], dtype=bool)
        return cls(
            spec=verdicts[0].spec,
            validity=verdicts[0].validity,
            status=np.array([v.status for v in verdicts], dtype=np.int8),
            score=np.array([v.score for v in verdicts], dtype=np.int16),
            amount_codes=np.arange(len(verdicts), dtype=np.int64),
            amount_table=[v.amount for v in verdicts],
            letters=letters.reshape(len(verdicts), width),
            fingerprints=np.array([v.fingerprint for v in verdicts], dtype=np.int64),
            items=items,
            out_of_scope=out_of_scope if out_of_scope.any() else None,
            scope_leaves=width if out_of_scope.any() else 0,  # one enterprise's verdicts: all in or all out
        )

    def take(self, rows: np.ndarray) -> TableVerdicts:
        """These rows only (sorted positions), with their items (owners renumbered); same amount table."""
        items = None
        if self.items is not None:
            kept = np.isin(self.items.owner, rows)
            items = ItemTableVerdicts(
                owner=np.searchsorted(rows, self.items.owner[kept]),
                ids=self.items.ids[kept],
                verdicts=self.items.verdicts.take(np.flatnonzero(kept)),
            )
        return TableVerdicts(
            spec=self.spec,
            validity=self.validity,
            status=self.status[rows],
            score=self.score[rows],
            amount_codes=self.amount_codes[rows],
            amount_table=self.amount_table,
            letters=self.letters[rows],
            fingerprints=self.fingerprints[rows],
            items=items,
            out_of_scope=None if self.out_of_scope is None else self.out_of_scope[rows],
            scope_leaves=self.scope_leaves,
        )

    def status_slug(self, row: int) -> str:
        slug: str = _SLUGS[self.status[row]]
        return slug

    def status_slugs(self) -> list[str]:
        slugs: list[str] = _SLUGS[self.status].tolist()
        return slugs

    def amount(self, row: int) -> Amount:
        amount: Amount = self.amount_table[self.amount_codes[row]]
        return amount

    def in_scope(self) -> np.ndarray:
        """Mask of the rows the document's applicability does not rule out."""
        return np.ones(len(self.status), dtype=bool) if self.out_of_scope is None else ~self.out_of_scope

    def leaf_outcomes(self, row: int) -> str:
        letters: bytes = self.letters[row].tobytes()
        if self.out_of_scope is not None and self.out_of_scope[row]:
            letters = letters[: self.scope_leaves]
        return letters.decode()


@dataclass
class ItemTableVerdicts:
    """The verdicts of a per-item benefit for each item: row k is item `ids[k]` of the enterprise at
    row `owner[k]` of the table (what storage keeps keyed by (enterprise, benefit, item))."""

    owner: np.ndarray  # int64, the row of the item's enterprise
    ids: np.ndarray  # int64, item ids
    verdicts: TableVerdicts

    @classmethod
    def of_verdict(cls, verdict: Verdict) -> ItemTableVerdicts | None:
        if not verdict.spec.per_item or not verdict.items:
            return None
        return cls(
            owner=np.zeros(len(verdict.items), dtype=np.int64),
            ids=np.array([entry.item_id for entry in verdict.items], dtype=np.int64),
            verdicts=TableVerdicts._of_verdicts([entry.verdict for entry in verdict.items]),
        )


def evaluate_table(
    spec: BenefitSpec, table: FactColumns, as_of: dt.date, compiled: CompiledCondition | None = None
) -> TableVerdicts:
    """Verdicts of one benefit for every row; a per-item benefit is evaluated over the rows' items
    and reduced to one verdict per row exactly as verdict.combine_items does for one enterprise.
    `compiled`: the spec's condition already compiled against the table's catalog (None: compiled here)."""
    if compiled is None:
        compiled = compile_condition(spec.condition, table.catalog)
    if spec.per_item:
        return _evaluate_items(spec, table, as_of, compiled)
    return _evaluate_rows(spec, table, as_of, compiled)


def _evaluate_items(
    spec: BenefitSpec, table: FactColumns, as_of: dt.date, compiled: CompiledCondition
) -> TableVerdicts:
    assert spec.per_item is not None  # evaluate_table
    items = table.items.get(spec.per_item)
    owner = np.asarray(items.owner if items is not None else [], dtype=np.int64)
    has_item = np.zeros(table.n, dtype=bool)
    has_item[owner] = True
    bare = np.flatnonzero(~has_item)  # enterprises without such an item: one row of unknown item facts
    rows_owner = np.concatenate([owner, bare])
    m = len(rows_owner)
    codes = input_codes(spec, compiled, table.catalog)
    owner_list = rows_owner.tolist()
    expanded: dict[str, list[Any]] = {}
    for code in codes:
        if items is not None and code in items.columns:
            expanded[code] = list(items.columns[code]) + [None] * len(bare)
        elif code in table.raw:
            column = table.raw[code]
            expanded[code] = [column[row] for row in owner_list]
    rows = _evaluate_rows(spec, FactColumns(expanded, m, table.catalog), as_of, compiled)

    # the best row of each enterprise: best status, then score, then the first item
    position = np.arange(m)
    order = np.lexsort((position, -rows.score.astype(np.int64), -rows.status.astype(np.int64), rows_owner))
    sorted_owner = rows_owner[order]
    starts = np.flatnonzero(np.r_[True, sorted_owner[1:] != sorted_owner[:-1]])
    best = order[starts]  # one row per enterprise, in enterprise order (every enterprise has a row)

    by_item = np.argsort(rows_owner, kind="stable")  # items in id order within each enterprise
    group_start = np.flatnonzero(np.r_[True, rows_owner[by_item][1:] != rows_owner[by_item][:-1]])
    rank = np.empty(m, dtype=np.int64)
    rank[by_item] = np.arange(m) - np.repeat(group_start, np.diff(np.r_[group_start, m]))

    counted = np.isin(rows.status, [int(Status.ELIGIBLE), int(Status.PENDING_RECOGNITION)])
    amount_codes = rows.amount_codes[best].copy()
    amount_table = list(rows.amount_table)
    combos: dict[tuple[int, ...], int] = {}
    if counted.any():  # the amounts of every counted item add up (verdict.combine_items)
        counted_rows = by_item[counted[by_item]]
        owners = rows_owner[counted_rows]
        split = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        for start, stop in zip(split.tolist(), [*split[1:].tolist(), len(counted_rows)], strict=True):
            enterprise = int(owners[start])
            key = tuple(rows.amount_codes[counted_rows[start:stop]].tolist())
            if len(key) == 1:
                amount_codes[enterprise] = key[0]
                continue
            if key not in combos:
                combos[key] = len(amount_table)
                amount_table.append(
                    combine_amounts([rows.amount_table[code] for code in key], cap_group_of(spec))
                )
            amount_codes[enterprise] = combos[key]
    return TableVerdicts(
        spec=spec,
        validity=rows.validity,
        status=rows.status[best],
        score=rows.score[best],
        amount_codes=amount_codes,
        amount_table=amount_table,
        letters=rows.letters[best],
        fingerprints=combine_fingerprint_rows(rows.fingerprints, rows_owner, rank, table.n),
        out_of_scope=None if rows.out_of_scope is None else rows.out_of_scope[best],
        scope_leaves=rows.scope_leaves,
        items=ItemTableVerdicts(
            owner=owner, ids=np.asarray(items.ids, dtype=np.int64), verdicts=rows.take(np.arange(len(owner)))
        )
        if items is not None and len(owner)
        else None,
    )


def _evaluate_rows(
    spec: BenefitSpec, table: FactColumns, as_of: dt.date, compiled: CompiledCondition
) -> TableVerdicts:
    n = table.n
    leaf_arrays: list[np.ndarray] = []

    def evaluate_leaf(leaf: Leaf) -> np.ndarray:
        column = table.column(leaf.fact)
        if leaf.op == "exists":
            # the same table as conditions._exists_outcome, column-wise
            if leaf.value:
                outcome = np.where(column.known, Outcome.MET, Outcome.UNKNOWN)
            else:
                outcome = np.where(column.known, Outcome.UNMET, Outcome.MET)
        else:
            if leaf.op == "contains":
                truth = column.contains(leaf.value)
            else:
                truth = comparison_truth(*leaf.test, column.compare)
            outcome = np.where(column.known, np.where(truth, Outcome.MET, Outcome.UNMET), Outcome.UNKNOWN)
        leaf_arrays.append(outcome.astype(np.int8))
        return leaf_arrays[-1]

    seen: dict[int, Any] = {}
    if compiled.root is None:
        outcome, closeness = Outcome.MET, 1.0
    else:
        outcome, closeness = fold(compiled.root, evaluate_leaf, seen)
    validity = validity_on(spec, as_of)
    status, score = status_and_score(
        np.broadcast_to(outcome, n),
        np.broadcast_to(closeness, n),
        requires_recognition=spec.requires_recognition,
        in_force=validity == IN_FORCE,
    )
    scope, scope_leaves = scope_node(spec, compiled)
    out_of_scope = None
    if scope is not None:
        out_of_scope = np.broadcast_to(seen[id(scope)] == Outcome.UNMET, n).copy()
        if out_of_scope.any():
            score = np.where(out_of_scope, 0, score).astype(np.int16)  # as verdict._explain_one
        else:
            out_of_scope = None
    amount_codes, amount_table = _amounts(spec, table, status, as_of)
    letters = _LETTERS[np.stack(leaf_arrays, axis=1)] if leaf_arrays else np.zeros((n, 0), dtype=np.uint8)
    codes = input_codes(spec, compiled, table.catalog)
    return TableVerdicts(
        spec=spec,
        validity=validity,
        status=status,
        score=score,
        amount_codes=amount_codes,
        amount_table=amount_table,
        letters=letters,
        fingerprints=fingerprints(
            spec, validity_key(spec, as_of), [table.column(code).hashes for code in codes], n
        ),
        out_of_scope=out_of_scope,
        scope_leaves=scope_leaves if out_of_scope is not None else 0,
    )


def _amounts(
    spec: BenefitSpec, table: FactColumns, status: np.ndarray, as_of: dt.date
) -> tuple[np.ndarray, list[Amount]]:
    """potential_amount once per distinct tuple of the amount's input values; code 0 (not applicable)
    where no amount is due."""
    gets_amount = np.isin(status, [int(s) for s in AMOUNT_STATUSES])
    inputs = amount_inputs(spec)
    combos: list[dict[str, Any]]
    if not inputs:
        codes, combos = np.zeros(table.n, dtype=np.int64), [{}]
    else:
        columns = [table.column(code) for code in inputs]
        if len(columns) == 1:
            codes = columns[0].codes.astype(np.int64)
            combos = [{inputs[0]: value} for value in columns[0].distinct_values]
        else:
            stacked = np.stack([column.codes for column in columns], axis=1)
            unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
            codes = inverse.reshape(-1).astype(np.int64)
            combos = [
                {
                    code: column.distinct_values[index]
                    for code, column, index in zip(inputs, columns, row, strict=True)
                }
                for row in unique.tolist()
            ]
    amount_table = [NOT_APPLICABLE, *(potential_amount(spec, combo, as_of) for combo in combos)]
    return np.where(gets_amount, codes + 1, 0), amount_table
