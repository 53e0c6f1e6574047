"""What a change touches: which facts each recorded source feeds (the sources of enterprises.changes),
and which benefits read which facts.

The table → facts map is read from the fact registry of enterprises/facts.py (each derivation group
names the related tables it reads), so a new derivation needs no change here. The fact → benefits
index is built from the benefits' conditions and ratio bases, the same facts the fingerprint hashes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from enterprises.changes import ENTERPRISE, FACT_PREFIX, ITEMS, NEW
from enterprises.facts import BUILTIN_CODES, BUILTIN_GROUPS
from matching.engine import BenefitSpec, facts_read
from policies import formulas

# The sources of the change records (enterprises.changes) are the writer's; what each feeds is ours.
__all__ = ["ENTERPRISE", "FACT_PREFIX", "ITEMS", "NEW", "BenefitIndex", "codes_fed_by"]


def codes_fed_by(source: str, fact_codes_by_id: Mapping[int, str]) -> frozenset[str] | None:
    """The catalog codes whose values a change of `source` may move; None means every benefit."""
    if source in (NEW, ITEMS):  # items: every per-item benefit (their facts are not in the registry)
        return None
    if source == ENTERPRISE:
        # every derivation reads the enterprise row (its fields, the declared-complete flags, the
        # provenance a known "none" falls back to)
        return BUILTIN_CODES
    if source.startswith(FACT_PREFIX):
        code = fact_codes_by_id.get(int(source.removeprefix(FACT_PREFIX)))
        return frozenset() if code is None else frozenset({code})
    return frozenset().union(*(group.codes for group in BUILTIN_GROUPS if source in group.reads))


@dataclass(frozen=True)
class BenefitIndex:
    """fact code → the benefits whose condition or ratio base reads it."""

    by_fact: Mapping[str, frozenset[int]]

    @classmethod
    def build(cls, specs: Iterable[BenefitSpec], catalog: Mapping) -> BenefitIndex:
        by_fact: dict[str, set[int]] = defaultdict(set)
        for spec in specs:
            for code in facts_read([spec], catalog):
                # a formula fact moves with every fact it is computed from
                for read in {code, *formulas.formula_closure(code, catalog)}:
                    by_fact[read].add(spec.benefit_id)
        return cls({code: frozenset(ids) for code, ids in by_fact.items()})

    def reading(self, codes: Iterable[str]) -> frozenset[int]:
        return frozenset().union(*(self.by_fact.get(code, frozenset()) for code in codes))
