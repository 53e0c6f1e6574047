"""A profile from self-check answers: the inverse of fact derivation (enterprises/facts.py) for what the
self-check (政策计算器) asks — a new self-declared enterprise, or the gaps of a claimed one filled."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser as User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from enterprises import catalog, taxonomy
from enterprises.facts import facts_for
from enterprises.items import save_item
from enterprises.models import (
    Enterprise,
    EnterpriseMembership,
    Item,
    Level,
    Project,
    Recognition,
    Source,
    YearlyFigure,
)
from enterprises.services import (
    add_project,
    add_recognition,
    create_enterprise,
    link_user,
    save_yearly_figure,
    set_fact_value,
    update_enterprise,
)
from policies.models import FactDefinition

# ---------------------------------------------------------------- a profile from self-check answers
#
# The self-check (政策计算器) answers catalog facts; a profile stores the data facts.py derives them
# from. A builtin answer is written as the row it is read from, dated as facts.py reads it: figures of
# Y-1 (Y = the as-of year), recognitions and projects of Y-1 (both count in Y-1 and Y). An answer no
# row can reproduce without inventing data is left out: 成立年限 would need a registration date,
# “制造业企业” alone an industry code, a "none" of projects (tech_upgrade_level none, not in an
# 工业上楼 project) a declared-complete project list, which would turn every unanswered project
# amount into 0. Callers find those by comparing facts_for(enterprise, as_of) with the answers.

ANSWER_ENTERPRISE_FIELDS = {  # fact code -> Enterprise field holding exactly that value
    "district": "district",
    "legal_form": "legal_form",
    "is_foreign_invested": "is_foreign_invested",
    "industry_code": "industry_code",
    "industry_tracks": "industry_tracks",
    "industry_subtracks": "industry_subtracks",
    "enterprise_scale": "scale",
    "is_above_scale": "above_scale",
    "listing_exchange": "listing_exchange",
}
ANSWER_FIGURE_FIELDS = ("output_value", "revenue", "rd_expense", "employees", "tax_paid")  # same names
ANSWER_TECH_UPGRADE_FIELDS = {
    "tech_upgrade_total_investment": "total_investment",
    "new_equipment_investment": "new_equipment_investment",
    "municipal_funding_granted": "municipal_funding_granted",
}
ANSWER_AMOUNT_PROJECTS = {  # fact code -> (project kind, the column facts.py sums)
    "mna_amount": (Project.Kind.MNA, "contract_amount"),
    "first_of_kind_contract_amount": (Project.Kind.FIRST_OF_KIND, "contract_amount"),
    "innovative_drug_rd_spend": (Project.Kind.DRUG_RD, "cost"),
    "event_cost": (Project.Kind.EVENT, "cost"),
}
ANSWER_LOAN_FIELDS = {"loan_interest_paid": "interest_paid", "loan_guarantee_fee_paid": "guarantee_fee_paid"}
RATED_TECH_CENTRES = ("tech_center_national", "tech_center_municipal")  # a rating belongs to the higher one


@dataclass
class AnswerRow:
    """A row to write (table: figure, recognition, project or item — `kind` the item kind) and the
    answers it carries."""

    table: str
    kind: str
    year: int
    values: dict[str, Any]
    codes: tuple[str, ...]


@dataclass
class AnswerProfile:
    enterprise: dict[str, Any] = field(default_factory=dict)
    enterprise_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> answers
    rows: list[AnswerRow] = field(default_factory=list)
    stored: dict[str, Any] = field(default_factory=dict)  # stored facts: code -> typed value


@transaction.atomic
def create_profile_from_answers(
    *, user: User, name: str, credit_code: str, answers: Mapping[str, Any], as_of: datetime.date
) -> Enterprise:
    """A new self-declared enterprise from self-check answers, with `user` as its administrator; it is
    unverified (PENDING) until staff confirm it.

    `answers` are in the wizard's session format ({fact code: JSON value}, money in yuan; see
    portal/selfcheck/questions.py). Builtin facts become Enterprise fields and figure, recognition and project
    rows (see above); stored facts become undated FactValues. Everything has source self_declared.
    All or nothing: an unknown fact or a value that does not fit, a taken or malformed credit code, a
    user already acting for an enterprise raise ValidationError ({fact code | "name" | "credit_code":
    messages}) and nothing is written.
    """
    definitions = catalog.load_catalog()
    typed, errors = _typed_answers(answers, definitions)
    if EnterpriseMembership.objects.filter(user=user).exists():
        raise ValidationError(_("该账号已关联企业，不能再登记新企业。"), code="already_linked")
    if Enterprise.objects.filter(credit_code=credit_code).exists():
        errors["credit_code"] = [
            _("该统一社会信用代码已有企业登记。如贵企业已有账号，请直接登录或联系企业管理员。")
        ]
    if errors:
        raise ValidationError(errors)
    profile = _profile_from_answers(typed, as_of, definitions)
    data = {"name": name, "credit_code": credit_code, **profile.enterprise, "source": Source.SELF_DECLARED}
    try:  # unverified until staff confirm it (enterprises.verification)
        enterprise = create_enterprise(data=data, actor=user, verification=Enterprise.Verification.PENDING)
    except ValidationError as error:
        raise ValidationError(
            {
                key: _labelled(profile.enterprise_codes.get(key, ()), messages, definitions)
                for key, messages in error.message_dict.items()
            }
        ) from None
    for row in profile.rows:
        try:
            _write_answer_row(row, enterprise_id=enterprise.pk, actor=user)
        except ValidationError as error:  # each row is its own savepoint: collect every bad answer
            errors.setdefault(row.codes[0], []).extend(_labelled(row.codes, error.messages, definitions))
    for code, value in profile.stored.items():
        try:
            set_fact_value(
                enterprise_id=enterprise.pk,
                code=code,
                value=value,
                source=Source.SELF_DECLARED,
                note=_("政策计算器回答（%(date)s）") % {"date": as_of.isoformat()},
                actor=user,
            )
        except ValidationError as error:
            errors.setdefault(code, []).extend(_labelled((code,), error.messages, definitions))
    if errors:
        raise ValidationError(errors)
    _declare_unheld_answers(enterprise, typed, as_of=as_of, definitions=definitions, actor=user)
    link_user(user=user, enterprise_id=enterprise.pk, actor=user)
    enterprise.refresh_from_db()  # every row moved the version on
    return enterprise


def _declare_unheld_answers(
    enterprise: Enterprise,
    typed: Mapping[str, Any],
    *,
    as_of: datetime.date,
    definitions: Mapping[str, FactDefinition],
    actor: User,
) -> None:
    """Builtin answers the profile's rows leave unknown (a yes to 制造业企业 without an industry code, a
    no to 工业上楼 without a complete project list, a growth rate without last year's output) are kept
    as self-declared values: facts.py uses them until the data they are derived from is entered."""
    values = facts_for(enterprise, as_of, catalog=definitions).values
    for code, value in typed.items():
        if definitions[code].derived != FactDefinition.Derivation.BUILTIN or values.get(code) is not None:
            continue
        set_fact_value(
            enterprise_id=enterprise.pk,
            code=code,
            value=catalog.to_json(definitions[code].type, value),
            source=Source.SELF_DECLARED,
            note=_("政策计算器回答（%(date)s）") % {"date": as_of.isoformat()},
            actor=actor,
            declaration=True,
        )


def _typed_answers(
    answers: Mapping[str, Any], definitions: Mapping[str, FactDefinition]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Typed values of the answered facts (blanks dropped) and the messages of those that do not fit."""
    typed: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for code, raw in answers.items():
        definition = definitions.get(code)
        if definition is None:
            errors[code] = [_("未知的事实代码：%(code)s。") % {"code": code}]
            continue
        try:
            value = catalog.coerce_fact_value(definition, raw)
        except ValidationError as error:
            errors[code] = error.messages
            continue
        except (TypeError, ValueError):  # e.g. a JSON object where a list of choices belongs
            errors[code] = [_("“%(label)s”：格式不正确。") % {"label": definition.label, "code": code}]
            continue
        if value is not None:
            typed[code] = value
    return typed, errors


