"""The verdict for one benefit and one enterprise: status, score, amount and cited reasons."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from typing import Any, Protocol

import numpy as np

from matching.engine.amounts import (
    NOT_APPLICABLE,
    Amount,
    AmountBasis,
    amount_inputs,
    cap_group_of,
    combine_amounts,
    potential_amount,
)
from matching.engine.conditions import (
    CompiledCondition,
    ConditionError,
    Leaf,
    Node,
    Outcome,
    compile_condition,
    fold,
    leaf_outcome,
    leaves_behind,
)
from matching.engine.fingerprint import combine_fingerprints, fingerprint
from matching.engine.i18n import gettext, gettext_noop
from matching.engine.render import label, requirement_text, source_text, value_text
from matching.engine.spec import IN_FORCE, BenefitSpec, validity_key, validity_on
from matching.engine.values import Catalog, FactInfo, kind_of, normalize


class Status(IntEnum):
    """Ordered from worst to best, so arrays of codes sort and compare like the statuses."""

    NOT_IN_FORCE = 0
    NOT_ELIGIBLE = 1
    NEEDS_INFO = 2
    PENDING_RECOGNITION = 3  # 待认定: every objective condition met, staff must still recognise
    ELIGIBLE = 4

    @property
    def slug(self) -> str:
        return self.name.lower()

    @classmethod
    def from_slug(cls, slug: str) -> Status:
        return cls[slug.upper()]

    @property
    def label(self) -> str:
        """The status in the reader's language (符合条件 / Eligible …)."""
        return gettext(STATUS_LABELS_ZH[self])


# The source wording (Chinese); `Status.label` translates it when read.
STATUS_LABELS_ZH = {
    Status.ELIGIBLE: gettext_noop("符合条件"),
    Status.PENDING_RECOGNITION: gettext_noop("待认定"),
    Status.NEEDS_INFO: gettext_noop("需补充信息"),
    Status.NOT_ELIGIBLE: gettext_noop("不符合条件"),
    Status.NOT_IN_FORCE: gettext_noop("政策未生效或已失效"),
}

# The statuses whose amount is worth estimating (for needs_info: what it would pay).
AMOUNT_STATUSES = (Status.ELIGIBLE, Status.PENDING_RECOGNITION, Status.NEEDS_INFO)
# The highest score of each status (indexed by Status code): score = min(cap, round(100 × closeness)).
SCORE_CAPS = np.array([0, 49, 89, 90, 100], dtype=np.int16)


def status_and_score(
    outcome: Any, closeness: Any, *, requires_recognition: bool, in_force: bool
) -> tuple[Any, Any]:
    """Status codes and scores from the root outcome and closeness; scalars or arrays alike.

    The status is a lookup by outcome (UNMET, UNKNOWN, MET); the score is min(cap of the status,
    round(100 × closeness)): eligible 100 (closeness is 1), pending_recognition 90, needs_info at most
    89 (and at least 50), not_eligible at most 49, not_in_force 0.
    """
    met = Status.PENDING_RECOGNITION if requires_recognition else Status.ELIGIBLE
    by_outcome = np.array([Status.NOT_ELIGIBLE, Status.NEEDS_INFO, met], dtype=np.int8)
    if not in_force:
        by_outcome[:] = Status.NOT_IN_FORCE
    status = by_outcome[outcome]
    score = np.minimum(SCORE_CAPS[status], np.floor(100 * closeness + 0.5)).astype(np.int16)
    return status, score


@dataclass(frozen=True)
class Citation:
    document_title: str
    document_key: str
    clause_number: str
    quote: str


@dataclass(frozen=True)
class Reason:
    """One condition: what it asks, what the enterprise has, and the words it rests on.

    The wording (label, requirement, value_text, source_text) is produced when read, in the active
    language, from the structured fields: the same verdict reads in Chinese or English."""

    leaf: Leaf  # the compiled condition: fact, op, normalised constant, quote
    info: FactInfo = field(repr=False, compare=False)  # the catalog entry of the fact
    value: Any  # the enterprise's normalised value; None = unknown
    source: str  # provenance code of the value ("" when unknown)
    outcome: Outcome
    citation: Citation

    @property
    def fact(self) -> str:
        return self.leaf.fact

    @property
    def label(self) -> str:
        return label(self.info)

    @property
    def requirement(self) -> str:
        """ "新租赁自用工业厂房面积 ≥ 5000 平方米" """
        return requirement_text(self.leaf, self.info)

    @property
    def value_text(self) -> str:
        return value_text(self.info, self.value)

    @property
    def source_text(self) -> str:
        return source_text(self.source)


