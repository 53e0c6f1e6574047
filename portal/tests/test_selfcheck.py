"""The self-check: portal.selfcheck.evaluation.evaluate_answers (the core) and the /self-check/ wizard."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import translation

from matching.engine import Status
from policies.loader import default_paths, load_files
from portal.selfcheck.evaluation import AnswerError, evaluate_answers
from portal.selfcheck.questions import ANSWERS_SESSION_KEY
from portal.tests.selfcheck_support import field_names, row_counts, text_of

AS_OF = dt.date(2025, 6, 1)  # 000 (2024-04-01 … 2029-03-31) and 003 are in force
LEASE = "mh-2024-new-industrialization/7/new-factory-lease"
PURCHASE = "mh-2024-new-industrialization/7/new-factory-purchase"
HIGH_GROWTH_RENT = "mh-2024-new-industrialization/8/high-growth-rent"
STAR_RENT = "mh-2024-new-industrialization/8/future-industry-star-rent"
LITTLE_GIANT = "mh-2024-new-industrialization/12/little-giant"
SPECIALIZED_SME = "mh-2024-new-industrialization/12/sh-specialized-sme"
LISTING_SSE = "mh-2024-new-industrialization/13/listing-sse-szse"
LISTING_OVERSEAS = "mh-2024-new-industrialization/13/listing-overseas-bse"
MUNICIPAL_MATCHING = "mh-2024-new-industrialization/10/municipal-tech-upgrade-matching"


@pytest.fixture(scope="module")
def policies_loaded(django_db_setup, django_db_blocker):
    """The catalog and every policy fixture, loaded once for this module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        reports, errors = load_files(default_paths())
        assert not errors, [error.messages for error in errors]
        yield reports
        transaction.set_rollback(True)


@pytest.fixture
def policies(policies_loaded, db):
    return policies_loaded


@pytest.fixture(autouse=True)
def chinese():
    """Messages are asserted in Chinese, whatever language an earlier test left active."""
    with translation.override("zh-hans"):
        yield


IN_MINHANG = {"registered_region": "310112", "operating_region": "310112"}


def by_key(result) -> dict:
    return {verdict.spec.global_key: verdict for verdict in result.verdicts}


# --- evaluate_answers -----------------------------------------------------------------------------


def test_lease_of_5000_m2_for_a_key_industry_project_is_pending_recognition_up_to_10_million(policies):
    result = evaluate_answers(
        {**IN_MINHANG, "is_new_key_industry_project": "是", "new_factory_lease_area_m2": "5000"}, as_of=AS_OF
    )
    verdicts = by_key(result)
    lease = verdicts[LEASE]
    assert lease.status is Status.PENDING_RECOGNITION
    assert lease.amount.value == Decimal("10000000") and lease.amount.basis == "up_to_cap"
    # the document's applicability (registered, operating in 闵行区), then the clause's two leaves
    assert [reason.outcome.letter for reason in lease.reasons] == ["v", "v", "v", "v"]
    # the purchase tier of the same clause still needs its area; it shares the stacking group
    assert verdicts[PURCHASE].status is Status.NEEDS_INFO
    assert "new_factory_purchase_area_m2" in verdicts[PURCHASE].missing_facts
    assert lease in result.stack.chosen
    # every catalog code is in the facts mapping; unanswered ones are None, never 0
    assert result.facts["new_factory_lease_area_m2"] == Decimal("5000")
    assert result.facts["is_new_key_industry_project"] is True
    assert result.facts["rent_total"] is None and result.facts["employees"] is None


def test_outside_minhang_the_district_policy_is_not_eligible_citing_its_applicability(policies):
    answers = {"is_new_key_industry_project": True, "new_factory_lease_area_m2": 5000}
    pudong = by_key(
        evaluate_answers(
            {**answers, "registered_region": "310115", "operating_region": "310115"}, as_of=AS_OF
        )
    )[LEASE]
    assert pudong.status is Status.NOT_ELIGIBLE and pudong.amount.value is None
    assert {reason.fact for reason in pudong.unmet} == {"registered_region", "operating_region"}
    unknown = by_key(evaluate_answers(answers, as_of=AS_OF))[LEASE]
    assert unknown.status is Status.NEEDS_INFO
    assert {"registered_region", "operating_region"} <= set(unknown.missing_facts)