def _labelled(
    codes: tuple[str, ...], messages: list[str], definitions: Mapping[str, FactDefinition]
) -> list[str]:
    """Messages of a refused row, prefixed with the answers that row was carrying."""
    if not codes:
        return list(messages)
    labels = "、".join(definitions[code].label for code in codes)
    return [_("“%(labels)s”：%(message)s") % {"labels": labels, "message": message} for message in messages]


def _profile_from_answers(
    typed: Mapping[str, Any], as_of: datetime.date, definitions: Mapping[str, FactDefinition]
) -> AnswerProfile:
    profile = AnswerProfile()
    last_year = as_of.year - 1

    def set_field(name: str, value: Any, *codes: str) -> None:
        profile.enterprise[name] = value
        profile.enterprise_codes[name] = codes

    def add_row(table: str, kind: str, year: int, values: dict[str, Any], *codes: str) -> None:
        profile.rows.append(AnswerRow(table, kind, year, values, codes))

    # identity and status
    for code, name in ANSWER_ENTERPRISE_FIELDS.items():
        if code in typed:
            value = typed[code]
            set_field(name, sorted(value) if isinstance(value, frozenset) else value, code)
    if "district" not in typed and typed.get("located_in_minhang") is True:
        set_field("district", taxonomy.MINHANG, "located_in_minhang")
    if "enterprise_scale" not in typed and typed.get("is_sme") is False:
        set_field("scale", Enterprise.Scale.LARGE, "is_sme")  # not small, medium or micro
    if typed.get("newly_above_scale") is True:
        set_field("above_scale_since", last_year, "newly_above_scale")
        if "is_above_scale" not in typed:
            set_field("above_scale", True, "newly_above_scale")
    if "recognitions" in typed:  # the answer lists every recognition held ([] = none)
        set_field("recognitions_declared", True, "recognitions")

    # yearly figures: last year's, and the year before when an increase or growth rate implies it
    figure = {name: typed[name] for name in ANSWER_FIGURE_FIELDS if name in typed}
    if figure:
        add_row("figure", "", last_year, figure, *figure)
    previous, previous_codes = _previous_output(typed)
    if previous is not None:
        add_row("figure", "", last_year - 1, {"output_value": previous}, *previous_codes)

    # recognitions: a kind not named as new was held before, so it is not "first obtained" last year
    held, new = typed.get("recognitions") or frozenset(), typed.get("recognitions_new") or frozenset()
    rating = typed.get("tech_center_rating")
    rated = next((kind for kind in RATED_TECH_CENTRES if kind in held | new), None) if rating else None
    for kind in sorted(held | new):
        codes = [code for code, kinds in (("recognitions", held), ("recognitions_new", new)) if kind in kinds]
        values = {"first_time": kind in new, "grade": rating if kind == rated else ""}
        add_row(
            "recognition", kind, last_year, values, *codes, *(["tech_center_rating"] if kind == rated else [])
        )

    # projects of last year, one per kind the answers describe
    level = typed.get("tech_upgrade_level")
    if level in (Level.MUNICIPAL, Level.DISTRICT):
        amounts = {
            column: typed[code] for code, column in ANSWER_TECH_UPGRADE_FIELDS.items() if code in typed
        }
        codes = [code for code in ANSWER_TECH_UPGRADE_FIELDS if code in typed]
        add_row(
            "project",
            Project.Kind.TECH_UPGRADE,
            last_year,
            {"level": level, **amounts},
            "tech_upgrade_level",
            *codes,
        )
    key_project = typed.get("is_new_key_industry_project")
    key_codes = ["is_new_key_industry_project"] if key_project is not None else []
    if "new_factory_purchase_area_m2" in typed:
        values = {"area_m2": typed["new_factory_purchase_area_m2"], "key_industry_new_project": key_project}
        add_row(
            "project",
            Project.Kind.FACTORY_PURCHASE,
            last_year,
            values,
            "new_factory_purchase_area_m2",
            *key_codes,
        )
    rent = typed.get("rent_total")
    upstairs = typed.get("in_industrial_upstairs_project") is True
    if "new_factory_lease_area_m2" in typed or (rent is not None and not upstairs):
        values = {
            "area_m2": typed.get("new_factory_lease_area_m2"),
            "rent_total": rent,
            "key_industry_new_project": key_project,
        }
        codes = [code for code in ("new_factory_lease_area_m2", "rent_total") if code in typed]
        add_row("project", Project.Kind.FACTORY_LEASE, last_year, values, *codes, *key_codes)
        rent = None  # carried by the lease (with an 工业上楼 project too, the split is unknown)
    if upstairs:
        codes = ["rent_total"] if rent is not None else []
        add_row(
            "project",
            Project.Kind.INDUSTRIAL_UPSTAIRS,
            last_year,
            {"rent_total": rent},
            "in_industrial_upstairs_project",
            *codes,
        )
    for code, (kind, column) in ANSWER_AMOUNT_PROJECTS.items():
        if code in typed:
            add_row("project", kind, last_year, {column: typed[code]}, code)
    loan = {column: typed[code] for code, column in ANSWER_LOAN_FIELDS.items() if code in typed}
    guaranteed = typed.get("has_policy_guaranteed_loan")
    if loan or guaranteed is True:
        codes = [code for code in (*ANSWER_LOAN_FIELDS, "has_policy_guaranteed_loan") if code in typed]
        add_row("project", Project.Kind.LOAN, last_year, {**loan, "policy_guaranteed": guaranteed}, *codes)

    # item facts (a project's own facts): one item of each kind the answers describe
    by_kind: dict[str, dict[str, Any]] = {}
    for code, value in typed.items():
        kind = definitions[code].item_kind
        if kind and definitions[code].derived == FactDefinition.Derivation.STORED:
            by_kind.setdefault(kind, {})[code] = value
    for kind, values in by_kind.items():
        add_row("item", kind, last_year, values, *values)

    profile.stored = {
        code: value
        for code, value in typed.items()
        if definitions[code].derived == FactDefinition.Derivation.STORED and not definitions[code].item_kind
    }
    return profile


