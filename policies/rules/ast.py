"""The typed tree of a parsed condition (what `parse` returns): pure data, no catalog, no Django."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from policies.rules.values import Kind


@dataclass(frozen=True)
class Leaf:
    """One comparison `fact op value`, normalised.

    `value` is a Decimal / date / str / bool for one value, a tuple for `in`, (low, high) for
    `between`, a bool for `exists`, the region code for `within`. `members` (within only) is the set
    of region codes inside that region, the code itself first: the engines evaluate `within` as `in`
    over it (`test`). `clause` is the number, as printed, of the clause of the same document the
    quote comes from (None: the benefit's own clause). `source` is the leaf as written (JSON).
    """

    index: int  # depth-first position, the order of the compact outcome string
    path: str  # e.g. condition.all[1]
    fact: str
    op: str
    value: Any
    kind: Kind
    quote: str
    clause: str | None = None
    members: tuple[str, ...] = ()
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def test(self) -> tuple[str, Any]:
        """(operator, constant) as evaluated: `within` is `in` over the region's members."""
        if self.op == "within":
            return "in", self.members
        return self.op, self.value


@dataclass(frozen=True)
class Group:
    op: str  # all | any | not
    children: tuple[Node, ...]
    path: str = "condition"


Node = Leaf | Group


@dataclass(frozen=True)
class Condition:
    """A parsed tree: its root (None: no condition) and its leaves depth-first in document order."""

    root: Node | None
    leaves: tuple[Leaf, ...]

    @property
    def fact_codes(self) -> frozenset[str]:
        return frozenset(leaf.fact for leaf in self.leaves)


EMPTY = Condition(root=None, leaves=())