def test_no_answers_at_all_compute_nothing(policies):
    result = evaluate_answers({}, as_of=AS_OF)
    assert result.stack.total == 0 and result.stack.ceiling_total == 0
    assert {v.status for v in result.verdicts} == {Status.NEEDS_INFO}


def test_just_below_the_threshold_is_not_eligible_with_the_gap(policies):
    result = evaluate_answers(
        {**IN_MINHANG, "is_new_key_industry_project": True, "new_factory_lease_area_m2": 4999}, as_of=AS_OF
    )
    lease = by_key(result)[LEASE]
    assert lease.status is Status.NOT_ELIGIBLE and lease.amount.value is None
    assert [reason.fact for reason in lease.unmet] == ["new_factory_lease_area_m2"]


def test_amounts_ratio_caps_instalments_and_stacking(policies):
    result = evaluate_answers(
        {
            **IN_MINHANG,
            "rent_total": "10000000",  # yuan: 30% = 300万, under the 500万 cap, over 3 years
            "recognitions": [],  # known: no recognition at all
            "recognitions_new": ["little_giant"],
            "newly_listed": "true",
            "listing_exchange": "sse",
            "tech_project_level": "municipal",  # 000 第10条 reads the project's own facts (one item)
            "tech_project_municipal_funding": 30000000,  # 1:0.5 = 1500万, capped at 1000万
            "is_new_key_industry_project": True,  # both tiers of clause 7: one stacking group
            "new_factory_purchase_area_m2": "2500",
            "new_factory_lease_area_m2": "6000",
        },
        as_of=AS_OF,
    )
    verdicts = by_key(result)
    rent = verdicts[HIGH_GROWTH_RENT]
    assert rent.status is Status.PENDING_RECOGNITION
    assert rent.amount.value == Decimal("3000000.00") and rent.amount.basis == "computed"
    assert rent.amount.per_instalment == Decimal("1000000.00")
    assert verdicts[STAR_RENT].status is Status.NOT_ELIGIBLE  # no 未来产业之星 award
    assert verdicts[LITTLE_GIANT].status is Status.ELIGIBLE
    assert verdicts[LITTLE_GIANT].amount.value == Decimal("600000")
    assert verdicts[SPECIALIZED_SME].status is Status.NOT_ELIGIBLE
    assert verdicts[LISTING_SSE].status is Status.ELIGIBLE
    assert verdicts[LISTING_SSE].amount.value == Decimal("8000000")
    assert verdicts[LISTING_OVERSEAS].status is Status.NOT_ELIGIBLE
    matching = verdicts[MUNICIPAL_MATCHING]
    assert matching.amount.value == Decimal("10000000") and matching.amount.basis == "capped"
    # the total is the engine's stacking: one benefit per group, eligible and pending only
    counted = [v for v in result.verdicts if v.status in (Status.ELIGIBLE, Status.PENDING_RECOGNITION)]
    groups = [v.spec.stacking_group for v in result.stack.chosen if v.spec.stacking_group]
    assert len(groups) == len(set(groups))
    # honest money: only figures fixed by the text or computed from the answers; ceilings apart
    assert result.total == sum((v.amount.value for v in result.stack.chosen if v.amount.counted), Decimal(0))
    ceilings = [v for v in result.stack.chosen if v.amount.basis == "up_to_cap"]
    assert ceilings and result.stack.ceiling_total == sum((v.amount.value for v in ceilings), Decimal(0))
    assert result.total < result.total + result.stack.ceiling_total
    assert rent in result.stack.chosen and matching in result.stack.chosen
    assert verdicts[LEASE].status is verdicts[PURCHASE].status is Status.PENDING_RECOGNITION
    chosen = {verdict.spec.global_key for verdict in result.stack.chosen}
    assert len({LEASE, PURCHASE} & chosen) == 1  # 1000万 once, not twice
    left_out = sum((loser.amount.value or 0 for loser, _ in result.stack.excluded), Decimal(0))
    assert left_out >= Decimal("10000000")
    assert result.total == sum((v.amount.value for v in counted if v.amount.counted), Decimal(0)) - sum(
        (loser.amount.value for loser, _ in result.stack.excluded if loser.amount.counted), Decimal(0)
    )


