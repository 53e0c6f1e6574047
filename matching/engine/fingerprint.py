"""A fingerprint of a verdict's inputs: the facts it reads, the benefit's version, its validity.

A stored result whose fingerprint is unchanged need not be rewritten. Each fact value gets a stable
64-bit hash (blake2b of a canonical token); a row's fingerprint folds them in sorted code order,
with numpy uint64 arithmetic on both paths (one row is a column of length 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from matching.engine.spec import BenefitSpec

ENGINE_VERSION = "2"  # bump when the engine's semantics change: every stored result is then stale
PRIME = np.uint64(1099511628211)


def _token(value: Any) -> str:
    """Canonical text of a normalised value: equal values, equal tokens (5000 and 5000.00)."""
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return f"b:{int(value)}"
    if isinstance(value, Decimal):
        return f"n:{value.normalize():f}"
    if isinstance(value, dt.date):
        return f"d:{value.isoformat()}"
    if isinstance(value, frozenset):
        return "s:" + "\x1f".join(sorted(value))
    return f"t:{value}"


def hash64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def value_hashes(values: Sequence[Any]) -> np.ndarray:
    """uint64 hash of each normalised value (equal values, equal hashes)."""
    return np.array([hash64(_token(value)) for value in values], dtype=np.uint64).reshape(len(values))


def fingerprints(spec: BenefitSpec, validity: str, hash_columns: Sequence[np.ndarray], n: int) -> np.ndarray:
    """One signed 64-bit fingerprint per row (a database bigint) from the hashes of the input facts."""
    seed = hash64(f"{ENGINE_VERSION}|{spec.global_key}|{spec.version}|{validity}")
    folded = np.full(n, seed, dtype=np.uint64)
    for column in hash_columns:
        folded = folded * PRIME + column  # wraps modulo 2**64 by design
    return folded.view(np.int64)


def fingerprint(spec: BenefitSpec, validity: str, values: Mapping[str, Any], codes: Sequence[str]) -> int:
    """The fingerprint of one enterprise's normalised values of `codes` (verdict.input_codes)."""
    return int(fingerprints(spec, validity, [value_hashes([values.get(code)]) for code in codes], 1)[0])


def combine_fingerprints(values: Sequence[int]) -> int:
    """One fingerprint for the items of a per-item verdict, in item order (one item: its own)."""
    items = np.array(values, dtype=np.int64).view(np.uint64)
    folded = items[:1].copy()  # arrays wrap modulo 2**64 silently, as in fingerprints()
    for value in items[1:]:
        folded = folded * PRIME + value
    return int(folded.view(np.int64)[0])


def combine_fingerprint_rows(
    fingerprints_: np.ndarray, owner: np.ndarray, rank: np.ndarray, n: int
) -> np.ndarray:
    """combine_fingerprints for every enterprise at once: rows of items (`owner` their enterprise,
    `rank` their place among its items); every enterprise has at least one row."""
    folded = np.zeros(n, dtype=np.uint64)
    values = fingerprints_.view(np.uint64)
    for position in range(int(rank.max()) + 1 if rank.size else 0):
        rows = rank == position
        targets = owner[rows]
        folded[targets] = values[rows] if position == 0 else folded[targets] * PRIME + values[rows]
    return folded.view(np.int64)


def plan_signature(specs: Sequence[BenefitSpec], validity: str, regions: Mapping[Any, str] | None) -> int:
    """A hash of what a full run's verdicts depend on besides the facts: the engine, every benefit
    evaluated (key, version, validity) and the region tree the conditions resolve against."""
    parts = [
        ENGINE_VERSION,
        validity,
        *(f"{spec.benefit_id}|{spec.global_key}|{spec.version}" for spec in specs),
    ]
    parts += sorted(f"{key}={code}" for key, code in (regions or {}).items())
    return hash64("\x1e".join(parts))


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64 of each uint64 (a well-spread hash of an integer, vectorised)."""
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))
