"""Three-valued evaluation of single conditions and of all/any/not (no database)."""

import datetime as dt
from decimal import Decimal

import pytest

from matching.engine import ConditionError, FactValueError, Outcome, compile_condition
from matching.engine.conditions import fold, leaf_outcome
from matching.engine.values import kind_of, normalize
from matching.tests.engine_support import CATALOG, leaf

MET, UNMET, UNKNOWN = Outcome.MET, Outcome.UNMET, Outcome.UNKNOWN


def outcome_of(tree, facts):
    compiled = compile_condition(tree, CATALOG)
    values = {code: normalize(kind_of(CATALOG[code]), facts.get(code)) for code in compiled.fact_codes}
    outcome, _ = fold(compiled.root, lambda lf: leaf_outcome(lf, values[lf.fact]))
    return Outcome(int(outcome))


@pytest.mark.parametrize(
    ("op", "value", "fact_value", "expected"),
    [
        ("gte", 5000, Decimal(5000), MET),
        ("gte", 5000, Decimal("4999.99"), UNMET),
        ("gt", 5000, 5000, UNMET),
        ("gt", 5000, 5000.01, MET),
        ("lt", 5000, 4999, MET),
        ("lte", 5000, Decimal("5000.00"), MET),
        ("eq", 5000, "5000", MET),  # numbers compare as Decimal(str(x))
        ("eq", Decimal("0.1"), 0.1, MET),  # a float becomes Decimal("0.1"), not its binary expansion
        ("ne", 5000, 5000.0, UNMET),
        ("in", [1000, 2000], Decimal("2000.0"), MET),
        ("in", [1000, 2000], 3000, UNMET),
        ("between", [1000, 2000], 1000, MET),
        ("between", [1000, 2000], 2000, MET),
        ("between", [1000, 2000], 2000.5, UNMET),
        ("gte", 5000, None, UNKNOWN),
        ("exists", True, 0, MET),  # zero is a known value
        ("exists", True, None, UNKNOWN),  # the figure is asked for, not judged missing
        ("exists", False, None, MET),
        ("exists", False, 12, UNMET),
    ],
)
def test_number_operators(op, value, fact_value, expected):
    assert outcome_of(leaf("area", op, value), {"area": fact_value}) is expected


@pytest.mark.parametrize(
    ("fact", "op", "value", "fact_value", "expected"),
    [
        ("key_project", "eq", True, True, MET),
        ("key_project", "eq", True, False, UNMET),
        ("key_project", "ne", True, False, MET),
        ("key_project", "eq", False, None, UNKNOWN),  # unknown is not False
        ("level", "eq", "district", "district", MET),
        ("level", "ne", "district", "municipal", MET),
        ("level", "in", ["municipal", "district"], "district", MET),
        ("district", "eq", "b", "b", MET),
        ("district", "in", ["b", "d"], "e", UNMET),
        ("district", "ne", "b", None, UNKNOWN),
        ("recognitions", "contains", "little_giant", frozenset({"little_giant"}), MET),
        ("recognitions", "contains", "little_giant", ["sh_specialized_sme"], UNMET),
        ("recognitions", "contains", "little_giant", frozenset(), UNMET),  # known to have none
        ("recognitions", "contains", "little_giant", None, UNKNOWN),
        ("recognitions", "exists", True, frozenset(), MET),
        ("registered_on", "lte", "2020-01-01", dt.date(2019, 12, 31), MET),
        ("registered_on", "gt", dt.date(2020, 1, 1), "2020-01-01", UNMET),
        ("registered_on", "between", ["2020-01-01", "2020-12-31"], dt.date(2020, 12, 31), MET),
        ("employees", "gte", 100, 100, MET),
    ],
)
def test_operators_of_other_kinds(fact, op, value, fact_value, expected):
    assert outcome_of(leaf(fact, op, value), {fact: fact_value}) is expected