def test_verdicts_are_ordered_by_estimated_amount_and_only_benefits_in_force(policies):
    result = evaluate_answers({"is_new_key_industry_project": True}, as_of=AS_OF)
    values = [verdict.amount.value for verdict in result.verdicts]
    figures = [value for value in values if value is not None]
    assert figures == sorted(figures, reverse=True)
    assert values[: len(figures)] == figures  # no figure comes after every figure
    assert all(verdict.validity == "in_force" for verdict in result.verdicts)
    documents = {verdict.spec.document_key for verdict in result.verdicts}
    assert "mh-2024-industry-quality-draft" not in documents  # a consultation draft is never in force
    assert "mh-2024-new-industrialization" in documents
    later = evaluate_answers({}, as_of=dt.date(2030, 1, 1))
    assert "mh-2024-new-industrialization" not in {v.spec.document_key for v in later.verdicts}


def test_missing_facts_are_ranked_by_money_and_answers_close_questions(policies):
    empty = evaluate_answers({}, as_of=AS_OF)
    unlock = [missing.could_unlock for missing in empty.missing if missing.could_unlock is not None]
    assert unlock == sorted(unlock, reverse=True) and unlock
    assert {"new_factory_lease_area_m2", "is_new_key_industry_project", "ic_industry_entity"} <= set(
        empty.open_questions
    )
    # no longer a key-industry project: the factory areas cannot matter any more
    answered = evaluate_answers({"is_new_key_industry_project": "否"}, as_of=AS_OF)
    assert "new_factory_lease_area_m2" not in answered.open_questions
    assert "new_factory_purchase_area_m2" not in answered.open_questions
    assert by_key(answered)[LEASE].status is Status.NOT_ELIGIBLE
    # the IC purchase amount is asked while the IC benefit is reachable, not once it is refused
    assert "eda_tool_purchase_amount" in empty.open_questions
    refused = evaluate_answers({"ic_industry_entity": False}, as_of=AS_OF)
    assert "eda_tool_purchase_amount" not in refused.open_questions
    # `exists: true` is never unknown, so 003's growth voucher reads as not eligible with no answers;
    # its facts are still worth asking until another condition refuses it
    assert "output_growth_rate" in empty.open_questions
    small = evaluate_answers({"is_above_scale": False, "newly_above_scale": False}, as_of=AS_OF)
    assert "output_growth_rate" not in small.open_questions


def test_unknown_fact_and_bad_values_are_refused_each_with_a_message(policies):
    with pytest.raises(AnswerError) as caught:
        evaluate_answers(
            {
                "no_such_fact": "1",
                "new_factory_lease_area_m2": "-10",
                "rent_total": "一百万",
                "employees": "12.5",
                "is_sme": "maybe",
                "listing_exchange": "nasdaq",
                "recognitions": ["little_giant", "nobel_prize"],
                "output_value": True,
            },
            as_of=AS_OF,
        )
    errors = caught.value.errors
    assert set(errors) == {
        "no_such_fact", "new_factory_lease_area_m2", "rent_total", "employees", "is_sme",
        "listing_exchange", "recognitions", "output_value",
    }  # fmt: skip
    assert "未知的事实代码" in errors["no_such_fact"]
    assert "不能为负数" in errors["new_factory_lease_area_m2"]
    assert "应为数值" in errors["rent_total"] and "应为数值" in errors["output_value"]
    assert "应为整数" in errors["employees"]
    assert "是" in errors["is_sme"] and "nasdaq" in errors["listing_exchange"]
    assert "nobel_prize" in errors["recognitions"]
    assert caught.value.message_dict["rent_total"] == [errors["rent_total"]]  # a Django ValidationError


