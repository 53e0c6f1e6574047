"""The engine's wording follows the reader's language: one verdict reads in Chinese by default and in
English when English is active; money is 万元 in Chinese and yuan in English, by the same rule as
the policy pages (policies.conditions)."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation

from matching.engine import CatalogFact, Status, explain, nearest_gaps, rank_missing_facts, what_if
from matching.tests.engine_support import AS_OF, leaf, spec
from policies.money import money_en, wan

CATALOG = {
    fact.code: fact
    for fact in (
        CatalogFact("area", "decimal", "新租赁自用工业厂房面积", "平方米", label_en="New factory lease area"),
        CatalogFact("investment", "money", "新增设备投资额", "元", label_en="New equipment investment"),
        CatalogFact("key_project", "bool", "重点产业领域新引进的制造业项目", label_en="Key industry project"),
        CatalogFact(
            "level",
            "enum",
            "技术改造项目级别",
            choices=(
                {"value": "municipal", "label_zh": "市级技改项目", "label_en": "Municipal project"},
                {"value": "district", "label_zh": "区级技改项目", "label_en": "District project"},
            ),
            label_en="Upgrade project level",
        ),
        CatalogFact("employees", "int", "上年度从业人员数", "人"),  # no English label: Chinese stays
    )
}
LEASE = spec({"all": [leaf("area", "gte", 5000), leaf("key_project", "eq", True)]})


def test_one_verdict_reads_in_chinese_by_default_and_in_english_when_active():
    verdict = explain(LEASE, {"area": 4800, "key_project": None}, as_of=AS_OF, catalog=CATALOG)
    assert verdict.status is Status.NOT_ELIGIBLE
    area = verdict.reasons[0]
    assert (area.requirement, area.value_text, verdict.status.label) == (
        "新租赁自用工业厂房面积 ≥ 5000 平方米",
        "4800 平方米",
        "不符合条件",
    )
    with translation.override("en"):
        assert (area.label, area.requirement, area.value_text) == (
            "New factory lease area",
            "New factory lease area ≥ 5000 m²",
            "4800 m²",
        )
        assert verdict.reasons[1].requirement == "Key industry project: Yes"
        assert verdict.reasons[1].value_text == "Unknown"
        assert verdict.status.label == "Not eligible"
        assert [status.label for status in Status] == [
            "Policy not in force",
            "Not eligible",
            "Needs more information",
            "Pending recognition",
            "Eligible",
        ]
    assert area.requirement == "新租赁自用工业厂房面积 ≥ 5000 平方米"  # back to the default


def test_every_operator_has_english_wording():
    cases = [
        (leaf("area", "between", [1000, 5000]), "New factory lease area between 1000 m² and 5000 m² (inclusive)"),
        (leaf("level", "in", ["municipal", "district"]), "Upgrade project level is one of Municipal project, District project"),
        (leaf("level", "eq", "municipal"), "Upgrade project level is Municipal project"),
        (leaf("level", "ne", "district"), "Upgrade project level is not District project"),
        (leaf("area", "exists", True), "New factory lease area provided"),
        (leaf("investment", "gte", 20_000_000), "New equipment investment ≥ 20 million yuan"),
        (leaf("employees", "gte", 100), "上年度从业人员数 ≥ 100 people"),
    ]  # fmt: skip
    with translation.override("en"):
        for condition, wording in cases:
            verdict = explain(spec(condition), {}, as_of=AS_OF, catalog=CATALOG)
            assert verdict.reasons[0].requirement == wording


def test_gaps_what_if_and_missing_facts_in_english():
    verdict = explain(LEASE, {"area": 4800, "key_project": True}, as_of=AS_OF, catalog=CATALOG)
    (gap,) = nearest_gaps(verdict, CATALOG)
    assert gap.text == "新租赁自用工业厂房面积 4800 平方米，需 ≥ 5000 平方米"
    with translation.override("en"):
        assert gap.text == "New factory lease area 4800 m², needs ≥ 5000 m²"

    ratio = spec(None, kind="ratio", ratio=Decimal("0.1"), base_fact="investment", cap=Decimal(20_000_000))
    hint = what_if(explain(ratio, {"investment": 50_000_000}, as_of=AS_OF, catalog=CATALOG), CATALOG)
    assert hint.text.startswith("新增设备投资额再增加 1000 万元 → 支持金额增加 100 万元")
    with translation.override("en"):
        assert hint.text == (
            "New equipment investment 10 million yuan higher → support 1 million yuan higher, up to the cap "
            "of 20 million yuan (reached when New equipment investment is 200 million yuan)"
        )
        unknown = explain(LEASE, {"area": 6000}, as_of=AS_OF, catalog=CATALOG)
        assert [fact.label for fact in rank_missing_facts([unknown], CATALOG)] == ["Key industry project"]


@pytest.mark.parametrize(
    "yuan, chinese, english",
    [
        (Decimal("10000000"), "1000 万元", "10 million yuan"),
        (Decimal("1234567.5"), "123.45675 万元", "1.2345675 million yuan"),
        (Decimal("500000"), "50 万元", "500,000 yuan"),
        (Decimal("2500.50"), "0.25005 万元", "2,500.5 yuan"),
        (Decimal("0"), "0 万元", "0 yuan"),
        (Decimal("30000000000"), "3000000 万元", "30,000 million yuan"),
    ],
)
def test_money_is_wan_in_chinese_and_yuan_in_english(yuan, chinese, english):
    assert wan(yuan) == chinese
    with translation.override("en"):
        assert wan(yuan) == english == money_en(yuan)


def test_a_verdict_keeps_no_words_of_its_own():
    """Wording is derived when read, so an equal verdict stays equal whatever language built it."""
    with translation.override("en"):
        english = explain(LEASE, {"area": 6000, "key_project": True}, as_of=AS_OF, catalog=CATALOG)
    chinese = explain(LEASE, {"area": 6000, "key_project": True}, as_of=AS_OF, catalog=CATALOG)
    assert english == chinese and english.reasons[0].requirement == "新租赁自用工业厂房面积 ≥ 5000 平方米"
    assert replace(english.reasons[0], value=Decimal(7000)).value_text == "7000 平方米"
