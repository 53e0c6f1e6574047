"""The condition language as the policy app reads it (policies.conditions over policies.rules):
structure, every operator against the catalog, reading and rendering."""

from types import SimpleNamespace

import pytest

from policies.conditions import OPS, describe, fact_codes, leaves, render_en, render_zh, validate_condition


def fact(code, type_, unit="", choices=None, label_zh=None, label_en=None):
    return SimpleNamespace(
        code=code, type=type_, unit=unit, choices=choices or [],
        label_zh=label_zh or code, label_en=label_en or code,
    )  # fmt: skip


CATALOG = {
    f.code: f
    for f in [
        fact("lease_area", "decimal", "平方米", label_zh="新租赁自用工业厂房面积", label_en="Newly leased area"),
        fact("employees", "int", "人", label_zh="从业人员数", label_en="Employees"),
        fact("output", "money", "元", label_zh="工业总产值", label_en="Output"),
        fact("growth", "decimal", "%", label_zh="产值增速", label_en="Growth"),
        fact("manufacturing", "bool", label_zh="制造业企业", label_en="Manufacturer"),
        fact("district", "str", label_zh="所在区", label_en="District"),
        fact("founded", "date", label_zh="成立日期", label_en="Founded"),
        fact(
            "level", "enum",
            choices=[{"value": "municipal", "label_zh": "市级", "label_en": "Municipal"},
                     {"value": "district", "label_zh": "区级", "label_en": "District"}],
            label_zh="项目级别", label_en="Project level",
        ),
        fact(
            "recognitions", "set",
            choices=[{"value": "little_giant", "label_zh": "小巨人", "label_en": "Little giant"},
                     {"value": "single_champion", "label_zh": "单项冠军", "label_en": "Single champion"}],
            label_zh="已获认定", label_en="Recognitions",
        ),
        fact("tags", "set", label_zh="标签", label_en="Tags"),
        fact(
            "registered_region", "region",
            choices=[{"value": "310000", "label_zh": "上海市", "label_en": "Shanghai", "within": ["CN"]},
                     {"value": "310112", "label_zh": "闵行区", "label_en": "Minhang District",
                      "within": ["310000", "CN"]},
                     {"value": "CN", "label_zh": "中国", "label_en": "China", "within": []}],
            label_zh="注册地", label_en="Registered region",
        ),
    ]
}  # fmt: skip


def leaf(fact_code, op, value, quote="原文"):
    return {"fact": fact_code, "op": op, "value": value, "quote": quote}


VALID = [
    leaf("lease_area", "gte", 5000),
    leaf("lease_area", "lt", 2000.5),
    leaf("employees", "lte", 300),
    leaf("employees", "gt", 0),
    leaf("output", "between", [100_000_000, 1_000_000_000]),
    leaf("output", "ne", 0),
    leaf("manufacturing", "eq", True),
    leaf("manufacturing", "ne", False),
    leaf("district", "eq", "闵行区"),
    leaf("district", "in", ["闵行区", "徐汇区"]),
    leaf("founded", "lt", "2020-01-01"),
    leaf("founded", "between", ["2010-01-01", "2020-12-31"]),
    leaf("level", "eq", "municipal"),
    leaf("level", "in", ["municipal", "district"]),
    leaf("recognitions", "contains", "little_giant"),
    leaf("tags", "contains", "anything"),  # a set without choices takes any element
    leaf("employees", "exists", True),
    leaf("recognitions", "exists", False),
    leaf("registered_region", "within", "310000"),
    leaf("registered_region", "eq", "310112"),
    leaf("registered_region", "in", ["310112", "310000"]),
    {**leaf("employees", "gt", 0), "clause": "第四条"},  # the quote comes from another clause
]


def test_valid_leaves_cover_every_operator():
    assert {item["op"] for item in VALID} == set(OPS)


@pytest.mark.parametrize("comparison", VALID, ids=lambda c: f"{c['fact']}-{c['op']}")
def test_valid_comparison_passes(comparison):
    assert validate_condition(comparison, CATALOG) == []
    assert validate_condition({"all": [comparison]}, CATALOG) == []


