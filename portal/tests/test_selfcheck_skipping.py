"""Question skipping in the self-check wizard, on a one-benefit policy library (no other fixtures loaded)."""

import datetime as dt
from decimal import Decimal

import pytest

from matching.engine import BenefitSpec, Status
from policies.loader import load_files
from policies.selectors import catalog
from policies.tests.factories import BenefitFactory, ClauseFactory, PolicyDocumentFactory
from policies.tests.helpers import catalog_paths_for_000
from portal.selfcheck.evaluation import evaluate_answers
from portal.tests.selfcheck_support import field_names, text_of


def test_a_step_whose_questions_cannot_matter_is_skipped(catalog_only, client):
    """One benefit: manufacturing AND output ≥ 1亿. Not manufacturing: the output question is skipped."""
    document = PolicyDocumentFactory(effective_from=dt.date(2020, 1, 1))
    clause = ClauseFactory(document=document, text="对制造业企业年产值1亿元以上的，给予50万元奖励。")
    BenefitFactory(
        clause=clause,
        kind="lump_sum",
        amount=Decimal("500000"),
        cap=None,
        requires_recognition=False,
        recognition_phrase="",
        amount_quote="给予50万元奖励",
        condition={
            "all": [
                {"fact": "is_manufacturing", "op": "eq", "value": True, "quote": "制造业企业"},
                {"fact": "output_value", "op": "gte", "value": 100000000, "quote": "年产值1亿元以上"},
            ]
        },
    )
    assert field_names(client.get("/self-check/step/basic/")) == {"is_manufacturing"}
    response = client.post("/self-check/step/basic/", {"is_manufacturing": "false", "direction": "next"})
    assert response["Location"] == "/self-check/results/"  # 经营数据 and the rest skipped
    assert client.get("/self-check/step/operations/")["Location"] == "/self-check/results/"
    assert "不符合" in text_of(client.get("/self-check/results/"))

    response = client.post("/self-check/step/basic/", {"is_manufacturing": "true", "direction": "next"})
    assert response["Location"] == "/self-check/step/operations/"
    assert field_names(client.get("/self-check/step/operations/")) == {"output_value"}
    client.post("/self-check/step/operations/", {"output_value": "12000", "direction": "next"})  # 万元
    page = text_of(client.get("/self-check/results/"))
    assert (
        "符合" in page and "50 万元" in page and "不符合" not in page.split("扶持项目（按预计金额排序）")[1]
    )
    # going back from the first step with questions leads to the start page
    back = client.post("/self-check/step/basic/", {"is_manufacturing": "true", "direction": "back"})
    assert back["Location"] == "/self-check/"


@pytest.fixture
def catalog_only(db):
    reports, errors = load_files(catalog_paths_for_000())
    assert not errors
    return reports


def test_a_benefit_held_back_only_by_exists_keeps_its_questions_open(catalog_only):
    """`exists: true` on an unanswered fact is UNKNOWN, not UNMET: the benefit needs information and both
    facts are open questions (and the engine's missing facts)."""
    spec = BenefitSpec(
        global_key="test/1/growth",
        name="增速奖励",
        kind="lump_sum",
        cap=Decimal("500000"),
        condition={
            "all": [
                {"fact": "is_above_scale", "op": "eq", "value": True, "quote": "规上"},
                {"fact": "output_growth_rate", "op": "exists", "value": True, "quote": "按增速"},
            ]
        },
    )
    facts = catalog()
    empty = evaluate_answers({}, as_of=dt.date(2025, 6, 1), specs=[spec], catalog=facts)
    assert empty.verdicts[0].status is Status.NEEDS_INFO
    assert set(empty.open_questions) == {"output_growth_rate", "is_above_scale"}
    assert {fact.code for fact in empty.missing} == {"output_growth_rate", "is_above_scale"}
    refused = evaluate_answers(
        {"is_above_scale": False}, as_of=dt.date(2025, 6, 1), specs=[spec], catalog=facts
    )
    assert refused.open_questions == ()
    answered = evaluate_answers(
        {"is_above_scale": True, "output_growth_rate": "12"},
        as_of=dt.date(2025, 6, 1),
        specs=[spec],
        catalog=facts,
    )
    assert answered.verdicts[0].status is Status.ELIGIBLE and answered.open_questions == ()
