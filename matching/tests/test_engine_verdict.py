"""Verdicts for one enterprise: status, score, amount, reasons with citations (no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from matching.engine import AmountBasis, ConditionError, Outcome, Status, explain, facts_read, validity_on
from matching.tests.engine_support import AS_OF, CATALOG, leaf, spec

LEASE = {
    "all": [
        leaf("key_project", "eq", True, "重点产业领域新引进"),
        leaf("area", "gte", 5000, "租赁面积超过5000平方米（含）以上"),
    ]
}


def verdict(benefit, facts, as_of=AS_OF, sources=None):
    return explain(benefit, facts, as_of=as_of, catalog=CATALOG, sources=sources)


@pytest.mark.parametrize(
    ("facts", "requires_recognition", "status", "score"),
    [
        ({"key_project": True, "area": 5000}, False, Status.ELIGIBLE, 100),
        ({"key_project": True, "area": 5000}, True, Status.PENDING_RECOGNITION, 90),
        ({"key_project": True, "area": None}, False, Status.NEEDS_INFO, 75),  # (1 + 0.5) / 2
        ({}, False, Status.NEEDS_INFO, 50),  # nothing known: 0.5
        ({"key_project": True, "area": 4800}, False, Status.NOT_ELIGIBLE, 49),  # (1 + 0) / 2 = 50, capped
        ({"key_project": False, "area": 4800}, True, Status.NOT_ELIGIBLE, 0),
        ({"key_project": None, "area": 4800}, False, Status.NOT_ELIGIBLE, 25),  # unmet beats unknown
    ],
)
def test_status_and_score(facts, requires_recognition, status, score):
    result = verdict(spec(LEASE, requires_recognition=requires_recognition), facts)
    assert (result.status, result.score) == (status, score)


def test_unknown_is_never_not_eligible():
    tree = {"any": [leaf("area", "gte", 5000), {"not": leaf("level", "eq", "municipal")}]}
    result = verdict(spec(tree), {"area": 10, "level": None})
    assert result.status is Status.NEEDS_INFO
    assert result.missing_facts == ("level",)


def test_score_rewards_partial_progress_in_all_and_best_branch_in_any():
    tree = {
        "all": [
            leaf("key_project", "eq", True),
            leaf("area", "gte", 5000),
            leaf("employees", "gte", 100),
            {"any": [leaf("level", "eq", "district"), leaf("recognitions", "contains", "little_giant")]},
        ]
    }
    facts = {"key_project": True, "area": 6000, "employees": None, "level": "district", "recognitions": None}
    result = verdict(spec(tree), facts)
    assert (result.status, result.score) == (Status.NEEDS_INFO, 88)  # (1 + 1 + 0.5 + 1) / 4 = 0.875
    assert result.leaf_outcomes == "vv?v?"


def test_no_condition_means_eligible_or_pending():
    assert verdict(spec(None), {}).status is Status.ELIGIBLE
    assert verdict(spec(None, requires_recognition=True), {}).status is Status.PENDING_RECOGNITION


@pytest.mark.parametrize(
    ("overrides", "as_of", "validity"),
    [
        ({}, dt.date(2024, 4, 1), "in_force"),
        ({}, dt.date(2029, 3, 31), "in_force"),
        ({}, dt.date(2024, 3, 31), "not_yet_effective"),
        ({}, dt.date(2029, 4, 1), "expired"),
        ({"doc_status": "draft", "effective_from": None}, AS_OF, "draft"),
        ({"doc_status": "superseded"}, AS_OF, "superseded"),
        ({"doc_status": "expired"}, AS_OF, "in_force"),  # within its known dates, as the model says
        ({"doc_status": "expired"}, dt.date(2029, 4, 1), "expired"),
        ({"doc_status": "expired", "effective_to": None}, AS_OF, "expired"),  # expired, end unknown
        ({"doc_status": "draft", "effective_from": dt.date(2024, 1, 1)}, AS_OF, "draft"),
        ({"effective_from": None, "effective_to": None}, dt.date(1990, 1, 1), "in_force"),
        ({"valid_to": dt.date(2025, 12, 31)}, dt.date(2026, 1, 1), "expired"),  # the benefit's own end
        ({"valid_from": dt.date(2026, 1, 1)}, AS_OF, "not_yet_effective"),
    ],
)
def test_validity_on_a_date(overrides, as_of, validity):
    benefit = spec(LEASE, **overrides)
    assert validity_on(benefit, as_of) == validity
    result = verdict(benefit, {"key_project": True, "area": 9000}, as_of=as_of)
    if validity == "in_force":
        assert result.status is Status.ELIGIBLE
    else:
        assert (result.status, result.validity, result.score, result.amount.value) == (
            Status.NOT_IN_FORCE,
            validity,
            0,
            None,
        )


def test_reasons_name_the_fact_the_requirement_the_value_its_source_and_the_clause():
    result = verdict(
        spec(LEASE),
        {"key_project": True, "area": Decimal("4800.5")},
        sources={"key_project": "staff", "area": "self_declared"},
    )
    first, second = result.reasons
    assert (first.label, first.requirement, first.value_text, first.source_text, first.outcome) == (
        "重点产业领域新引进的制造业项目",
        "重点产业领域新引进的制造业项目：是",
        "是",
        "工作人员核定",
        Outcome.MET,
    )
    assert (second.requirement, second.value, second.value_text, second.source, second.outcome) == (
        "新租赁自用工业厂房面积 ≥ 5000 平方米",
        Decimal("4800.5"),
        "4800.5 平方米",
        "self_declared",
        Outcome.UNMET,
    )
    assert second.citation.document_title == "测试政策"
    assert second.citation.clause_number == "7"
    assert second.citation.quote == "租赁面积超过5000平方米（含）以上"
    assert result.citation.quote == "给予上限1000万元的补贴"


def test_unknown_values_have_no_source():
    result = verdict(spec(LEASE), {"key_project": None}, sources={"key_project": "staff"})
    assert (result.reasons[0].value_text, result.reasons[0].source) == ("未知", "")


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        (leaf("investment", "gte", 10_000_000), "新增设备投资额 ≥ 1000 万元"),
        (
            leaf("investment", "between", [1_500_000, 20_000_000]),
            "新增设备投资额在 150 万元 至 2000 万元 之间（含）",
        ),
        (leaf("growth", "gt", Decimal("8.50")), "上年度工业产值增速 > 8.5%"),
        (leaf("employees", "lt", 300), "上年度从业人员数 < 300 人"),
        (leaf("level", "eq", "district"), "技术改造项目级别为区级技改项目"),
        (leaf("level", "in", ["municipal", "district"]), "技术改造项目级别为市级技改项目、区级技改项目之一"),
        (leaf("recognitions", "contains", "little_giant"), "已获认定与荣誉包含“国家级专精特新“小巨人”企业”"),
        (leaf("key_project", "ne", True), "重点产业领域新引进的制造业项目：否"),
        (leaf("registered_on", "lte", "2020-01-01"), "登记日期 ≤ 2020-01-01"),
        (leaf("area", "exists", True), "已提供新租赁自用工业厂房面积"),
        (leaf("area", "exists", False), "未提供新租赁自用工业厂房面积"),
    ],
)
def test_requirements_are_rendered_in_chinese_with_money_in_wan(tree, expected):
    assert verdict(spec(tree), {}).reasons[0].requirement == expected


def test_values_are_rendered_with_labels():
    facts = {
        "recognitions": {"little_giant", "sh_specialized_sme"},
        "investment": 12_345,
        "level": "municipal",
    }
    tree = {
        "all": [
            leaf("recognitions", "exists", True),
            leaf("investment", "exists", True),
            leaf("level", "exists", True),
        ]
    }
    texts = [reason.value_text for reason in verdict(spec(tree), facts).reasons]
    assert texts == ["上海市专精特新中小企业、国家级专精特新“小巨人”企业", "1.2345 万元", "市级技改项目"]
    empty = verdict(spec(leaf("recognitions", "exists", True)), {"recognitions": frozenset()})
    assert empty.reasons[0].value_text == "无"


RATIO = {"kind": "ratio", "cap": Decimal(20_000_000), "ratio": Decimal("0.10"), "base_fact": "investment"}


@pytest.mark.parametrize(
    ("overrides", "facts", "value", "basis", "per_instalment"),
    [
        (
            {"amount": Decimal(500_000), "cap": Decimal(500_000)},
            {},
            Decimal(500_000),
            AmountBasis.FIXED,
            None,
        ),
        ({}, {}, Decimal(10_000_000), AmountBasis.UP_TO_CAP, None),  # 上限1000万元: at most the cap
        (RATIO, {"investment": 50_000_000}, Decimal("5000000.00"), AmountBasis.COMPUTED, None),
        (
            RATIO,
            {"investment": 200_000_000},
            Decimal(20_000_000),
            AmountBasis.CAPPED,
            None,
        ),  # exactly the cap
        (RATIO, {"investment": 900_000_000}, Decimal(20_000_000), AmountBasis.CAPPED, None),
        (
            RATIO,
            {"investment": Decimal("0.05")},
            Decimal("0.01"),
            AmountBasis.COMPUTED,
            None,
        ),  # half up to cents
        (RATIO, {"investment": None}, None, AmountBasis.BASE_UNKNOWN, None),
        (
            RATIO | {"cap": None},
            {"investment": 900_000_000},
            Decimal("90000000.00"),
            AmountBasis.COMPUTED,
            None,
        ),
        (
            RATIO | {"base_fact": None},
            {},
            Decimal(20_000_000),
            AmountBasis.UP_TO_CAP,
            None,
        ),  # base not stated
        (
            {"kind": "matching", "ratio": Decimal("0.5"), "base_fact": "investment"},
            {"investment": 4_000_000},
            Decimal("2000000.00"),
            AmountBasis.COMPUTED,
            None,
        ),
        (
            {
                "kind": "rent",
                "cap": Decimal(5_000_000),
                "ratio": Decimal("0.30"),
                "base_fact": "investment",
                "instalments": 3,
            },
            {"investment": 10_000_000},
            Decimal("3000000.00"),
            AmountBasis.COMPUTED,
            Decimal("1000000.00"),
        ),
        (
            {
                "kind": "rent",
                "cap": Decimal(5_000_000),
                "ratio": Decimal("0.30"),
                "base_fact": "investment",
                "instalments": 3,
            },
            {"investment": 100_000_000},
            Decimal(5_000_000),
            AmountBasis.CAPPED,
            Decimal("1666666.67"),
        ),
        ({"cap": None}, {}, None, AmountBasis.NOT_FIXED, None),  # 一定支持: never 0
        (
            {"kind": "interest", "cap": None, "base_fact": "investment"},
            {"investment": 5},
            None,
            AmountBasis.NOT_FIXED,
            None,
        ),
        ({"kind": "non_monetary", "cap": None}, {}, None, AmountBasis.NON_MONETARY, None),
    ],
)
def test_estimated_amount(overrides, facts, value, basis, per_instalment):
    result = verdict(spec(None, **overrides), facts)
    assert (result.amount.value, result.amount.basis, result.amount.per_instalment) == (
        value,
        basis,
        per_instalment,
    )
    assert result.amount.is_fixed is (value is not None)


def test_amount_is_not_applicable_when_not_eligible_but_the_potential_is_kept():
    result = verdict(spec(LEASE), {"key_project": True, "area": 10})
    assert (result.amount.value, result.amount.basis) == (None, AmountBasis.NOT_APPLICABLE)
    assert result.potential.value == Decimal(10_000_000)


def test_needs_info_shows_what_the_benefit_would_pay_and_asks_for_an_unknown_base():
    result = verdict(spec(LEASE, **RATIO), {"key_project": True, "area": None, "investment": None})
    assert result.status is Status.NEEDS_INFO
    assert result.amount.basis is AmountBasis.BASE_UNKNOWN
    assert result.missing_facts == ("area", "investment")
    eligible_without_base = verdict(spec(LEASE, **RATIO), {"key_project": True, "area": 6000})
    assert eligible_without_base.status is Status.ELIGIBLE
    assert eligible_without_base.missing_facts == ("investment",)


def test_fingerprint_follows_the_inputs_only():
    benefit = spec(LEASE, **RATIO)
    base = verdict(benefit, {"key_project": True, "area": 5000, "investment": 1})
    same = verdict(
        benefit, {"key_project": True, "area": Decimal("5000.00"), "investment": 1.0, "employees": 7}
    )
    assert same.fingerprint == base.fingerprint  # equal values, and a fact the benefit does not read
    changed = [
        verdict(benefit, {"key_project": True, "area": 5001, "investment": 1}),
        verdict(benefit, {"key_project": True, "area": 5000, "investment": 2}),
        verdict(benefit, {"key_project": None, "area": 5000, "investment": 1}),
        verdict(spec(LEASE, **RATIO, version=2), {"key_project": True, "area": 5000, "investment": 1}),
        verdict(benefit, {"key_project": True, "area": 5000, "investment": 1}, as_of=dt.date(2030, 1, 1)),
    ]
    assert len({base.fingerprint, *(v.fingerprint for v in changed)}) == 6


def test_an_amount_fact_missing_from_the_catalog_is_one_problem_named_in_full():
    """Found by mypy: the error was built from a str, so each of its characters was a 'problem'
    and the message read "d; o; c; /; ..." (the policy set, matching.selectors.PolicySet, stores it as is)."""
    benefit = spec(kind="ratio", ratio=Decimal("0.1"), base_fact="turnover")
    with pytest.raises(ConditionError) as error:
        facts_read([benefit], CATALOG)
    assert error.value.problems == ["doc/7/benefit: unknown amount fact 'turnover'"]
    assert str(error.value) == "doc/7/benefit: unknown amount fact 'turnover'"