KLEENE_AND = {
    (MET, MET): MET, (MET, UNKNOWN): UNKNOWN, (MET, UNMET): UNMET,
    (UNKNOWN, UNKNOWN): UNKNOWN, (UNKNOWN, UNMET): UNMET, (UNMET, UNMET): UNMET,
}  # fmt: skip
KLEENE_OR = {
    (MET, MET): MET, (MET, UNKNOWN): MET, (MET, UNMET): MET,
    (UNKNOWN, UNKNOWN): UNKNOWN, (UNKNOWN, UNMET): UNKNOWN, (UNMET, UNMET): UNMET,
}  # fmt: skip
# a fact value giving each outcome for the leaf `key_project eq true`
VALUE_FOR = {MET: True, UNMET: False, UNKNOWN: None}


@pytest.mark.parametrize(("pair", "expected"), list(KLEENE_AND.items()))
def test_all_is_kleene_and(pair, expected):
    left, right = pair
    tree = {"all": [leaf("key_project", "eq", True), leaf("level", "eq", "district")]}
    facts = {
        "key_project": VALUE_FOR[left],
        "level": {MET: "district", UNMET: "municipal", UNKNOWN: None}[right],
    }
    assert outcome_of(tree, facts) is expected


@pytest.mark.parametrize(("pair", "expected"), list(KLEENE_OR.items()))
def test_any_is_kleene_or(pair, expected):
    left, right = pair
    tree = {"any": [leaf("key_project", "eq", True), leaf("level", "eq", "district")]}
    facts = {
        "key_project": VALUE_FOR[left],
        "level": {MET: "district", UNMET: "municipal", UNKNOWN: None}[right],
    }
    assert outcome_of(tree, facts) is expected


@pytest.mark.parametrize(("inner", "expected"), [(MET, UNMET), (UNMET, MET), (UNKNOWN, UNKNOWN)])
def test_not_swaps_met_and_unmet_and_keeps_unknown(inner, expected):
    tree = {"not": leaf("key_project", "eq", True)}
    assert outcome_of(tree, {"key_project": VALUE_FOR[inner]}) is expected


def test_nested_tree():
    tree = {
        "all": [
            {"any": [leaf("area", "gte", 5000), leaf("recognitions", "contains", "little_giant")]},
            {"not": leaf("level", "eq", "municipal")},
        ]
    }
    facts = {"area": 100, "recognitions": {"little_giant"}, "level": "district"}
    assert outcome_of(tree, facts) is MET
    assert outcome_of(tree, {**facts, "level": "municipal"}) is UNMET


@pytest.mark.parametrize(
    ("fact_value", "expected"),
    [
        ("310112", MET),  # 闵行区 lies inside 上海市
        ("310000", MET),  # the region itself
        ("310115", MET),  # 浦东新区: inside 上海市 too
        ("310112001", MET),  # 莘庄工业区: inside 闵行区, so inside 上海市
        ("220000", UNMET),  # 吉林省: a known other region
        ("nowhere", UNMET),  # a code the tree does not know is not inside anything
        (None, UNKNOWN),
    ],
)
def test_within_reads_the_region_tree(fact_value, expected):
    assert outcome_of(leaf("region", "within", "310000"), {"region": fact_value}) is expected
    assert compile_condition(leaf("region", "within", "310000"), CATALOG).leaves[0].members == (
        "310000", "310112", "310115", "310112001",
    )  # fmt: skip


def test_region_eq_in_and_exists_compare_codes():
    assert outcome_of(leaf("region", "eq", "310112"), {"region": "310112"}) is MET
    assert outcome_of(leaf("region", "eq", "310000"), {"region": "310112"}) is UNMET  # eq is not within
    assert outcome_of(leaf("region", "in", ["220000", "310112"]), {"region": "310112"}) is MET
    assert outcome_of(leaf("region", "exists", True), {"region": None}) is UNKNOWN


