"""Property: the linter (loader, admin, API), the engine's compiler and the fixture tool accept exactly
the same condition trees, and every tree they accept the engine evaluates and the JSON Schema admits.

Trees are generated valid and invalid alike: random operators on every fact type, values of the
wrong type, empty groups, groups with two keys, missing or blank quotes, bool `in`, region `within`
with known and unknown codes, unknown facts, between with low > high, a `clause` of every shape.
"""

import datetime as dt
import importlib.util
from decimal import Decimal
from pathlib import Path

import jsonschema
from django.conf import settings as django_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import ConditionError, compile_condition
from matching.engine.conditions import fold, leaf_outcome
from matching.tests.engine_support import CATALOG
from policies.rules import KIND_OF_TYPE, OPS, OPS_BY_KIND, lint
from policies.rules.schema import condition_schema

ROOT = Path(django_settings.BASE_DIR)
VALIDATOR = jsonschema.Draft202012Validator(condition_schema())


def _tool():
    spec = importlib.util.spec_from_file_location(
        "check_policy_fixture", ROOT / "tools" / "check_policy_fixture.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TOOL = _tool()
QUOTE = "原文"

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 10_000),
    st.sampled_from([0.5, 5000.0, float("nan"), Decimal("5000"), Decimal("0.1")]),
    st.sampled_from(["", "5000", "2020-01-01", "2020-13-01", "district", "municipal", "x", "little_giant"]),
    st.sampled_from(["CN", "310000", "310112", "310115", "220000", "999999"]),  # region codes, one unknown
    st.just(dt.date(2020, 1, 1)),
)
VALUES = ANY_VALUE | st.lists(ANY_VALUE, max_size=3)
FACTS = st.sampled_from([*sorted(CATALOG), "no_such_fact"])


# Values that fit each fact type (so that many generated trees are valid), mixed with anything.
FITTING = {
    "decimal": st.sampled_from([0, 5000, 0.5, Decimal("0.1")]),
    "money": st.sampled_from([0, 10_000_000, 2.5]),
    "int": st.integers(0, 500),
    "bool": st.booleans(),
    "enum": st.sampled_from(["municipal", "district"]),
    "str": st.sampled_from(["闵行区", "a"]),
    "set": st.sampled_from(["little_giant", "sh_specialized_sme"]),
    "date": st.sampled_from(["2020-01-01", "2024-04-01"]),
    "region": st.sampled_from(["CN", "310000", "310112", "310112001", "220000"]),
}


@st.composite
def fitting_value(draw, fact_type, op):
    one = FITTING[fact_type]
    if op == "exists":
        return draw(st.booleans())
    if op == "in":
        return draw(st.lists(one, min_size=1, max_size=3))
    if op == "between":
        pair = sorted(draw(st.lists(one, min_size=2, max_size=2)), key=lambda v: Decimal(str(v)) if
                      fact_type in ("int", "decimal", "money") else str(v))  # fmt: skip
        return pair[::-1] if draw(st.integers(0, 4)) == 0 else pair  # sometimes low > high
    return draw(one)


@st.composite
def leaves(draw):
    """A fitting leaf, or (a quarter of the time) one with one to three things broken at random."""
    code = draw(st.sampled_from(sorted(CATALOG)))
    fact_type = CATALOG[code].type
    op = draw(st.sampled_from(sorted(OPS_BY_KIND[KIND_OF_TYPE[fact_type]])))
    node = {"fact": code, "op": op, "value": draw(fitting_value(fact_type, op)), "quote": QUOTE}
    if draw(st.booleans()):
        node["clause"] = "第四条"
    if draw(st.integers(0, 3)):
        return node
    for flaw in draw(st.lists(st.sampled_from(FLAWS), min_size=1, max_size=3)):
        if flaw == "fact":
            node["fact"] = draw(FACTS)
        elif flaw == "op":
            node["op"] = draw(st.sampled_from([*OPS, "like"]))
        elif flaw == "value":
            node["value"] = draw(VALUES)
        elif flaw == "quote":
            quote = draw(st.sampled_from(["", "  ", None, 7]))
            node.pop("quote", None) if quote is None else node.update(quote=quote)
        elif flaw == "clause":
            node["clause"] = draw(st.sampled_from(["", " ", 4, None]))
        elif flaw == "no value":
            node.pop("value", None)
        else:
            node["extra"] = 1
    return node


FLAWS = ["fact", "op", "op", "value", "value", "value", "quote", "clause", "no value", "extra"]