def _previous_output(typed: Mapping[str, Any]) -> tuple[Decimal | None, tuple[str, ...]]:
    """The output value of the year before last that an answered increase (or growth rate) implies."""
    output = typed.get("output_value")
    if output is None:
        return None, ()
    if "output_value_increase" in typed:
        previous, codes = output - typed["output_value_increase"], ("output_value_increase",)
    elif typed.get("output_growth_rate") is not None and typed["output_growth_rate"] > -100:
        previous, codes = output * 100 / (100 + typed["output_growth_rate"]), ("output_growth_rate",)
    else:
        return None, ()
    previous = previous.quantize(Decimal("0.01"))
    return (previous, codes) if previous >= 0 else (None, ())


def _write_answer_row(row: AnswerRow, *, enterprise_id: int, actor: User) -> None:
    values = {**row.values, "source": Source.SELF_DECLARED}
    if row.table == "figure":
        save_yearly_figure(enterprise_id=enterprise_id, year=row.year, values=values, actor=actor)
    elif row.table == "recognition":
        add_recognition(enterprise_id=enterprise_id, kind=row.kind, year=row.year, values=values, actor=actor)
    elif row.table == "item":
        from policies.models import ItemKind

        kind = ItemKind.objects.filter(code=row.kind).first()
        save_item(
            enterprise_id=enterprise_id,
            kind=row.kind,
            title=kind.label_zh if kind else row.kind,
            values=row.values,
            source=Source.SELF_DECLARED,
            actor=actor,
        )
    else:
        add_project(enterprise_id=enterprise_id, kind=row.kind, year=row.year, values=values, actor=actor)


