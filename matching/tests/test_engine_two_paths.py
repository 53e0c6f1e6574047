"""Property: the bulk path (evaluate_table) and the per-enterprise path (explain) agree on every row.

Random condition trees over every operator and fact type (region facts with within/in/eq/ne/exists
over a stand-in region tree included), nested all/any/not, random rows with unknown values, number
encodings that differ only past float precision, and random benefit shapes and dates: status, score,
amount, leaf outcomes and fingerprint must be identical. Per-enterprise cap groups are among the
shapes here; over items (summed per enterprise) in matching/tests/test_cap_groups.py.
"""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import BenefitSpec, CatalogFact, FactColumns, evaluate_table, explain
from matching.engine.conditions import OPS_BY_KIND
from matching.engine.values import kind_of
from matching.tests.engine_support import REGION_CHOICES, bulk_row, single_row
from policies import amount_rules

CATALOG = {
    fact.code: fact
    for fact in (
        CatalogFact("n_int", "int", "整数"),
        CatalogFact("n_dec", "decimal", "数值", "平方米"),
        CatalogFact("n_money", "money", "金额", "元"),
        CatalogFact("flag", "bool", "是否"),
        CatalogFact("text", "str", "文本"),
        CatalogFact("choice", "enum", "单选"),
        CatalogFact("tags", "set", "多选"),
        CatalogFact("day", "date", "日期"),
        CatalogFact("region", "region", "注册地", choices=REGION_CHOICES),
        CatalogFact("site", "region", "实际经营地", choices=REGION_CHOICES),
    )
}
REGION_CODES = [choice["value"] for choice in REGION_CHOICES]

# Few distinct values, so that comparisons hit equality; several pairs differ only past float64
# precision (0.1 and 0.10000000000000001, 10**20 and 10**20 + 1) to exercise the exact tie-break.
_NUMBER_POOL = st.sampled_from(
    [
        0,
        5000,
        5001,
        Decimal("5000.00"),
        "5000",
        0.1,
        Decimal("0.1"),
        Decimal("0.10000000000000001"),
        Decimal("0.09999999999999999"),
        10**20,
        10**20 + 1,
    ]
)
NUMBERS = _NUMBER_POOL | _NUMBER_POOL | _NUMBER_POOL | st.decimals(-(10**6), 10**6, places=2)
TEXTS = st.sampled_from(["a", "b", "c", "ab", "", "闵行", "z"])
DATES = st.dates(min_value=dt.date(2019, 12, 25), max_value=dt.date(2020, 1, 5))
ELEMENTS = st.sampled_from(["x", "y", "z"])
# An enterprise's values (what the columns hold): any encoding normalize takes, a region code the
# tree does not know among them.
VALUES = {
    "number": NUMBERS,
    "text": TEXTS,
    "date": DATES,
    "bool": st.booleans(),
    "set": st.frozensets(ELEMENTS, max_size=3),
    "region": st.sampled_from([*REGION_CODES, "990000"]),
}
# The constants a condition may be written with (the rule language's value types).
_CONSTANT_NUMBERS = st.sampled_from([0, 5000, 5001, Decimal("5000.00"), 0.1, Decimal("0.1"),
                                     Decimal("0.10000000000000001"), 10**20, 10**20 + 1])  # fmt: skip
CONSTANTS = {
    "int": st.sampled_from([0, 5000, 5001, 10**20]) | st.integers(-(10**6), 10**6),
    "decimal": _CONSTANT_NUMBERS | st.decimals(-(10**6), 10**6, places=2),
    "money": _CONSTANT_NUMBERS,
    "text": st.sampled_from(["a", "b", "c", "ab", "闵行", "z"]),
    "date": DATES,
    "bool": st.booleans(),
    "region": st.sampled_from(REGION_CODES),
}


def _kind(code: str) -> str:
    return kind_of(CATALOG[code]).value


def _constants(code: str):
    fact_type = CATALOG[code].type
    return CONSTANTS[fact_type] if fact_type in CONSTANTS else CONSTANTS[_kind(code)]


@st.composite
def leaves(draw):
    code = draw(st.sampled_from(sorted(CATALOG)))
    op = draw(st.sampled_from(sorted(OPS_BY_KIND[kind_of(CATALOG[code])])))
    if op == "exists":
        value = draw(st.booleans())
    elif op == "contains":
        value = draw(ELEMENTS)
    elif op == "in":
        value = draw(st.lists(_constants(code), min_size=1, max_size=3))
    elif op == "between":
        low, high = draw(_constants(code)), draw(_constants(code))
        value = sorted([low, high], key=lambda v: Decimal(str(v)) if _kind(code) == "number" else v)
    else:
        value = draw(_constants(code))
    return {"fact": code, "op": op, "value": value, "quote": "原文"}


TREES = st.recursive(
    leaves(),
    lambda children: st.one_of(
        st.builds(lambda items: {"all": items}, st.lists(children, min_size=1, max_size=4)),
        st.builds(lambda items: {"any": items}, st.lists(children, min_size=1, max_size=4)),
        st.builds(lambda child: {"not": child}, children),
    ),
    max_leaves=10,
)


@st.composite
def rows(draw):
    return {code: draw(st.none() | VALUES[_kind(code)]) for code in CATALOG}


_GROUP = {"key": "g", "name": "上限组", "period": "year", "limit": "500", "clause": "1", "quote": "原文"}


