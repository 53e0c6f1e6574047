"""The self-check wizard (政策计算器): which questions to ask, in which step, and how answers travel.

The evaluation itself is matching.selfcheck.evaluate_answers; this module is its presentation:

- Questions are catalog facts (policies.FactDefinition), grouped into four steps (STEPS). A step asks
  only for facts that are still open questions given the answers of the steps before it — facts that
  appear in the unknown conditions or ratio bases of benefits not yet decided — plus the ones already
  answered in that step (so a user going back can revise them). A step with no such fact is skipped.
- Money is asked in 万元 and stored in yuan; every other fact in its catalog unit.
- Answers live in the session only, under ANSWERS_SESSION_KEY: {fact code: JSON value in catalog units
  (money in yuan)} as written by policies.facttypes.to_json — the same shape evaluate_answers and the
  REST API accept. Nothing is written to the database. Logging in keeps the session's data, so a
  registration or profile-creation flow can read this key to turn the answers into the profile.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.selectors import next_windows as call_windows
from matching.engine import AmountBasis, BenefitSpec, Status, Verdict, nearest_gaps, what_if
from matching.engine.render import schedule_text, value_text
from matching.models import STATUS_BADGES
from matching.selfcheck import AnswerError, SelfCheckResult, evaluate_answers, parse_answers
from policies import facttypes
from policies.amount_rules import cap_group_note
from policies.conditions import unit_text
from policies.models import FactDefinition, ItemKind
from policies.money import parse_wan, wan

ANSWERS_SESSION_KEY = "selfcheck_answers"
NONE_OF_THESE = "__none__"  # the "以上都没有" box of a set question: known to have none, unlike no answer
Type = FactDefinition.Type


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    intro: str
    codes: tuple[str, ...] = field(default=())  # catalog codes asked in this step, in this order


STEPS: tuple[Step, ...] = (
    Step(
        "basic",
        _("基本情况"),
        _("企业的所在地、行业、规模和上市情况。"),
        (
            "registered_region", "operating_region",
            "located_in_minhang", "district", "years_since_registration", "legal_form", "is_foreign_invested",
            "industry_code", "is_manufacturing", "industry_tracks", "industry_subtracks", "enterprise_scale",
            "is_sme", "is_above_scale", "newly_above_scale", "listing_exchange", "newly_listed",
            "is_industry_association", "is_park_developer", "ic_industry_entity", "business_activities",
            "founded_by_overseas_talent", "equity_transfer_completed",
        ),
    ),
    Step(
        "operations",
        _("经营数据"),
        _("上一个完整年度的产值、营收、研发、人员和纳税。"),
        (
            "output_value", "output_value_increase", "output_growth_rate", "output_first_crossed_1bn",
            "output_milestone_first_crossed", "revenue", "rd_expense", "employees", "tax_paid",
            "paid_in_capital", "tech_contract_amount", "ecommerce_gmv", "online_sales",
            "cross_border_ecommerce_volume", "foreign_capital_paid_in_usd", "chain_store_count",
            "esports_events_per_year",
        ),
    ),
    Step(
        "recognitions",
        _("资质荣誉"),
        _("已获得的认定、荣誉和评价结果。"),
        (
            "recognitions", "recognitions_new", "tech_center_rating", "recognitions_ext",
            "recognitions_ext_new", "talent_recognitions", "innovative_drug_device_status",
            "ic_verification_service_for",
        ),
    ),
    # ... and after its named facts, every catalog fact not named above (new facts added in admin too).
    Step(
        "projects",
        _("项目与投资"),
        _("今年或上一年的项目、投资、购租厂房和相关费用。"),
        (
            "is_new_key_industry_project", "new_factory_purchase_area_m2", "new_factory_lease_area_m2",
            "rent_total", "in_industrial_upstairs_project", "tech_upgrade_level",
            "tech_upgrade_total_investment", "tech_upgrade_debt_financed", "new_equipment_investment",
            "municipal_funding_granted", "tech_project_level", "tech_project_new_equipment_investment",
            "tech_project_municipal_funding", "national_funding_granted", "mna_amount",
            "first_of_kind_contract_amount", "innovative_drug_rd_spend", "eda_tool_purchase_amount",
            "ic_verification_insurance_premium", "event_cost",
            "has_policy_guaranteed_loan", "loan_interest_paid", "loan_guarantee_fee_paid",
        ),
    ),
)  # fmt: skip
STEP_SLUGS = tuple(step.slug for step in STEPS)
_NAMED = {code: step.slug for step in STEPS for code in step.codes}


def step_of(code: str) -> str:
    return _NAMED.get(code, STEPS[-1].slug)


def step_by_slug(slug: str) -> Step | None:
    return next((step for step in STEPS if step.slug == slug), None)


def facts_of_step(step: Step, catalog: Mapping[str, FactDefinition]) -> list[FactDefinition]:
    named = [catalog[code] for code in step.codes if code in catalog]
    rest = sorted(code for code in catalog if step_of(code) == step.slug and code not in step.codes)
    return named + [catalog[code] for code in rest]


@dataclass(frozen=True)
class QuestionGroup:
    """Questions of one step about the same thing: the enterprise as a whole (`kind` ""), or one item
    of a kind (a technology-upgrade project, a charging station…: `kind` is its code)."""

    kind: str
    heading: str
    intro: str
    codes: tuple[str, ...]


def question_groups(
    questions: Sequence[FactDefinition], kinds: Mapping[str, ItemKind] | None = None
) -> list[QuestionGroup]:
    """The step's questions split by what they are about, in the step's order: first the enterprise's
    own, then one group per item kind. Several questions read alike ("技术改造项目级别" of the enterprise,
    "技改项目级别" of one project), so when a step asks anything about an item every group gets a
    heading; a step about the enterprise alone is one group without a heading."""
    by_kind: dict[str, list[str]] = {}
    for fact in questions:
        by_kind.setdefault(fact.item_kind or "", []).append(fact.code)
    if set(by_kind) <= {""}:
        return [QuestionGroup("", "", "", tuple(by_kind.get("", ())))]
    if kinds is None:
        kinds = {kind.code: kind for kind in ItemKind.objects.filter(code__in=list(by_kind))}
    groups = []
    if "" in by_kind:
        groups.append(
            QuestionGroup(
                "",
                str(_("企业整体情况")),
                str(_("以下问题针对企业整体，不针对其中某一个项目。")),
                tuple(by_kind[""]),
            )
        )
    for code, codes in by_kind.items():
        if not code:
            continue
        kind = kinds.get(code)
        name = kind.label if kind is not None else code
        groups.append(
            QuestionGroup(
                code,
                str(_("%(kind)s（每个单独计算，就其中一个填写）")) % {"kind": name},
                str(_("以下问题只针对一个%(kind)s，不是企业整体；有多个的，注册后可逐个录入。"))
                % {"kind": name},
                tuple(codes),
            )
        )
    return groups


class Wizard:
    """One request's view of the wizard: the catalog and benefit specs loaded once, the session's answers."""

    def __init__(
        self,
        answers: Mapping[str, Any],
        *,
        as_of: dt.date,
        catalog: Mapping[str, FactDefinition],
        specs: Sequence[BenefitSpec],
    ) -> None:
        self.as_of, self.catalog, self.specs = as_of, catalog, specs
        self.answers = self._still_valid(answers)
        self._results: dict[str, SelfCheckResult] = {}

    def _still_valid(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Session answers minus those the catalog no longer accepts (a fact removed or retyped since)."""
        try:
            parse_answers(answers, catalog=self.catalog)
        except AnswerError as error:
            return {code: value for code, value in answers.items() if code not in error.errors}
        return dict(answers)

    def evaluate(self, answers: Mapping[str, Any] | None = None) -> SelfCheckResult:
        """The result for these answers (default: all of them); each answer set is evaluated once."""
        answers = self.answers if answers is None else answers
        key = json.dumps(answers, sort_keys=True, ensure_ascii=False, default=str)
        if key not in self._results:
            self._results[key] = evaluate_answers(
                answers, as_of=self.as_of, specs=self.specs, catalog=self.catalog
            )
        return self._results[key]

    def questions(self, step: Step) -> list[FactDefinition]:
        """The facts this step asks: still open after the earlier steps' answers, or answered here."""
        earlier = set(STEP_SLUGS[: STEP_SLUGS.index(step.slug)])
        open_questions = set(
            self.evaluate({c: v for c, v in self.answers.items() if step_of(c) in earlier}).open_questions
        )
        return [
            fact
            for fact in facts_of_step(step, self.catalog)
            if fact.code in open_questions or fact.code in self.answers
        ]

    def next_step(self, after: Step | None) -> Step | None:
        """The first step after `after` (None: from the start) that has a question; None: show results."""
        start = 0 if after is None else STEP_SLUGS.index(after.slug) + 1
        return next((step for step in STEPS[start:] if self.questions(step)), None)

    def previous_step(self, before: Step) -> Step | None:
        index = STEP_SLUGS.index(before.slug)
        return next((step for step in reversed(STEPS[:index]) if self.questions(step)), None)

    def answers_with(self, questions: Sequence[FactDefinition], raw: Mapping[str, Any]) -> dict[str, Any]:
        """The answers with these questions' answers replaced by `raw` (catalog units; blanks removed).

        Raises AnswerError naming every value that does not fit."""
        typed = parse_answers({fact.code: raw.get(fact.code) for fact in questions}, catalog=self.catalog)
        answers = {code: value for code, value in self.answers.items() if code not in typed}
        for fact in questions:
            if typed[fact.code] is not None:
                answers[fact.code] = facttypes.to_json(fact.type, typed[fact.code])
        return answers