@transaction.atomic
def fill_profile_gaps_from_answers(
    *, enterprise_id: int, answers: Mapping[str, Any], as_of: datetime.date, actor: User
) -> list[str]:
    """Self-check answers for an enterprise that already has a profile (a claim staff confirmed):
    only what the profile does not state is written, as self-declared data; nothing stated is
    overwritten. An answered fact the profile already knows, an answer that no longer fits the
    catalog, a row of a kind the profile already has (a recognition, a project, an item) or a row the
    profile refuses is left out. Returns the codes of the answers written."""
    definitions = catalog.load_catalog()
    typed, _unfit = _typed_answers(answers, definitions)
    enterprise = Enterprise.objects.get(pk=enterprise_id)
    known = facts_for(enterprise, as_of, catalog=definitions).values
    gaps = {code: value for code, value in typed.items() if known.get(code) is None}
    if not gaps:
        return []
    profile = _profile_from_answers(gaps, as_of, definitions)

    def attempt(write: Any) -> None:
        try:
            with transaction.atomic():
                write()
        except ValidationError:
            pass  # the profile refuses it: left for the enterprise to enter

    blank_fields = {
        name: value
        for name, value in profile.enterprise.items()
        if getattr(enterprise, name, None) in (None, "", [])
    }
    for name, value in blank_fields.items():
        attempt(
            lambda name=name, value=value: update_enterprise(
                enterprise_id=enterprise_id,
                expected_version=Enterprise.objects.get(pk=enterprise_id).version,
                changes={name: value},
                actor=actor,
            ),
        )
    for row in profile.rows:
        if row.table == "figure":
            stored = YearlyFigure.objects.filter(enterprise_id=enterprise_id, year=row.year).first()
            values = {
                name: value for name, value in row.values.items() if getattr(stored, name, None) is None
            }
            if not values:
                continue
            row = AnswerRow(row.table, row.kind, row.year, values, row.codes)
        elif row.table == "recognition":
            if Recognition.objects.filter(enterprise_id=enterprise_id, kind=row.kind).exists():
                continue
        elif row.table == "item":
            if Item.objects.filter(enterprise_id=enterprise_id, kind=row.kind).exists():
                continue  # the answers describe one project: the enterprise's own list stands
        elif Project.objects.filter(enterprise_id=enterprise_id, kind=row.kind).exists():
            continue
        attempt(lambda row=row: _write_answer_row(row, enterprise_id=enterprise_id, actor=actor))
    for code, value in profile.stored.items():
        attempt(
            lambda code=code, value=value: set_fact_value(
                enterprise_id=enterprise_id,
                code=code,
                value=value,
                source=Source.SELF_DECLARED,
                note=_("认领时的政策计算器回答（%(date)s）") % {"date": as_of.isoformat()},
                actor=actor,
            ),
        )
    enterprise.refresh_from_db()
    _declare_unheld_answers(enterprise, gaps, as_of=as_of, definitions=definitions, actor=actor)
    now_known = facts_for(enterprise, as_of, catalog=definitions).values
    return sorted(code for code in gaps if now_known.get(code) is not None)