BAD = [
    # (comparison, words the error must contain)
    (leaf("lease_area", "gte", "5000"), ["lease_area", "decimal"]),
    (leaf("lease_area", "gte", True), ["lease_area"]),
    (leaf("employees", "eq", 3.5), ["employees", "int"]),
    (leaf("manufacturing", "eq", "yes"), ["manufacturing", "bool"]),
    (leaf("manufacturing", "gt", True), ["manufacturing", "gt"]),
    (leaf("district", "lt", "闵行区"), ["district", "lt"]),
    (leaf("district", "contains", "闵"), ["district", "contains"]),
    (leaf("level", "eq", "national"), ["level", "national"]),
    (leaf("level", "in", ["municipal", "national"]), ["level", "national"]),
    (leaf("level", "in", []), ["level", "in"]),
    (leaf("level", "in", "municipal"), ["level", "in"]),
    (leaf("recognitions", "contains", "unicorn"), ["recognitions", "unicorn"]),
    (leaf("recognitions", "eq", "little_giant"), ["recognitions", "contains"]),
    (leaf("recognitions", "contains", ["little_giant"]), ["recognitions"]),
    (leaf("output", "between", [10, 5]), ["output", "between"]),
    (leaf("output", "between", [10]), ["output", "between"]),
    (leaf("output", "between", [10, "x"]), ["output"]),
    (leaf("founded", "gte", "2020-13-01"), ["founded", "YYYY-MM-DD"]),
    (leaf("founded", "between", ["2021-01-01", "2020-01-01"]), ["founded", "between"]),
    (leaf("employees", "exists", "yes"), ["employees", "exists"]),
    (leaf("employees", "like", 3), ["employees", "op", "like"]),
    (leaf("employees", "eq", None), ["employees"]),
    (leaf("no_such_fact", "eq", 1), ["no_such_fact", "未知事实"]),
    ({"fact": "employees", "op": "eq", "value": 1}, ["employees", "quote"]),
    ({"fact": "employees", "op": "eq", "value": 1, "quote": ""}, ["employees", "quote"]),
    ({"fact": "employees", "op": "eq", "value": 1, "quote": "q", "extra": 1}, ["employees", "extra"]),
    ({"fact": "employees", "op": "eq", "quote": "q"}, ["employees", "value"]),
    ({"fact": "employees", "op": "eq", "value": 1, "quote": "  "}, ["employees", "quote"]),
    ({**leaf("employees", "eq", 1), "clause": ""}, ["employees", "clause"]),
    (leaf("manufacturing", "in", [True]), ["manufacturing", "eq"]),
    (leaf("registered_region", "within", "999999"), ["registered_region", "999999"]),
    (leaf("registered_region", "in", ["310112", "nowhere"]), ["registered_region", "nowhere"]),
    (leaf("registered_region", "within", ["310000"]), ["registered_region"]),
    (leaf("registered_region", "gt", "310000"), ["registered_region", "gt"]),
    (leaf("district", "within", "闵行区"), ["district", "within"]),
    (leaf("lease_area", "gte", float("nan")), ["lease_area"]),
]


@pytest.mark.parametrize(("comparison", "words"), BAD, ids=lambda v: str(v)[:40])
def test_bad_comparison_is_refused_naming_path_and_fact(comparison, words):
    errors = validate_condition({"all": [leaf("employees", "gt", 0), comparison]}, CATALOG)
    assert len(errors) >= 1
    assert all("condition.all[1]" in error for error in errors), errors
    for word in words:
        assert any(word in error for error in errors), (word, errors)


@pytest.mark.parametrize(
    ("tree", "path"),
    [
        ([leaf("employees", "gt", 0)], "condition"),
        ({"all": []}, "condition.all"),
        ({"any": leaf("employees", "gt", 0)}, "condition.any"),
        ({"all": [leaf("employees", "gt", 0)], "any": [leaf("employees", "gt", 0)]}, "condition"),
        ({"not": [leaf("employees", "gt", 0)]}, "condition.not"),
        ({"all": [{"any": [{"not": {"fact": "nope", "op": "eq", "value": 1, "quote": "q"}}]}]},
         "condition.all[0].any[0].not (nope)"),
        ({"whatever": 1}, "condition"),
        ("employees > 0", "condition"),
    ],
)  # fmt: skip
def test_bad_structure_is_refused_with_its_path(tree, path):
    errors = validate_condition(tree, CATALOG)
    assert errors and errors[0].startswith(path), errors