def test_leaves_are_numbered_depth_first_in_document_order():
    tree = {
        "all": [
            leaf("area", "gte", 1),
            {"any": [leaf("employees", "gte", 2), leaf("level", "eq", "district")]},
        ]
    }
    compiled = compile_condition(tree, CATALOG)
    assert [(lf.index, lf.fact, lf.path) for lf in compiled.leaves] == [
        (0, "area", "condition.all[0]"),
        (1, "employees", "condition.all[1].any[0]"),
        (2, "level", "condition.all[1].any[1]"),
    ]
    assert compiled.fact_codes == {"area", "employees", "level"}


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (leaf("no_such_fact", "eq", 1), "未知事实 no_such_fact"),
        (leaf("area", "contains", 1), "contains 只能用于多选（set）事实，area"),
        (leaf("key_project", "lt", True), "lt 只能用于数值或日期事实，key_project"),
        (leaf("key_project", "in", [True]), "是/否事实请用 eq"),
        (leaf("district", "lt", "b"), "lt 只能用于数值或日期事实，district"),
        (leaf("recognitions", "eq", ["little_giant"]), "多选（set）事实只能用 contains 或 exists"),
        (leaf("area", "between", [5, 1]), "between 的下限 5 大于上限 1"),
        (leaf("area", "between", [5]), "between 的值应为 [下限, 上限]"),
        (leaf("area", "in", []), "in 的值应为非空列表"),
        (leaf("area", "gte", "5000"), "值 '5000' 与事实类型 decimal 不符"),  # numbers are written as numbers
        (leaf("area", "gte", True), "值 True 与事实类型 decimal 不符"),
        (leaf("area", "exists", "yes"), "exists 的值应为 true 或 false"),
        (leaf("key_project", "eq", "yes"), "值 'yes' 与事实类型 bool 不符"),
        (leaf("registered_on", "gte", "2020-13-01"), "YYYY-MM-DD"),
        (leaf("region", "within", "999999"), "值 '999999' 不是已知的地区代码"),
        (leaf("level", "within", "district"), "within 只能用于地区（region）事实"),
        (leaf("area", "gte", 1, quote=""), "condition (area).quote: 应为非空文字"),
        ({"fact": "area", "op": "gte", "value": 1}, "condition (area).quote: 缺少此项"),
        ({"all": [leaf("area", "gte", 1)], "any": []}, "组合节点只能有一个键"),
        ({"all": {"fact": "area"}}, "condition.all：应为非空列表"),
        ({"all": []}, "condition.all：应为非空列表"),
        ({"any": [leaf("area", "gte", 1), {"not": {"any": []}}]}, "condition.any[1].not.any：应为非空列表"),
        ({"all": [leaf("area", "gte", None)]}, "condition.all[0] (area): 值 None 与事实类型 decimal 不符"),
    ],
)
def test_bad_conditions_get_clear_errors(tree, message):
    with pytest.raises(ConditionError) as error:
        compile_condition(tree, CATALOG)
    assert message in str(error.value)


def test_every_problem_is_reported_at_once():
    tree = {"all": [leaf("no_such_fact", "eq", 1), leaf("area", "in", []), leaf("area", "gte", 1)]}
    with pytest.raises(ConditionError) as error:
        compile_condition(tree, CATALOG)
    assert [problem.split(" ")[0] for problem in error.value.problems] == [
        "condition.all[0]",
        "condition.all[1]",
    ]


@pytest.mark.parametrize(
    ("fact", "value"),
    [
        ("area", "lots"),
        ("area", True),
        ("area", float("nan")),
        ("key_project", 1),
        ("recognitions", "little_giant"),
        ("registered_on", "soon"),
    ],
)
def test_fact_values_of_the_wrong_type_are_errors_not_unknowns(fact, value):
    with pytest.raises(FactValueError):
        outcome_of(leaf(fact, "exists", True), {fact: value})