# --- the form of one step ---------------------------------------------------------------------


def _unit(fact: FactDefinition) -> str:
    return str(_("万元")) if fact.type == Type.MONEY else unit_text(fact.unit)


def _help(fact: FactDefinition) -> str:
    parts = [fact.description] if fact.description else []
    if fact.type == Type.MONEY:
        parts.append(str(_("单位：万元（1 万元 = 10000 元）。")))
    return " ".join(parts)


def _placeholder(fact: FactDefinition) -> str:
    examples = {Type.MONEY: "500", Type.INT: "120", Type.DECIMAL: "3000" if fact.unit != "%" else "12.5"}
    if fact.type in examples:
        return str(_("例如 %(example)s")) % {"example": examples[fact.type]}
    if fact.type == Type.SET:
        return str(_("多个值用分号分隔"))
    return ""


def _field(fact: FactDefinition) -> forms.Field:
    common = {"label": fact.label, "required": False, "help_text": _help(fact)}
    choices = fact.choice_pairs()
    if fact.type == Type.BOOL:
        return forms.ChoiceField(
            choices=facttypes.BOOL_CHOICES, widget=forms.RadioSelect, initial="", **common
        )
    if fact.type in (Type.ENUM, Type.REGION):  # a region: one of the tree's nodes, by name
        return forms.ChoiceField(choices=[("", _("不清楚"))] + choices, **common)
    if fact.type == Type.SET and choices:
        return forms.MultipleChoiceField(
            choices=choices + [(NONE_OF_THESE, _("以上都没有"))],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    attrs = {"placeholder": _placeholder(fact), "autocomplete": "off"}
    if fact.type in (Type.MONEY, Type.INT, Type.DECIMAL):
        attrs["inputmode"] = "decimal"
    if fact.type == Type.DATE:
        attrs["type"] = "date"
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


class StepForm(forms.Form):
    """The questions of one step. Values are checked by matching.selfcheck.parse_answers (one set of rules
    for the wizard and the API); this form only turns widgets into raw answers in catalog units."""

    def __init__(self, *args: Any, questions: Sequence[FactDefinition], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for fact in self.questions:
            self.fields[fact.code] = _field(fact)
            self.fields[fact.code].unit = _unit(fact)

    def raw_answers(self) -> dict[str, Any]:
        """Raw answers in catalog units (万元 -> yuan); call after is_valid()."""
        raw: dict[str, Any] = {}
        for fact in self.questions:
            value = self.cleaned_data.get(fact.code)
            if fact.type == Type.BOOL:
                value = facttypes.parse_bool(value) if value else None
            elif isinstance(value, list):
                if NONE_OF_THESE in value and len(value) > 1:
                    self.add_error(fact.code, _("“以上都没有”不能与其他选项同时选择。"))
                    continue
                value = [] if value == [NONE_OF_THESE] else (value or None)
            elif fact.type == Type.MONEY:
                value = parse_wan(value)
            raw[fact.code] = value
        return raw

    def add_answer_errors(self, error: AnswerError) -> None:
        for code, message in error.errors.items():
            self.add_error(code if code in self.fields else None, message)


def initial_values(questions: Sequence[FactDefinition], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The form's initial values from session answers (yuan -> 万元, sets -> lists, bools -> choices)."""
    initial: dict[str, Any] = {}
    for fact in questions:
        if fact.code not in answers:
            continue
        value = answers[fact.code]
        if fact.type == Type.SET:
            value = (value or [NONE_OF_THESE]) if fact.choices else ";".join(value)
        initial[fact.code] = value if fact.type == Type.SET else facttypes.form_value(fact, value)
    return initial


# --- the results page -------------------------------------------------------------------------

BADGES = {  # the colours are the dashboard's (matching.models.STATUS_BADGES)
    Status.ELIGIBLE: (_("符合"), STATUS_BADGES[Status.ELIGIBLE.slug]),
    Status.PENDING_RECOGNITION: (_("待认定"), STATUS_BADGES[Status.PENDING_RECOGNITION.slug]),
    Status.NEEDS_INFO: (_("需补充信息"), STATUS_BADGES[Status.NEEDS_INFO.slug]),
    Status.NOT_ELIGIBLE: (_("不符合"), STATUS_BADGES[Status.NOT_ELIGIBLE.slug]),
    Status.NOT_IN_FORCE: (_("未生效"), "bad"),
}
OUTCOME_MARKS = {0: ("✗", _("不满足")), 1: ("?", _("未知")), 2: ("✓", _("满足"))}


def amount_text(verdict: Verdict) -> str:
    """The estimate as people read it, in 万元; never 0 for a figure the text does not give."""
    spec, amount = verdict.spec, verdict.potential
    basis = amount.basis
    if basis is AmountBasis.FIXED:
        text = wan(amount.value)
    elif basis is AmountBasis.COMPUTED and amount.value == 0:
        return str(_("按所填数据计算为 0（计算基数为 0）"))  # no "约 0 万元，每年 0 万元"
    elif basis is AmountBasis.COMPUTED:
        text = str(_("约 %(amount)s（按比例计算）")) % {"amount": wan(amount.value)}
    elif basis is AmountBasis.CAPPED:
        text = str(_("%(amount)s（已达上限）")) % {"amount": wan(amount.value)}
    elif basis is AmountBasis.RANGE:
        text = str(_("约 %(low)s 至 %(high)s（按比例区间计算）")) % {
            "low": wan(amount.value),
            "high": wan(amount.high),
        }
    elif basis is AmountBasis.UP_TO_CAP:
        text = str(_("最高 %(amount)s")) % {"amount": wan(amount.value)}
    elif basis is AmountBasis.BASE_UNKNOWN:
        text = str(_("按比例计算，需补充计算基数")) + (
            str(_("（上限 %(cap)s）")) % {"cap": wan(spec.cap)} if spec.cap is not None else ""
        )
    elif basis is AmountBasis.NON_MONETARY:
        text = str(_("非资金支持"))
    else:
        text = str(_("原文未给出具体金额"))
    if amount.per_instalment is not None:
        text += str(_("，分 %(n)s 年，每年 %(each)s")) % {
            "n": spec.instalments,
            "each": wan(amount.per_instalment),
        }
    if amount.group_capped and spec.amount_rule is not None and spec.amount_rule.cap_group is not None:
        text += str(_("（%(note)s）")) % {"note": cap_group_note(spec.amount_rule.cap_group)}
    paid = schedule_text(amount)
    if paid:
        text += str(_("（%(paid)s）")) % {"paid": paid}
    if verdict.status is Status.NOT_ELIGIBLE and amount.value is not None:
        text = str(_("符合条件时：%(amount)s")) % {"amount": text}
    return text


def result_rows(result: SelfCheckResult, catalog: Mapping[str, FactDefinition]) -> list[dict[str, Any]]:
    """One row per benefit for the results template, in the result's order (estimated amount first)."""
    excluded_by = {loser.spec.global_key: winner for loser, winner in result.stack.excluded}
    # the next open or upcoming window of each benefit's calls (applications' call data)
    windows = call_windows([verdict.spec.benefit_id for verdict in result.verdicts], timezone.now())
    rows = []
    for verdict in result.verdicts:
        spec = verdict.spec
        winner = excluded_by.get(spec.global_key)
        hint = what_if(verdict, catalog)
        rows.append(
            {
                "verdict": verdict,
                "spec": spec,
                "badge": BADGES[verdict.status],
                "amount_text": amount_text(verdict),
                "reasons": [
                    {"reason": reason, "mark": OUTCOME_MARKS[int(reason.outcome)]}
                    for reason in verdict.reasons
                ],
                "gaps": [gap.text for gap in nearest_gaps(verdict, catalog)]
                if verdict.status is Status.NOT_ELIGIBLE
                else [],
                "what_if": hint.text if hint else "",
                "excluded_by": winner.spec.name if winner else "",
                "missing_labels": [catalog[code].label for code in verdict.missing_facts],
                "window": windows.get(spec.benefit_id),
            }
        )
    return rows


def missing_rows(result: SelfCheckResult, catalog: Mapping[str, FactDefinition]) -> list[dict[str, Any]]:
    """The "what is missing" prompts: fact, the money it could unlock, and the step asking it."""
    return [
        {
            "fact": catalog[missing.code],
            "could_unlock": wan(missing.could_unlock) if missing.could_unlock is not None else "",
            "benefit_count": len(missing.benefits),
            "step": step_of(missing.code),
        }
        for missing in result.missing
    ]


def answer_rows(answers: Mapping[str, Any], catalog: Mapping[str, FactDefinition]) -> list[dict[str, str]]:
    """The answers as the user gave them, for the summary and the registration hand-over."""
    typed = parse_answers(answers, catalog=catalog)
    return [
        {"label": catalog[code].label, "value": value_text(catalog[code], value), "step": step_of(code)}
        for step in STEPS
        for code in [fact.code for fact in facts_of_step(step, catalog)]
        if (value := typed.get(code)) is not None
    ]