@dataclass(frozen=True)
class Verdict:
    spec: BenefitSpec
    as_of: dt.date
    status: Status
    validity: str  # "in_force" or why not: draft, not_yet_effective, expired, superseded
    score: int
    amount: Amount
    potential: Amount  # what it would pay if granted, whatever the status (gap analysis)
    reasons: tuple[Reason, ...]
    missing_facts: tuple[str, ...]  # facts whose values would settle the verdict or its amount
    unmet: tuple[Reason, ...]  # the conditions keeping a not-eligible enterprise out
    base_value: Any = None  # the ratio's base fact, normalised
    fingerprint: int = 0  # of the inputs: facts read, benefit version, validity (see fingerprint.py)
    # A per-item benefit: the verdict of each of the enterprise's items of that kind (id order). The
    # verdict itself is the best item's (status, score, reasons), with the amounts of every item
    # that qualifies added up: two projects are paid twice, one project once.
    items: tuple[ItemVerdict, ...] = ()
    # The document's applicability rules the enterprise out (scope_node): not eligible, score 0, no
    # amount, and only the applicability's conditions as reasons — the benefit's own are not asked.
    out_of_scope: bool = False

    @property
    def leaf_outcomes(self) -> str:
        """Compact outcome string, one letter per condition (v met, x unmet, ? unknown)."""
        return "".join(reason.outcome.letter for reason in self.reasons)

    @property
    def citation(self) -> Citation:
        """The words stating the amount."""
        spec = self.spec
        return Citation(spec.document_title, spec.document_key, spec.clause_number, spec.amount_quote)


def scope_node(spec: BenefitSpec, compiled: CompiledCondition) -> tuple[Node | None, int]:
    """The document's applicability within a benefit's compiled condition, and how many leaves it
    has (they come first in `compiled.leaves`): the root's first child, or the root itself when the
    benefit has no condition of its own (matching/scenarios.spec_from_rows). (None, 0) without one."""
    if not spec.applicability or compiled.root is None:
        return None, 0
    root = compiled.root
    node = root if spec.condition == spec.applicability or isinstance(root, Leaf) else root.children[0]
    return node, _leaf_count(node)


def _leaf_count(node: Node) -> int:
    return 1 if isinstance(node, Leaf) else sum(_leaf_count(child) for child in node.children)


def input_codes(spec: BenefitSpec, compiled: CompiledCondition, catalog: Catalog) -> list[str]:
    """The facts a verdict reads (condition and amount inputs), sorted: the fingerprint's order."""
    amount_codes = amount_inputs(spec)
    for code in amount_codes:
        if code not in catalog:
            raise ConditionError([f"{spec.global_key}: unknown amount fact {code!r}"])
    return sorted(compiled.fact_codes | set(amount_codes))


def facts_read(specs: list[BenefitSpec], catalog: Catalog) -> list[str]:
    """Every fact the given benefits read: what to load for them."""
    codes: set[str] = set()
    for spec in specs:
        codes.update(input_codes(spec, compile_condition(spec.condition, catalog), catalog))
    return sorted(codes)


@dataclass(frozen=True)
class ItemVerdict:
    item_id: int
    title: str
    verdict: Verdict


