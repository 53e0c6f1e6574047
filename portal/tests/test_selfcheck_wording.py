# ruff: noqa: F811 - fixtures imported from test_selfcheck are named as test arguments
"""The self-check's words (issue 14, step 10): each step says what it really asks, numbers typed are
bounded, and computed money reads as people write it (never "约 0 万元" or 28 decimals)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.utils import translation

from policies.money import money_en, money_zh
from portal.selfcheck.questions import ANSWERS_SESSION_KEY
from portal.tests.selfcheck_support import field_names, text_of
from portal.tests.test_selfcheck import IN_MINHANG, policies, policies_loaded  # noqa: F401  (fixtures)

LONG_DECIMAL = re.compile(r"\d\.\d{7,}")  # 万元 to the fen has at most 6 decimals


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def with_answers(client, answers: dict) -> None:
    session = client.session
    session[ANSWERS_SESSION_KEY] = answers
    session.save()


@pytest.mark.parametrize(
    ("yuan", "zh", "en"),
    [
        (Decimal("16666666.666666666666666666666667"), "1666.666667 万元", "16.66666667 million yuan"),
        (Decimal("10000000"), "1000 万元", "10 million yuan"),
        (Decimal("4500.40"), "0.45004 万元", "4,500.4 yuan"),
        (Decimal("0.333"), "0.000033 万元", "0.33 yuan"),
        (Decimal("0"), "0 万元", "0 yuan"),
    ],
)
def test_money_is_shown_to_the_fen(yuan, zh, en):
    assert money_zh(yuan) == zh and money_en(yuan) == en


def test_each_step_says_only_what_it_asks(policies, client):
    page = client.get("/self-check/step/basic/")
    asked = field_names(page)
    intro = re.search(r'id="step-asks">(.*?)</p>', page.content.decode(), flags=re.S).group(1)
    assert "所在地" not in intro  # no in-force policy reads the district: it is not asked
    labels = {field.label for field in page.context["form"]}
    assert labels and all(label in intro for label in labels)
    assert len(labels) == len(asked)


def test_an_absurd_amount_is_refused_with_a_message_and_nothing_kept(policies, client):
    client.get("/self-check/step/basic/")
    response = client.post("/self-check/step/operations/", {"output_value": "1e30", "direction": "next"})
    assert response.status_code == 200
    assert "金额过大，应小于 100 万亿元" in text_of(response)
    assert "output_value" not in client.session.get(ANSWERS_SESSION_KEY, {})


def test_results_never_read_zero_or_endless_decimals(policies, client):
    with_answers(
        client,
        {
            **IN_MINHANG,  # the documents' applicability is judged first
            "is_manufacturing": True,
            "innovative_drug_rd_spend": "0",  # a ratio of 0 is 0: said so, not "约 0 万元，每年 0 万元"
            "rent_total": "3333333",
            "new_factory_lease_area_m2": "6000",
            "is_new_key_industry_project": True,
            "output_value": "123456789.123",
        },
    )
    page = text_of(client.get("/self-check/results/"))
    assert "按所填数据计算为 0" in page and "租房总额达到 1666.666667 万元 时封顶" in page
    assert "约 0 万元" not in page and "每年 0 万元" not in page
    assert not LONG_DECIMAL.search(page), LONG_DECIMAL.search(page)
