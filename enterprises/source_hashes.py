"""A hash of every stored row that facts_table reads for an enterprise (PostgreSQL, computed by the
database): the enterprise row and its yearly figures, recognitions, projects, stored fact values and
items. Two equal hashes mean the same rows, so the same facts on the same date with the same
catalog and code (the caller folds those in). A full re-evaluation skips an enterprise whose hash is
as when its results were stored without reading or deriving its facts (matching.services).

Each row is hashed whole (`hashtextextended` of the row's text: every column, the id included), per
table with its own seed, and the hashes of an enterprise's rows are added up (numeric, then reduced
modulo 2**63 - 1), so the order the rows are read in does not matter and an added, edited or deleted
row changes the sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from django.db import connection

from enterprises.facts import is_dense
from enterprises.models import Enterprise, FactValue, Item, Project, Recognition, YearlyFigure

# every table facts_table reads enterprise data from (enterprises/facts.py: _load_table, item_rows)
RELATED = (YearlyFigure, Recognition, Project, FactValue, Item)
# the code that turns those rows into facts: a changed module changes every hash's meaning
DERIVING_MODULES = ("facts.py", "catalog.py", "taxonomy.py", "items.py")
MODULUS = 2**63 - 1


def available() -> bool:
    return connection.vendor == "postgresql"


@cache
def code_text() -> str:
    """The source of the modules that derive facts from the rows (part of a source signature)."""
    here = Path(__file__).resolve().parent
    policies = here.parent / "policies"
    files = [here / name for name in DERIVING_MODULES] + [policies / "formulas.py"]
    return "\x1e".join(path.read_text(encoding="utf-8") for path in files if path.exists())


def source_hashes(ids: Sequence[int]) -> np.ndarray:
    """(enterprise id, hash) of the existing enterprises of `ids` (sorted), by id, as int64 pairs."""
    if not len(ids):
        return np.zeros((0, 2), dtype=np.int64)
    first, last = int(ids[0]), int(ids[-1])
    dense = is_dense(ids)
    where, params = ("BETWEEN %s AND %s", [first, last]) if dense else ("= ANY(%s)", [list(map(int, ids))])
    joins, terms = [], ["hashtextextended(e::text, 0)::numeric"]
    for seed, model in enumerate(RELATED, start=1):
        table, alias = model._meta.db_table, f"r{seed}"
        joins.append(
            f"LEFT JOIN (SELECT enterprise_id, sum(hashtextextended(t::text, {seed})) AS h FROM {table} t "
            f"WHERE enterprise_id {where} GROUP BY enterprise_id) {alias} ON {alias}.enterprise_id = e.id"
        )
        terms.append(f"coalesce({alias}.h, 0)")
    query = (
        f"SELECT e.id, mod({' + '.join(terms)}, {MODULUS})::bigint FROM {Enterprise._meta.db_table} e "
        f"{' '.join(joins)} WHERE e.id {where} ORDER BY e.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(query, params * (len(RELATED) + 1))
        found = np.array(cursor.fetchall(), dtype=np.int64).reshape(-1, 2)
    if not dense:
        return found
    return found[np.isin(found[:, 0], np.asarray(ids, dtype=np.int64))]