def test_a_year_on_year_decrease_may_be_negative_and_blanks_are_unknown(policies):
    result = evaluate_answers(
        {"output_value_increase": "-2000000", "output_growth_rate": -5, "rent_total": "", "is_sme": None},
        as_of=AS_OF,
    )
    assert result.facts["output_value_increase"] == Decimal("-2000000")
    assert result.facts["rent_total"] is None and result.facts["is_sme"] is None


def test_evaluating_writes_nothing(policies):
    before = row_counts()
    evaluate_answers({"is_new_key_industry_project": True, "new_factory_lease_area_m2": "6000"}, as_of=AS_OF)
    with pytest.raises(AnswerError):
        evaluate_answers({"new_factory_lease_area_m2": "-1"}, as_of=AS_OF)
    assert row_counts() == before


# --- the wizard -----------------------------------------------------------------------------------


def test_wizard_flow_skips_questions_that_cannot_matter_and_shows_results(policies, client):
    before = row_counts()
    start = client.get("/self-check/")
    assert start.status_code == 200 and "开始测算" in text_of(start)

    basic = client.get("/self-check/step/basic/")
    asked = field_names(basic)
    assert {"is_new_key_industry_project", "new_factory_lease_area_m2"}.isdisjoint(asked)  # not this step
    assert {"ic_industry_entity", "is_manufacturing", "industry_tracks", "is_sme"} <= asked
    assert {"registered_region", "operating_region"} <= asked  # every document's applicability reads them
    assert "district" not in asked and "legal_form" not in asked  # no in-force policy reads them
    page = text_of(basic)
    assert "第 1 步：基本情况" in page and "不清楚" in page
    assert "行业代码属于门类 C（13-43 大类）。" in page  # the catalog's description as help text

    response = client.post(
        "/self-check/step/basic/",
        {
            "registered_region": "310112",
            "operating_region": "310112",
            "ic_industry_entity": "false",
            "is_manufacturing": "true",
            "direction": "next",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/self-check/step/operations/"
    operations = client.get(response["Location"])
    assert "output_value" in field_names(operations)
    # money is asked in 万元
    assert re.search(
        r'name="output_value"[^>]*>\s*<span class="unit">万元</span>', operations.content.decode()
    )
    assert "单位：万元（1 万元 = 10000 元）。" in text_of(operations)
    response = client.post("/self-check/step/operations/", {"direction": "next"})
    response = client.post("/self-check/step/recognitions/", {"direction": "next"})
    assert response["Location"] == "/self-check/step/projects/"

    projects = client.get("/self-check/step/projects/")
    asked = field_names(projects)
    assert {"is_new_key_industry_project", "new_factory_lease_area_m2", "rent_total"} <= asked
    # not an IC enterprise: the IC purchase and insurance questions are skipped
    assert "eda_tool_purchase_amount" not in asked and "ic_verification_insurance_premium" not in asked

    response = client.post(
        "/self-check/step/projects/",
        {
            "is_new_key_industry_project": "true",
            "new_factory_lease_area_m2": "5000",
            "rent_total": "1000",  # 万元
            "direction": "next",
        },
    )
    assert response["Location"] == "/self-check/results/"
    answers = client.session[ANSWERS_SESSION_KEY]
    assert answers["rent_total"] == "10000000" and answers["new_factory_lease_area_m2"] == "5000"
    assert answers["is_new_key_industry_project"] is True and answers["ic_industry_entity"] is False

    results = client.get("/self-check/results/")
    page = text_of(results)
    lease = page.index("新租赁自用工业厂房补贴")
    assert "待认定" in page[lease - 30 : lease] and "最高 1000 万元" in page[lease : lease + 100]
    assert "约 300 万元（按比例计算），分 3 年，每年 100 万元" in page
    # the clause text, collapsible
    html = results.content.decode()
    assert "<details" in html and "查看政策原文" in page
    assert "新租赁自用工业厂房且租赁面积超过5000平方米（含）以上的，经认定，给予上限1000万元的补贴。" in page
    assert "✓ 新租赁自用工业厂房面积 ≥ 5000 平方米" in page and "您的回答：5000 平方米" in page
    # the total and the "what is missing" prompts (the purchase area is open, worth up to 1000 万元)
    total = results.context["result"].total
    assert f"{total / 10000:f}".rstrip("0").rstrip(".") + " 万元" in page
    assert "还缺哪些信息" in page and "新购置自用工业厂房面积 ：涉及 1 个项目，最多 1000 万元" in page
    for badge in ("符合", "待认定", "需补充信息", "不符合"):
        assert badge in page
    # amounts in the listing are in descending order
    reachable, refused = results.context["reachable"], results.context["refused"]
    figures = [row["verdict"].amount.value for row in reachable if row["verdict"].amount.value is not None]
    assert figures == sorted(figures, reverse=True)
    # the not-eligible ones are folded away at the end, with their gaps
    assert refused and {row["verdict"].status for row in refused} == {Status.NOT_ELIGIBLE}
    assert Status.NOT_ELIGIBLE not in {row["verdict"].status for row in reachable}
    assert len(reachable) + len(refused) == len(results.context["result"].verdicts)
    assert re.search(r'<details class="sc-refused" id="refused">\s*<summary>不符合条件的 \d+ 个项目', html)

    after = row_counts()
    after.pop(Session._meta.label), before.pop(Session._meta.label)
    assert after == before  # only the session holds the answers


def test_bad_answers_are_shown_on_the_form_and_nothing_is_kept(policies, client):
    client.post("/self-check/step/basic/", {"is_sme": "true", "direction": "next"})
    kept = dict(client.session[ANSWERS_SESSION_KEY])
    response = client.post(
        "/self-check/step/projects/",
        {
            "new_factory_lease_area_m2": "-5",
            "rent_total": "很多",
            "is_new_key_industry_project": "maybe",
            "direction": "next",
        },
    )
    assert response.status_code == 200
    page = text_of(response)
    # every bad answer at once: the parser's and the form's own (a choice that is not offered)
    assert "不能为负数" in page and "应为数值" in page and "maybe 不在可用的选项中" in page
    html = response.content.decode()
    assert re.search(r'<input[^>]*aria-describedby="id_new_factory_lease_area_m2_error"', html)
    assert 'value="-5"' in response.content.decode()  # the user's input is shown back, not lost
    assert client.session[ANSWERS_SESSION_KEY] == kept


def test_set_questions_tell_none_from_unknown(policies, client):
    client.post("/self-check/step/basic/", {"direction": "next"})
    client.post("/self-check/step/recognitions/", {"recognitions": ["__none__"], "direction": "next"})
    assert client.session[ANSWERS_SESSION_KEY]["recognitions"] == []  # known: none
    response = client.post(
        "/self-check/step/recognitions/", {"recognitions": ["__none__", "little_giant"], "direction": "next"}
    )
    assert response.status_code == 200 and "不能与其他选项同时选择" in text_of(response)
    client.post("/self-check/step/recognitions/", {"direction": "next"})
    assert "recognitions" not in client.session[ANSWERS_SESSION_KEY]  # blank again: unknown


def test_answers_survive_for_registration_and_can_be_cleared(policies, client, django_user_model):
    client.post("/self-check/step/projects/", {"new_factory_lease_area_m2": "5200", "direction": "next"})
    page = text_of(client.get("/self-check/register/"))
    assert "新租赁自用工业厂房面积 5200 平方米" in page and "注册并登记企业" in page
    user = django_user_model.objects.create_user("visitor", password="pw-1234567")
    client.force_login(user)  # logging in keeps the session's data
    assert client.session[ANSWERS_SESSION_KEY] == {"new_factory_lease_area_m2": "5200"}
    assert "尚未关联企业" in text_of(client.get("/self-check/register/"))
    client.post("/self-check/reset/")
    assert ANSWERS_SESSION_KEY not in client.session
    assert client.get("/self-check/reset/").status_code == 405


def test_unknown_step_is_404(policies, client):
    assert client.get("/self-check/step/nothing/").status_code == 404