@st.composite
def specs(draw, condition):
    shape = draw(
        st.sampled_from(
            ["ratio", "capped", "fixed", "open", "rent", "non_monetary", "grouped", "grouped_yearly"]
        )
    )
    fields = {
        "ratio": {"kind": "ratio", "ratio": Decimal("0.1"), "cap": Decimal(2000), "base_fact": "n_money"},
        "capped": {"kind": "lump_sum", "cap": Decimal(10_000_000)},
        "fixed": {"kind": "lump_sum", "amount": Decimal(500_000)},
        "open": {"kind": "lump_sum"},
        "rent": {
            "kind": "rent",
            "ratio": Decimal("0.3"),
            "cap": Decimal(5_000_000),
            "base_fact": "n_dec",
            "instalments": 3,
        },
        "non_monetary": {"kind": "non_monetary"},
        # a per-enterprise cap group (同一企业每年累计不超过…): in total, and per year of yearly payments
        "grouped": {
            "kind": "ratio",
            "ratio": Decimal("0.1"),
            "base_fact": "n_money",
            "amount_rule": amount_rules.parse({"cap_group": {**_GROUP, "period": "total"}}),
        },
        "grouped_yearly": {
            "kind": "ratio",
            "ratio": Decimal("0.1"),
            "base_fact": "n_money",
            "amount_rule": amount_rules.parse(
                {"cap_group": _GROUP, "schedule": {"years": 3, "quote": "连续3年"}}
            ),
        },
    }[shape]
    return BenefitSpec(
        global_key="doc/1/b",
        name="b",
        condition=condition,
        requires_recognition=draw(st.booleans()),
        doc_status=draw(st.sampled_from(["in_force", "in_force", "draft", "expired"])),
        effective_from=draw(st.none() | st.just(dt.date(2024, 1, 1))),
        effective_to=draw(st.none() | st.just(dt.date(2026, 1, 1))),
        **fields,
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bulk_and_single_paths_agree_on_every_row(data):
    condition = data.draw(st.none() | TREES)
    spec = data.draw(specs(condition))
    applicability = data.draw(st.none() | TREES)  # a document's, evaluated first (scenarios.spec_from_rows)
    if applicability is not None:
        wrapped = {"all": [applicability, condition]} if condition else applicability
        spec = dataclasses.replace(spec, condition=wrapped, applicability=applicability)
    table_rows = data.draw(st.lists(rows(), min_size=1, max_size=12))
    as_of = data.draw(st.sampled_from([dt.date(2023, 6, 1), dt.date(2025, 6, 1), dt.date(2026, 6, 1)]))

    columns = {code: [row[code] for row in table_rows] for code in CATALOG}
    bulk = evaluate_table(spec, FactColumns(columns, len(table_rows), CATALOG), as_of)
    for i, row in enumerate(table_rows):
        single = explain(spec, row, as_of=as_of, catalog=CATALOG)
        assert bulk_row(bulk, i) == single_row(single), row


def test_float_ties_are_settled_exactly():
    """0.1 and 0.10000000000000001 are one float64; the bulk path must still tell them apart."""
    tree = {"fact": "n_dec", "op": "gt", "value": Decimal("0.1"), "quote": "原文"}
    spec = BenefitSpec(global_key="d/1/b", name="b", kind="lump_sum", condition=tree)
    values = [Decimal("0.10000000000000001"), Decimal("0.1"), 0.1, None]
    bulk = evaluate_table(spec, FactColumns({"n_dec": values}, 4, CATALOG), dt.date(2025, 1, 1))
    assert [bulk.status_slug(i) for i in range(4)] == [
        "eligible",
        "not_eligible",
        "not_eligible",
        "needs_info",
    ]


def test_a_column_of_the_wrong_length_is_an_error():
    spec = BenefitSpec(
        global_key="d/1/b",
        name="b",
        kind="lump_sum",
        condition={"fact": "flag", "op": "eq", "value": True, "quote": "原文"},
    )
    with pytest.raises(ValueError, match="column 'flag' has 1 values, expected 2"):
        evaluate_table(spec, FactColumns({"flag": [True]}, 2, CATALOG), dt.date(2025, 1, 1))


@settings(max_examples=150, deadline=None)
@given(
    target=st.sampled_from(REGION_CODES),
    codes=st.lists(st.sampled_from(REGION_CODES), min_size=1, max_size=3),
    table_rows=st.lists(st.none() | VALUES["region"], min_size=1, max_size=10),
)
def test_region_within_in_and_exists_agree_on_both_paths(target, codes, table_rows):
    """Each region operator alone, over every code of the stand-in tree, an unknown code and None."""
    for condition in (
        {"fact": "region", "op": "within", "value": target, "quote": "原文"},
        {"fact": "region", "op": "in", "value": codes, "quote": "原文"},
        {"fact": "region", "op": "exists", "value": True, "quote": "原文"},
        {"not": {"fact": "region", "op": "within", "value": target, "quote": "原文"}},
    ):
        spec = BenefitSpec(global_key="d/1/b", name="b", kind="lump_sum", condition=condition)
        bulk = evaluate_table(spec, FactColumns({"region": table_rows}, len(table_rows), CATALOG), AS_OF)
        for i, value in enumerate(table_rows):
            single = explain(spec, {"region": value}, as_of=AS_OF, catalog=CATALOG)
            assert (bulk.status_slug(i), bulk.leaf_outcomes(i)) == (single.status.slug, single.leaf_outcomes)
        if condition.get("op") == "within":
            inside = {c["value"] for c in REGION_CHOICES if c["value"] == target or target in c["within"]}
            expected = ["needs_info" if v is None else "eligible" if v in inside else "not_eligible"
                        for v in table_rows]  # fmt: skip
            assert bulk.status_slugs() == expected


AS_OF = dt.date(2025, 1, 1)
