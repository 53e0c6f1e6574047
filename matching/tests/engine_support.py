"""A small catalog with one fact of every type, and spec helpers, for the engine tests."""

import datetime as dt
from decimal import Decimal

from matching.engine import BenefitSpec, CatalogFact, TableVerdicts, Verdict

ENUM_CHOICES = (
    {"value": "municipal", "label_zh": "市级技改项目"},
    {"value": "district", "label_zh": "区级技改项目"},
)
# A stand-in for the region tree: each region with its ancestors, nearest first.
REGION_CHOICES = (
    {"value": "CN", "label_zh": "中国", "label_en": "China", "within": []},
    {"value": "310000", "label_zh": "上海市", "label_en": "Shanghai", "within": ["CN"]},
    {"value": "310112", "label_zh": "闵行区", "label_en": "Minhang District", "within": ["310000", "CN"]},
    {"value": "310115", "label_zh": "浦东新区", "label_en": "Pudong New Area", "within": ["310000", "CN"]},
    {"value": "310112001", "label_zh": "莘庄工业区", "label_en": "Xinzhuang Industrial Zone",
     "within": ["310112", "310000", "CN"]},
    {"value": "220000", "label_zh": "吉林省", "label_en": "Jilin Province", "within": ["CN"]},
)  # fmt: skip
SET_CHOICES = (
    {"value": "little_giant", "label_zh": "国家级专精特新“小巨人”企业"},
    {"value": "sh_specialized_sme", "label_zh": "上海市专精特新中小企业"},
)

CATALOG = {
    fact.code: fact
    for fact in (
        CatalogFact("area", "decimal", "新租赁自用工业厂房面积", "平方米"),
        CatalogFact("employees", "int", "上年度从业人员数", "人"),
        CatalogFact("investment", "money", "新增设备投资额", "元"),
        CatalogFact("growth", "decimal", "上年度工业产值增速", "%"),
        CatalogFact("key_project", "bool", "重点产业领域新引进的制造业项目"),
        CatalogFact("level", "enum", "技术改造项目级别", choices=ENUM_CHOICES),
        CatalogFact("district", "str", "所在区"),
        CatalogFact("recognitions", "set", "已获认定与荣誉", choices=SET_CHOICES),
        CatalogFact("registered_on", "date", "登记日期"),
        CatalogFact("region", "region", "注册地", choices=REGION_CHOICES, label_en="Registered region"),
    )
}

AS_OF = dt.date(2025, 6, 1)


def leaf(fact, op, value=None, quote="原文"):
    return {"fact": fact, "op": op, "value": value, "quote": quote}


def spec(condition=None, **overrides) -> BenefitSpec:
    fields = {
        "global_key": "doc/7/benefit",
        "name": "测试补贴",
        "kind": "lump_sum",
        "cap": Decimal(10_000_000),
        "condition": condition,
        "document_key": "doc",
        "document_title": "测试政策",
        "clause_number": "7",
        "amount_quote": "给予上限1000万元的补贴",
        "effective_from": dt.date(2024, 4, 1),
        "effective_to": dt.date(2029, 3, 31),
    }
    fields.update(overrides)
    return BenefitSpec(**fields)


def bulk_row(bulk: TableVerdicts, row: int) -> tuple:
    """One row of the set-wise path, as the fields both paths must agree on (see single_row)."""
    return (
        bulk.status_slug(row),
        int(bulk.score[row]),
        bulk.amount(row),
        bulk.leaf_outcomes(row),
        int(bulk.fingerprints[row]),
        not bulk.in_scope()[row],
    )


def single_row(verdict: Verdict) -> tuple:
    """The same fields of one enterprise's verdict (bulk_row)."""
    return (
        verdict.status.slug,
        verdict.score,
        verdict.amount,
        verdict.leaf_outcomes,
        verdict.fingerprint,
        verdict.out_of_scope,
    )