def test_nested_valid_tree():
    tree = {
        "all": [
            leaf("manufacturing", "eq", True),
            {
                "any": [
                    leaf("recognitions", "contains", "little_giant"),
                    {"not": leaf("employees", "gt", 1000)},
                ]
            },
        ]
    }
    assert validate_condition(tree, CATALOG) == []


def test_leaves_are_depth_first_in_document_order_and_fact_codes_collects_them():
    a, b, c, d = (leaf("employees", "gt", n) for n in range(4))
    e = leaf("district", "eq", "闵行区")
    tree = {"all": [a, {"any": [b, {"not": c}]}, d, e]}
    assert leaves(tree) == [a, b, c, d, e]
    assert fact_codes(tree) == {"employees", "district"}
    assert leaves(None) == [] and fact_codes(None) == set()


@pytest.mark.parametrize(
    ("comparison", "zh", "en"),
    [
        (leaf("lease_area", "gte", 5000), "新租赁自用工业厂房面积 ≥ 5000 平方米", "Newly leased area ≥ 5000 m²"),
        (leaf("output", "gte", 100_000_000), "工业总产值 ≥ 10000 万元", "Output ≥ 100 million yuan"),
        (leaf("output", "lt", 150_000), "工业总产值 < 15 万元", "Output < 150,000 yuan"),
        (leaf("output", "gt", 0), "工业总产值 > 0 万元", "Output > 0 yuan"),
        (leaf("output", "between", [5_000_000, 20_000_000]), "工业总产值在 500 万元 至 2000 万元 之间（含）",
         "Output between 5 million yuan and 20 million yuan (inclusive)"),
        (leaf("growth", "gte", 10), "产值增速 ≥ 10%", "Growth ≥ 10%"),
        (leaf("manufacturing", "eq", True), "制造业企业：是", "Manufacturer: Yes"),
        (leaf("manufacturing", "ne", True), "制造业企业：否", "Manufacturer: No"),
        (leaf("level", "eq", "municipal"), "项目级别为市级", "Project level is Municipal"),
        (leaf("level", "ne", "district"), "项目级别不为区级", "Project level is not District"),
        (leaf("level", "in", ["municipal", "district"]), "项目级别为市级、区级之一",
         "Project level is one of Municipal, District"),
        (leaf("recognitions", "contains", "little_giant"), "已获认定包含“小巨人”", "Recognitions include “Little giant”"),
        (leaf("employees", "exists", False), "未提供从业人员数", "Employees not provided"),
        (leaf("employees", "exists", True), "已提供从业人员数", "Employees provided"),
        (leaf("district", "eq", "闵行区"), "所在区为闵行区", "District is 闵行区"),
        (leaf("registered_region", "within", "310112"), "注册地位于闵行区", "Registered region in Minhang District"),
        (leaf("registered_region", "eq", "310000"), "注册地为上海市", "Registered region is Shanghai"),
    ],
)  # fmt: skip
def test_rendering_in_chinese_and_english(comparison, zh, en):
    assert render_zh(comparison, CATALOG) == zh
    assert render_en(comparison, CATALOG) == en


def test_describe_keeps_structure_and_quotes():
    tree = {
        "any": [
            leaf("lease_area", "gte", 5000, "租赁面积超过5000平方米"),
            {"not": leaf("manufacturing", "eq", True)},
        ]
    }
    described = describe(tree, CATALOG)
    assert described["kind"] == "any"
    assert described["children"][0] == {
        "kind": "leaf", "text": "新租赁自用工业厂房面积 ≥ 5000 平方米", "quote": "租赁面积超过5000平方米",
        "clause": None,
    }  # fmt: skip
    assert described["children"][1]["kind"] == "not"
    assert describe(None, CATALOG) is None
