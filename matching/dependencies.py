"""What a change touches: which facts each enterprise table feeds, and which benefits read which facts.

The table → facts map is read from the fact registry of enterprises/facts.py (each derivation group
names the related tables it reads), so a new derivation needs no change here. The fact → benefits
index is built from the benefits' conditions and ratio bases, the same facts the fingerprint hashes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from enterprises.facts import BUILTIN_CODES, BUILTIN_GROUPS
from enterprises.models import Enterprise, FactValue, Item, Project, Recognition, YearlyFigure
from matching.engine import BenefitSpec, facts_read
from policies import formulas

# Sources of PendingEnterpriseChange rows.
NEW = "new"  # a new enterprise: every benefit, whatever it reads
ENTERPRISE = "enterprise"  # the enterprise row itself
FACT_PREFIX = "fact:"  # a stored fact, by FactDefinition id: "fact:17"

# The related tables by the names enterprises.facts uses in DerivationGroup.reads.
TABLE_SOURCES: dict[type, str] = {YearlyFigure: "figures", Recognition: "recognitions", Project: "projects"}
ITEMS = "items"  # an item (project, facility…) was saved or deleted: its kind's per-item benefits
WATCHED_MODELS: tuple[type, ...] = (Enterprise, *TABLE_SOURCES, FactValue, Item)


def source_of(instance) -> str:
    """The source a saved or deleted row of an enterprise table marks (not for Enterprise itself)."""
    if isinstance(instance, FactValue):
        return f"{FACT_PREFIX}{instance.fact_id}"
    if isinstance(instance, Item):
        return ITEMS
    return TABLE_SOURCES[type(instance)]


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
