"""One condition is worded the same on every page and in the API: the policy document page, the
benefit API's requirements, the match API's stored and live reasons, the engine's reasons and the
review snapshot all word each comparison through policies.rules, in Chinese and in English."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from applications.explanations import readable, snapshot_of
from matching import selectors as matching_selectors
from matching.engine import explain
from policies import services
from policies.models import Benefit, FactDefinition
from policies.tests.factories import BenefitFactory, ClauseFactory, FactDefinitionFactory
from portal.api.v1.matches.output import benefit_conditions, explained_reasons
from portal.api.v1.policies import BenefitSerializer

TEXT = (
    "依法在闵行区注册的企业，新租赁自用工业厂房面积超过5000平方米（含）以上，属于制造业企业，"
    "项目为市级或区级技改项目，获评专精特新“小巨人”，投资额在500万元至2000万元之间的，给予补贴。"
)
REGIONS = [
    {"value": "310000", "label_zh": "上海市", "label_en": "Shanghai", "within": []},
    {"value": "310112", "label_zh": "闵行区", "label_en": "Minhang District", "within": ["310000"]},
]
CONDITION = {
    "all": [
        {"fact": "w_region", "op": "within", "value": "310112", "quote": "依法在闵行区注册的企业"},
        {"fact": "w_area", "op": "gte", "value": 5000, "quote": "面积超过5000平方米（含）以上"},
        {"fact": "w_manufacturer", "op": "eq", "value": True, "quote": "属于制造业企业"},
        {
            "any": [
                {"fact": "w_level", "op": "in", "value": ["municipal", "district"], "quote": "市级或区级技改项目"},
                {"not": {"fact": "w_recognitions", "op": "contains", "value": "little_giant", "quote": "小巨人"}},
            ]
        },
        {"fact": "w_investment", "op": "between", "value": [5_000_000, 20_000_000],
         "quote": "投资额在500万元至2000万元之间"},
        {"fact": "w_area", "op": "exists", "value": True, "quote": "新租赁自用工业厂房面积"},
    ]
}  # fmt: skip
EXPECTED_ZH = [
    "注册地位于闵行区",
    "新租赁自用工业厂房面积 ≥ 5000 平方米",
    "制造业企业：是",
    "技术改造项目级别为市级技改项目、区级技改项目之一",
    "已获认定包含“国家级专精特新“小巨人”企业”",
    "新增设备投资额在 500 万元 至 2000 万元 之间（含）",
    "已提供新租赁自用工业厂房面积",
]
FACTS = {"w_region": "310112", "w_area": Decimal(6000), "w_manufacturer": True, "w_level": None,
         "w_recognitions": frozenset(), "w_investment": Decimal(8_000_000)}  # fmt: skip


@pytest.fixture
def benefit(db) -> Benefit:
    make = FactDefinitionFactory
    make(
        code="w_region",
        type="region",
        unit="",
        label_zh="注册地",
        label_en="Registered region",
        choices=REGIONS,
    )
    make(
        code="w_area",
        type="decimal",
        unit="平方米",
        label_zh="新租赁自用工业厂房面积",
        label_en="Newly leased area",
    )
    make(code="w_manufacturer", type="bool", unit="", label_zh="制造业企业", label_en="Manufacturer")
    make(
        code="w_level",
        type="enum",
        unit="",
        label_zh="技术改造项目级别",
        label_en="Project level",
        choices=[
            {"value": "municipal", "label_zh": "市级技改项目", "label_en": "municipal upgrade"},
            {"value": "district", "label_zh": "区级技改项目", "label_en": "district upgrade"},
        ],
    )
    make(
        code="w_recognitions",
        type="set",
        unit="",
        label_zh="已获认定",
        label_en="Recognitions",
        choices=[
            {"value": "little_giant", "label_zh": "国家级专精特新“小巨人”企业", "label_en": "Little giant"},
        ],
    )
    make(
        code="w_investment",
        type="money",
        unit="元",
        label_zh="新增设备投资额",
        label_en="New equipment investment",
    )
    clause = ClauseFactory(text=TEXT, number="7")
    benefit = BenefitFactory.build(clause=clause, condition=CONDITION, amount_quote="给予补贴", cap=None,
                                   requires_recognition=False, recognition_phrase="")  # fmt: skip
    services.save_benefit(benefit=benefit, reason="test")
    return Benefit.objects.select_related("clause__document").get(pk=benefit.pk)


def page_texts(client, benefit) -> list[str]:
    response = client.get(reverse("policies:document", args=[benefit.clause.document.key]))
    assert response.status_code == 200
    rows = [row for section in response.context["sections"] for clause in section["clauses"]
            for row in clause.benefit_rows if row["benefit"].pk == benefit.pk]  # fmt: skip

    def leaf_texts(node):
        if node["kind"] == "leaf":
            return [node["text"]]
        return [text for child in node["children"] for text in leaf_texts(child)]

    texts = leaf_texts(rows[0]["condition"])
    for text in texts:  # and the page shows them as they are
        assert escape(text) in response.content.decode()
    return texts


def every_wording(client, benefit) -> dict[str, list[str]]:
    catalog = matching_selectors.catalog()
    verdict = explain(matching_selectors.spec_for(benefit), FACTS, as_of=dt.date(2025, 6, 1), catalog=catalog)
    return {
        "policy page": page_texts(client, benefit),
        "benefit API": [
            row["text"]
            for row in BenefitSerializer(benefit, context={"catalog": catalog}).data["requirements"]
        ],  # fmt: skip
        "match API, stored": [row["requirement"] for row in benefit_conditions(benefit, catalog)],
        "match API, live": [row["requirement"] for row in explained_reasons(verdict, catalog)],
        "engine reasons": [reason.requirement for reason in verdict.reasons],
        "review snapshot": [
            reason["requirement"] for reason in readable(snapshot_of(verdict), catalog)["reasons"]
        ],
    }


def test_one_condition_reads_the_same_everywhere_in_chinese(benefit, client):
    with translation.override("zh-hans"):
        wordings = every_wording(client, benefit)
    assert wordings["policy page"] == EXPECTED_ZH
    for where, texts in wordings.items():
        assert texts == EXPECTED_ZH, where


def test_one_condition_reads_the_same_everywhere_in_english(benefit, client):
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        wordings = every_wording(client, benefit)
    expected = wordings["engine reasons"]
    assert expected[0] == "Registered region in Minhang District"
    assert expected[1] == "Newly leased area ≥ 5000 m²"
    assert expected[5] == "New equipment investment between 5 million yuan and 20 million yuan (inclusive)"
    for where, texts in wordings.items():
        assert texts == expected, where


def test_a_region_fact_type_is_in_the_catalog_model():
    assert FactDefinition.Type.REGION == "region"
    fact = FactDefinition(code="r", type="region", label_zh="注册地", label_en="Region", choices=REGIONS)
    fact.clean()  # region facts carry their region choices