class ItemInput(Protocol):
    """One item's facts, as the engine reads them (read-only: a frozen dataclass satisfies it)."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def values(self) -> Mapping[str, Any]: ...
    @property
    def source(self) -> str: ...


def explain(
    spec: BenefitSpec,
    facts: Mapping[str, Any],
    *,
    as_of: dt.date,
    catalog: Catalog,
    sources: Mapping[str, str] | None = None,
    items: Sequence[ItemInput] | None = None,
    compiled: CompiledCondition | None = None,
) -> Verdict:
    """The full verdict for one enterprise's facts (code → value, None or absent = unknown).

    `compiled`: the spec's condition already compiled against this `catalog` (a caller keeping
    compiled conditions, matching/policy_set.py); None compiles it here.

    A per-item benefit is evaluated once per item of `items` (the enterprise's items of its kind),
    each with the enterprise's facts and the item's own; without items, `facts` may hold one item's
    facts (the self-check, scenarios) — absent item facts are unknown, so "has no such project yet"
    is needs_info, never eligible."""
    if not spec.per_item or not items:
        return _explain_one(spec, facts, as_of=as_of, catalog=catalog, sources=sources, compiled=compiled)
    if compiled is None:
        compiled = compile_condition(spec.condition, catalog)
    judged = []
    for item in items:
        merged = {**facts, **item.values}
        item_sources = {**(sources or {}), **dict.fromkeys(item.values, item.source)}
        judged.append(
            ItemVerdict(
                item.id,
                item.title,
                _explain_one(
                    spec, merged, as_of=as_of, catalog=catalog, sources=item_sources, compiled=compiled
                ),
            )
        )
    return combine_items(judged)


def best_item_index(statuses: Sequence[int], scores: Sequence[int]) -> int:
    """The item a per-item verdict shows: best status, then best score, then the first."""
    return max(range(len(statuses)), key=lambda i: (statuses[i], scores[i], -i))


def contributing(statuses: Sequence[int]) -> list[int]:
    """The items whose amounts add up: every eligible or pending item (none: the best item's amount stands)."""
    return [i for i, status in enumerate(statuses) if status in (Status.ELIGIBLE, Status.PENDING_RECOGNITION)]


def combine_items(judged: Sequence[ItemVerdict]) -> Verdict:
    verdicts = [entry.verdict for entry in judged]
    statuses = [int(v.status) for v in verdicts]
    best = verdicts[best_item_index(statuses, [v.score for v in verdicts])]
    paid = contributing(statuses)
    amount = (
        combine_amounts([verdicts[i].amount for i in paid], cap_group_of(best.spec)) if paid else best.amount
    )
    return replace(
        best,
        amount=amount,
        fingerprint=combine_fingerprints([v.fingerprint for v in verdicts]),
        items=tuple(judged),
    )


def _explain_one(
    spec: BenefitSpec,
    facts: Mapping[str, Any],
    *,
    as_of: dt.date,
    catalog: Catalog,
    sources: Mapping[str, str] | None = None,
    compiled: CompiledCondition | None = None,
) -> Verdict:
    sources = sources or {}
    if compiled is None:
        compiled = compile_condition(spec.condition, catalog)
    codes = input_codes(spec, compiled, catalog)
    values = {code: normalize(kind_of(catalog[code]), facts.get(code)) for code in codes}
    base_value = values[spec.base_fact] if spec.base_fact else None
    outcomes: dict[int, Any] = {}  # of every node, by id(node)
    root_outcome, closeness = (Outcome.MET, 1.0)
    if compiled.root is not None:
        root_outcome, closeness = fold(
            compiled.root, lambda leaf: leaf_outcome(leaf, values[leaf.fact]), outcomes
        )
    validity = validity_on(spec, as_of)
    status_code, score = status_and_score(
        root_outcome, closeness, requires_recognition=spec.requires_recognition, in_force=validity == IN_FORCE
    )
    status = Status(int(status_code))
    scope, scope_leaves = scope_node(spec, compiled)
    out_of_scope = scope is not None and outcomes[id(scope)] == Outcome.UNMET

    amount_codes = amount_inputs(spec)
    if out_of_scope:  # the document is not for this enterprise: nothing is due, whatever it would pay
        score, potential, leaves = 0, NOT_APPLICABLE, compiled.leaves[:scope_leaves]
    else:
        potential, leaves = (
            potential_amount(spec, {code: values[code] for code in amount_codes}, as_of),
            compiled.leaves,
        )
    amount = potential if status in AMOUNT_STATUSES else NOT_APPLICABLE

    reasons = tuple(
        _reason(spec, leaf, values[leaf.fact], Outcome(int(outcomes[id(leaf)])), catalog, sources)
        for leaf in leaves
    )
    missing: list[str] = []
    unmet: tuple[Reason, ...] = ()
    # without a condition (root None) a benefit is eligible or pending: nothing is missing or unmet
    if status is Status.NEEDS_INFO and compiled.root is not None:
        missing = [leaf.fact for leaf in leaves_behind(compiled.root, outcomes, Outcome.UNKNOWN)]
    if status in AMOUNT_STATUSES and potential.basis is AmountBasis.BASE_UNKNOWN:
        missing += [code for code in amount_codes if values[code] is None]
    if status is Status.NOT_ELIGIBLE and compiled.root is not None:
        behind = scope if out_of_scope and scope is not None else compiled.root
        unmet = tuple(reasons[leaf.index] for leaf in leaves_behind(behind, outcomes, Outcome.UNMET))
    return Verdict(
        spec=spec,
        as_of=as_of,
        status=status,
        validity=validity,
        score=int(score),
        amount=amount,
        potential=potential,
        reasons=reasons,
        missing_facts=tuple(dict.fromkeys(missing)),
        unmet=unmet,
        base_value=base_value,
        fingerprint=fingerprint(spec, validity_key(spec, as_of), values, codes),
        out_of_scope=out_of_scope,
    )


def _reason(
    spec: BenefitSpec, leaf: Leaf, value: Any, outcome: Outcome, catalog: Catalog, sources: Mapping[str, str]
) -> Reason:
    info = catalog[leaf.fact]
    source = sources.get(leaf.fact, "") if value is not None else ""
    return Reason(
        leaf=leaf,
        info=info,
        value=value,
        source=source,
        outcome=outcome,
        citation=Citation(
            spec.document_title,
            spec.document_key,
            getattr(leaf, "clause", None) or spec.clause_number,
            leaf.quote,
        ),
    )
