"""The anonymous self-check (政策计算器): answers in, verdicts out, nothing stored.

Public interface, shared by the wizard (portal/selfcheck/views.py) and the REST API — keep it stable:

    evaluate_answers(answers, *, as_of, specs=None, catalog=None) -> SelfCheckResult
    parse_answers(answers, *, catalog) -> dict[str, Any]          (the validation step alone)
    AnswerError                                                     (raised by both)

`answers` maps fact codes of the catalog (policies.FactDefinition) to raw values: strings from a form
or JSON values. Values are in the catalog's units: **money in yuan** (the wizard asks in 万元 and
converts before calling), areas in 平方米, rates in %. Per catalog type:

    bool           true / false, or "是" "否" "true" "false" "yes" "no" "1" "0"
    int            an integer or its text
    decimal, money a number or its text ("12,500.5" is fine); negative only for year-on-year
                   changes (SIGNED_FACTS)
    str, enum      text; an enum value must be one of the catalog's choice values
    set            a list of choice values, or "a;b" text; [] means "known to have none"
    date           "YYYY-MM-DD"

A blank answer (None or "") means "not answered": unknown, never 0 or False. An unknown fact code or a
value that does not fit raises AnswerError carrying {code: message} for every bad answer at once; then
nothing is evaluated. Nothing is ever written to the database.

The result (SelfCheckResult) holds the facts mapping (every catalog code, None when not answered), the
verdict of every benefit in force on `as_of` ordered by estimated amount (largest first, no figure
after), the best total without double counting (engine stacking), the missing facts ranked by the money
they could unlock (engine gap analysis) and `open_questions`: the facts whose answer could still change
a verdict or an amount — the only questions worth asking next (Publicodes-style).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from matching import selectors
from matching.engine import (
    BenefitSpec,
    MissingFact,
    Stack,
    Status,
    Verdict,
    best_total,
    explain,
    rank_missing_facts,
    validity_on,
)
from matching.engine.render import label as fact_label
from matching.engine.spec import IN_FORCE
from policies import formulas
from policies.facttypes import parse_fact_value
from policies.models import FactDefinition

NUMERIC_TYPES = frozenset({FactDefinition.Type.INT, FactDefinition.Type.DECIMAL, FactDefinition.Type.MONEY})
# Year-on-year changes may shrink; every other quantity (areas, money paid, counts, years) cannot be
# negative, and a negative one is a typing mistake worth refusing.
SIGNED_FACTS = frozenset({"output_value_increase", "output_growth_rate"})


class AnswerError(ValidationError):
    """Answers that cannot be evaluated; `errors` maps each bad fact code to a message in Chinese."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__({code: [message] for code, message in self.errors.items()})


@dataclass(frozen=True)
class SelfCheckResult:
    as_of: dt.date
    facts: dict[str, Any]  # every catalog code -> engine value; None = not answered
    verdicts: tuple[Verdict, ...]  # benefits in force on as_of: estimated amount desc, no figure after
    stack: Stack  # the best total without double counting (one benefit per stacking group)
    missing: tuple[MissingFact, ...]  # unanswered facts behind undecided verdicts, most money first
    open_questions: tuple[str, ...]  # fact codes whose answer could still change a verdict or amount

    @property
    def total(self) -> Decimal:
        """Best non-conflicting sum of eligible and pending benefits (yuan; ceilings count as "up to")."""
        return self.stack.total

    def counts(self) -> dict[str, int]:
        """Number of verdicts per status slug, every status present (not_in_force is always 0: only
        benefits in force are evaluated)."""
        counted = Counter(verdict.status.slug for verdict in self.verdicts)
        return {status.slug: counted.get(status.slug, 0) for status in reversed(Status)}


def parse_answers(answers: Mapping[str, Any], *, catalog: Mapping[str, FactDefinition]) -> dict[str, Any]:
    """Typed engine values (Decimal, bool, frozenset, date, …) for the answered codes; blanks become None.

    Raises AnswerError naming every unknown code and every value that does not fit its fact's type.
    """
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for code, raw in answers.items():
        definition = catalog.get(code)
        if definition is None:
            errors[code] = _("未知的事实代码：%(code)s（不在事实目录中）。") % {"code": code}
            continue
        try:
            value = parse_fact_value(definition, raw)
        except ValidationError as exc:
            errors[code] = " ".join(exc.messages)
            continue
        except (TypeError, ValueError):  # e.g. a JSON object where a list of choices is expected
            errors[code] = _("“%(label)s”：格式不正确。") % {
                "label": fact_label(definition),
                "code": code,
            }
            continue
        if definition.type in NUMERIC_TYPES and value is not None and value < 0 and code not in SIGNED_FACTS:
            errors[code] = _("“%(label)s”：不能为负数。") % {
                "label": fact_label(definition),
                "code": code,
            }
            continue
        values[code] = value
    if errors:
        raise AnswerError(errors)
    return values


def evaluate_answers(
    answers: Mapping[str, Any],
    *,
    as_of: dt.date,
    specs: Sequence[BenefitSpec] | None = None,
    catalog: Mapping[str, FactDefinition] | None = None,
) -> SelfCheckResult:
    """Every benefit in force on `as_of`, judged on these answers (see the module docstring).

    `specs` and `catalog` default to the database's (matching.selectors); pass them to evaluate
    several answer sets against one load, as the wizard does for each step.
    """
    catalog = selectors.catalog() if catalog is None else catalog
    specs = selectors.benefit_specs() if specs is None else specs
    known = parse_answers(answers, catalog=catalog)
    facts = formulas.complete({code: known.get(code) for code in catalog}, catalog, as_of)
    verdicts = [
        explain(spec, facts, as_of=as_of, catalog=catalog)
        for spec in specs
        if validity_on(spec, as_of) == IN_FORCE
    ]
    verdicts.sort(key=_by_amount)
    missing = rank_missing_facts(verdicts, catalog)
    return SelfCheckResult(
        as_of=as_of,
        facts=facts,
        verdicts=tuple(verdicts),
        stack=best_total(verdicts),
        missing=tuple(missing),
        open_questions=_open_questions(missing),
    )


def _by_amount(verdict: Verdict) -> tuple:
    """Largest estimate first; no figure after; then best status, score, and a stable key."""
    value = verdict.amount.value
    return (value is None, -(value or 0), -verdict.status, -verdict.score, verdict.spec.global_key)


def _open_questions(missing: Iterable[MissingFact]) -> tuple[str, ...]:
    """The facts whose answer could still change a verdict or an amount, most money first: the
    engine's missing facts (unknown leaves of undecided benefits, unknown ratio bases; `exists: true`
    on an unanswered fact is an unknown leaf like any other)."""
    return tuple(dict.fromkeys(fact.code for fact in missing))