TREES = st.recursive(
    leaves() | leaves() | leaves() | leaves() | st.sampled_from([[], "employees > 0", None]),
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda items: {"any": items}, st.lists(children, min_size=1, max_size=3)),
        st.builds(lambda child: {"not": child}, children),
        st.sampled_from([{"all": []}, {"any": []}]),
        st.builds(
            lambda a, b: {"all": a, "any": b}, st.lists(children, max_size=2), st.lists(children, max_size=2)
        ),
        st.builds(lambda items: {"all": tuple(items)}, st.lists(children, min_size=1, max_size=2)),
    ),
    max_leaves=5,
)


def compiles(tree) -> bool:
    try:
        compile_condition(tree, CATALOG)
    except ConditionError:
        return False
    return True


def tool_accepts(tree) -> bool:
    errors: list[str] = []
    TOOL.check_condition(tree, CATALOG, {"7": QUOTE, "第四条": QUOTE}, "7", "benefit", errors)
    return not errors


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=TREES)
def test_the_linter_accepts_exactly_what_the_compiler_compiles(tree):
    problems = lint(tree, CATALOG)
    assert (problems == []) == compiles(tree), problems
    if tree is None:
        return
    if problems:
        # the compiler names the same problems
        try:
            compile_condition(tree, CATALOG)
        except ConditionError as error:
            assert error.problems == problems
    else:
        # what is accepted is evaluated (all facts unknown) and is admitted by the editors' schema
        condition = compile_condition(tree, CATALOG)
        outcome, closeness = fold(condition.root, lambda leaf: leaf_outcome(leaf, None))
        assert int(outcome) in (0, 1, 2) and 0 <= closeness <= 1
        if _is_json(tree):
            assert VALIDATOR.is_valid(tree), tree
    if _is_json(tree):
        assert tool_accepts(tree) == (problems == [])


def _is_json(node) -> bool:
    """Trees as a YAML/JSON file can hold them (no tuples, Decimals, dates or NaN)."""
    if isinstance(node, dict):
        return all(_is_json(value) for value in node.values())
    if isinstance(node, list):
        return all(_is_json(value) for value in node)
    if isinstance(node, float):
        return node == node
    return node is None or isinstance(node, (str, int, bool, float))


# The cases the three implementations used to disagree on, and the new ones, each stated once.
REFUSED = [
    {"fact": "key_project", "op": "in", "value": [True], "quote": QUOTE},  # bool in
    {"all": []},  # empty all
    {"any": []},
    {"fact": "area", "op": "gte", "value": 1},  # no quote
    {"fact": "area", "op": "gte", "value": 1, "quote": " "},  # blank quote
    {"fact": "area", "op": "gte", "value": "5000", "quote": QUOTE},  # a number written as text
    {"fact": "district", "op": "lt", "value": "b", "quote": QUOTE},  # ordering texts
    {"fact": "region", "op": "within", "value": "999999", "quote": QUOTE},  # unknown region code
    {"fact": "region", "op": "in", "value": ["310112", "999999"], "quote": QUOTE},
    {"fact": "level", "op": "within", "value": "district", "quote": QUOTE},  # within on an enum
    {"fact": "area", "op": "gte", "value": 1, "quote": QUOTE, "clause": ""},
]
ACCEPTED = [
    {"fact": "region", "op": "within", "value": "310000", "quote": QUOTE},
    {"fact": "region", "op": "eq", "value": "310112", "quote": QUOTE, "clause": "第四条"},
    {"fact": "region", "op": "exists", "value": True, "quote": QUOTE},
    {"fact": "key_project", "op": "eq", "value": True, "quote": QUOTE},
]


def test_the_known_disagreements_are_settled_the_same_way_everywhere():
    for tree in REFUSED:
        assert lint(tree, CATALOG), tree
        assert not compiles(tree) and not tool_accepts(tree), tree
    for tree in ACCEPTED:
        assert lint(tree, CATALOG) == [] and compiles(tree) and tool_accepts(tree), tree
        assert VALIDATOR.is_valid(tree)


def test_the_parsed_leaf_carries_clause_and_region_members():
    leaf = compile_condition(ACCEPTED[1], CATALOG).leaves[0]
    assert (leaf.clause, leaf.kind.value, leaf.value) == ("第四条", "region", "310112")
    within = compile_condition(ACCEPTED[0], CATALOG).leaves[0]
    assert within.clause is None
    assert within.test == ("in", ("310000", "310112", "310115", "310112001"))
