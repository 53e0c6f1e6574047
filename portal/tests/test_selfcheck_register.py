"""Registering from the self-check: the answers become the enterprise profile (create_profile_from_answers)
and the /self-check/register/ form creates the account and the profile together, or nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from enterprises.answers import create_profile_from_answers
from enterprises.catalog import load_catalog
from enterprises.facts import facts_for
from enterprises.models import Enterprise, EnterpriseMembership, FactValue, Project, Recognition, Source
from enterprises.tests.factories import EnterpriseFactory, UserFactory
from enterprises.validators import credit_code_for
from policies.loader import catalog_paths, load_files
from portal.selfcheck.evaluation import parse_answers
from portal.selfcheck.questions import ANSWERS_SESSION_KEY
from portal.selfcheck.registration import answers_not_carried
from portal.tests.selfcheck_support import row_counts, text_of

GOOD_CODE = credit_code_for(424242)
PASSWORD = "lianhe-zhengce-2026"

# Every kind of answer the wizard stores, in its session format ({code: JSON value}, money in yuan), each
# one the profile can hold exactly: identity, status, last year's figures and the growth behind them,
# recognitions with a rating, every project kind and stored facts of several types.
FULL_ANSWERS = {
    "located_in_minhang": True,
    "legal_form": "llc",
    "is_foreign_invested": False,
    "industry_code": "3421",
    "is_manufacturing": True,
    "industry_tracks": ["high_end_equipment"],
    "industry_subtracks": ["machine_tools"],
    "enterprise_scale": "medium",
    "is_sme": True,
    "is_above_scale": True,
    "newly_above_scale": True,
    "listing_exchange": "none",
    "newly_listed": False,
    "output_value": "450000000",
    "output_value_increase": "130000000",
    "output_growth_rate": "40.62",
    "output_first_crossed_1bn": False,
    "revenue": "495000000",
    "rd_expense": "22500000",
    "employees": 390,
    "tax_paid": "13500000",
    "recognitions": ["high_tech_enterprise", "sh_specialized_sme", "tech_center_municipal"],
    "recognitions_new": ["sh_specialized_sme"],
    "tech_center_rating": "good",
    "tech_upgrade_level": "district",
    "tech_upgrade_total_investment": "240000000",
    "new_equipment_investment": "180000000",
    "new_factory_purchase_area_m2": "3000",
    "new_factory_lease_area_m2": "5000",
    "rent_total": "12000000",
    "is_new_key_industry_project": True,
    "mna_amount": "80000000",
    "first_of_kind_contract_amount": "6000000",
    "innovative_drug_rd_spend": "0",
    "event_cost": "450000",
    "loan_interest_paid": "180000",
    "loan_guarantee_fee_paid": "50000",
    "has_policy_guaranteed_loan": True,
    "ic_industry_entity": False,
    "business_activities": ["services", "wholesale"],
    "chain_store_count": 3,
    "ecommerce_gmv": "30000000",
    "foreign_capital_paid_in_usd": "1500000.5",
}


@pytest.fixture(scope="module")
def catalog_loaded(django_db_setup, django_db_blocker):
    """The fact catalog (fixtures/facts), loaded once for this module and rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        _reports, errors = load_files(catalog_paths())
        assert not errors, [error.messages for error in errors]
        yield
        transaction.set_rollback(True)


@pytest.fixture
def catalog(catalog_loaded, db):
    return load_catalog()


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def differences(enterprise: Enterprise, answers: dict, catalog) -> dict:
    """{code: (answer, profile value)} for every answered fact the profile does not reproduce."""
    typed = parse_answers(answers, catalog=catalog)
    values = facts_for(enterprise, timezone.localdate(), catalog=catalog).values
    return {code: (value, values[code]) for code, value in typed.items() if values[code] != value}


# --- the service ------------------------------------------------------------------------------------


def test_every_answer_becomes_the_same_fact_of_the_profile(catalog):
    assert {definition.derived for code, definition in catalog.items() if code in FULL_ANSWERS} == {
        "builtin",
        "stored",
    }
    user = UserFactory()
    today = timezone.localdate()
    enterprise = create_profile_from_answers(
        user=user, name="上海闵智精密机床有限公司", credit_code=GOOD_CODE, answers=FULL_ANSWERS, as_of=today
    )

    assert differences(enterprise, FULL_ANSWERS, catalog) == {}
    sheet = facts_for(enterprise, today, catalog=catalog)
    assert {sheet.sources[code] for code in FULL_ANSWERS} == {Source.SELF_DECLARED}
    # facts nobody answered stay unknown: no project list was declared complete, nothing became 0
    assert sheet.values["municipal_funding_granted"] is None
    assert sheet.values["in_industrial_upstairs_project"] is None
    assert sheet.values["years_since_registration"] is None

    assert enterprise.name == "上海闵智精密机床有限公司" and enterprise.district == "闵行区"
    assert enterprise.recognitions_declared and not enterprise.projects_declared
    assert EnterpriseMembership.objects.get(user=user).enterprise == enterprise
    figures = {figure.year: figure.output_value for figure in enterprise.figures.all()}
    assert figures == {today.year - 1: 450_000_000, today.year - 2: 320_000_000}
    assert set(enterprise.projects.values_list("year", flat=True)) == {today.year - 1}
    rated = Recognition.objects.get(enterprise=enterprise, kind="tech_center_municipal")
    assert rated.grade == "good" and not rated.first_time
    stored = {
        row.fact_id: row for row in FactValue.objects.filter(enterprise=enterprise).select_related("fact")
    }
    assert {row.fact.code for row in stored.values()} == {
        "ic_industry_entity",
        "business_activities",
        "chain_store_count",
        "ecommerce_gmv",
        "foreign_capital_paid_in_usd",
    }
    assert {row.source for row in stored.values()} == {Source.SELF_DECLARED}
    assert all(row.year is None and row.valid_from is None for row in stored.values())
    assert {
        row.source for model in (Project, Recognition) for row in model.objects.filter(enterprise=enterprise)
    } == {Source.SELF_DECLARED}
    assert enterprise.source == Source.SELF_DECLARED


@pytest.mark.parametrize(
    "answers",
    [
        {
            "district": "浦东新区",
            "located_in_minhang": False,
            "is_sme": False,
        },  # district decides; not SME = large
        {"output_value": "200000000", "output_growth_rate": "25"},  # the rate implies the year before
        {"recognitions": [], "tech_upgrade_level": "municipal", "municipal_funding_granted": "5000000"},
        {"in_industrial_upstairs_project": True, "rent_total": "800000"},  # the rent of the 工业上楼 space
        {"rent_total": "600000"},  # a lease whose area was not given
        {"newly_above_scale": True, "listing_exchange": "sse"},
    ],
)
def test_smaller_answer_sets_are_reproduced_too(catalog, answers):
    enterprise = create_profile_from_answers(
        user=UserFactory(), name="甲", credit_code=GOOD_CODE, answers=answers, as_of=timezone.localdate()
    )
    assert differences(enterprise, answers, catalog) == {}


def test_answers_no_row_can_hold_are_kept_as_declared_values_until_the_data_is_entered(catalog):
    """A registration date, an industry code, a complete project list: not invented as rows, but the
    answers are kept (self-declared) so the dashboard does not ask them again (issue 14, step 2)."""
    answers = {
        "years_since_registration": "8",
        "is_manufacturing": True,
        "is_sme": True,
        "tech_upgrade_level": "none",
        "output_value_increase": "1000000",  # without last year's output there is no year before
        "industry_tracks": ["biomedicine"],
        "newly_above_scale": False,
        "in_industrial_upstairs_project": False,
        "output_growth_rate": "12.5",
    }
    today = timezone.localdate()
    enterprise = create_profile_from_answers(
        user=UserFactory(), name="乙", credit_code=GOOD_CODE, answers=answers, as_of=today
    )
    assert enterprise.registered_on is None and enterprise.industry_code == "" and enterprise.scale == ""
    assert not Project.objects.exists() and not enterprise.projects_declared
    assert differences(enterprise, answers, catalog) == {}
    sheet = facts_for(enterprise, today, catalog=catalog)
    assert {sheet.sources[code] for code in answers} == {Source.SELF_DECLARED}
    assert answers_not_carried(enterprise, answers, as_of=today, catalog=catalog) == []

    # data entered later wins over the declaration
    enterprise.industry_code = "5211"  # retail: not manufacturing
    enterprise.save()
    assert facts_for(enterprise, today, catalog=catalog).values["is_manufacturing"] is False


def test_none_of_these_for_a_stored_set_registers_and_is_kept(catalog, client):
    """ "以上都没有" for 创新药械落地情况 and 集成电路首台套…验证服务机构类型 is the empty set: it registered
    with HTTP 400 "此字段不能为空" before (issue 14, step 1)."""
    answers = {
        "innovative_drug_device_status": [],
        "ic_verification_service_for": [],
        "is_manufacturing": True,
        "is_sme": True,
        "newly_above_scale": True,
        "output_growth_rate": "20",
        "in_industrial_upstairs_project": False,
    }
    with_answers(client, answers)
    response = client.post("/self-check/register/", registration())
    assert response.status_code == 302 and response["Location"] == "/applications/dashboard/"
    enterprise = Enterprise.objects.get(credit_code=GOOD_CODE)
    assert differences(enterprise, answers, catalog) == {}
    values = facts_for(enterprise, timezone.localdate(), catalog=catalog).values
    assert values["innovative_drug_device_status"] == frozenset()


@pytest.mark.parametrize(
    ("credit_code", "answers", "key", "message"),
    [
        (
            GOOD_CODE[:17] + ("0" if GOOD_CODE[17] != "0" else "1"),
            {"output_value": "1"},
            "credit_code",
            "校验位",
        ),
        (GOOD_CODE, {"industry_code": "12"}, "industry_code", "行业代码应为4位数字"),
        (GOOD_CODE, {"output_value": "-5"}, "output_value", "不能为负数"),
        (GOOD_CODE, {"no_such_fact": "1"}, "no_such_fact", "未知的事实代码"),
        (GOOD_CODE, {"recognitions": ["moon_base"]}, "recognitions", "moon_base"),
    ],
)
def test_a_bad_code_or_answer_writes_nothing(catalog, credit_code, answers, key, message):
    user = UserFactory()
    before = row_counts()
    with pytest.raises(ValidationError) as error:
        create_profile_from_answers(
            user=user, name="丙", credit_code=credit_code, answers=answers, as_of=timezone.localdate()
        )
    assert message in " ".join(error.value.message_dict[key])
    assert row_counts() == before


def test_a_taken_credit_code_or_a_linked_user_is_refused(catalog):
    EnterpriseFactory(credit_code=GOOD_CODE)
    with pytest.raises(ValidationError) as error:
        create_profile_from_answers(
            user=UserFactory(), name="丁", credit_code=GOOD_CODE, answers={}, as_of=timezone.localdate()
        )
    assert "已有企业登记" in error.value.message_dict["credit_code"][0]
    user = UserFactory()
    create_profile_from_answers(
        user=user, name="戊", credit_code=credit_code_for(7), answers={}, as_of=timezone.localdate()
    )
    with pytest.raises(ValidationError, match="已关联企业"):
        create_profile_from_answers(
            user=user, name="己", credit_code=credit_code_for(8), answers={}, as_of=timezone.localdate()
        )
    assert EnterpriseMembership.objects.get(user=user).enterprise.name == "戊"


# --- the page ---------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_registration_counts():
    """Registration POSTs are throttled per address (test_registration_verification.py): each test
    starts with none counted."""
    cache.clear()
    yield
    cache.clear()


def registration(**overrides) -> dict:
    return {
        "username": "minzhi",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "enterprise_name": "上海闵智精密机床有限公司",
        "credit_code": GOOD_CODE,
    } | overrides


def with_answers(client, answers: dict) -> None:
    session = client.session
    session[ANSWERS_SESSION_KEY] = answers
    session.save()


def test_registration_creates_the_account_and_the_profile_and_logs_in(catalog, client):
    answers = FULL_ANSWERS | {"years_since_registration": "15"}  # no row holds it: kept as declared
    with_answers(client, answers)
    page = text_of(client.get("/self-check/register/"))
    assert "统一社会信用代码" in page and "上年度工业总产值 45000 万元" in page

    response = client.post("/self-check/register/", registration(credit_code=GOOD_CODE.lower()), follow=True)

    assert response.redirect_chain == [("/applications/dashboard/", 302)]
    page = text_of(response)
    assert "企业“上海闵智精密机床有限公司”已登记" in page
    assert "以下回答需要在企业资料中补充具体数据后才能用于匹配" not in page
    user = get_user_model().objects.get(username="minzhi")
    assert response.context["user"] == user and user.check_password(PASSWORD)
    enterprise = Enterprise.objects.get(credit_code=GOOD_CODE)  # typed in lower case, stored upper
    assert EnterpriseMembership.objects.get(user=user).enterprise == enterprise
    assert differences(enterprise, answers, catalog) == {}
    assert ANSWERS_SESSION_KEY not in client.session  # they are the profile now


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"credit_code": GOOD_CODE[:17] + ("0" if GOOD_CODE[17] != "0" else "1")},
            "统一社会信用代码校验位错误",
        ),
        ({"credit_code": GOOD_CODE[:16]}, "统一社会信用代码应为18位，当前为16位"),
        ({"password1": "12345678", "password2": "12345678"}, "这个密码太常见了"),
        ({"password1": "zq83", "password2": "zq83"}, "密码太短，至少需要 8 个字符"),
        ({"password2": PASSWORD + "x"}, "输入的两个密码不一致"),
        ({"enterprise_name": ""}, "该字段是必填项"),
    ],
)
def test_bad_registrations_get_a_chinese_message_and_write_nothing(catalog, client, overrides, message):
    with_answers(client, {"output_value": "450000000"})
    before = row_counts()
    response = client.post("/self-check/register/", registration(**overrides))
    assert response.status_code == 400
    assert message in text_of(response)
    assert row_counts() == before
    assert "_auth_user_id" not in client.session
    assert client.session[ANSWERS_SESSION_KEY] == {"output_value": "450000000"}  # kept for the next try


def test_a_taken_credit_code_makes_a_claim_not_a_second_enterprise(catalog, client):
    """Before: refused on the form. Now: the account is created with a claim for staff (see
    test_registration_verification.py); the holder is not named."""
    holder = EnterpriseFactory(credit_code=GOOD_CODE, name="上海真企业有限公司")
    response = client.post("/self-check/register/", registration(), follow=True)
    page = text_of(response)
    assert "已有企业登记，已提交工作人员核实" in page and holder.name not in page
    assert Enterprise.objects.filter(credit_code=GOOD_CODE).count() == 1


def test_an_answer_the_profile_refuses_rolls_back_the_account(catalog, client):
    with_answers(client, {"industry_code": "99x"})  # text to the wizard, not a GB/T 4754 code
    before = row_counts()
    response = client.post("/self-check/register/", registration())
    assert response.status_code == 400
    page = text_of(response)
    assert "测算回答无法保存，请返回政策计算器修改" in page and "行业代码应为4位数字" in page
    assert row_counts() == before  # the account was rolled back with the profile


def test_a_projects_own_answers_become_one_item_of_its_kind(catalog):
    """Item facts (a technology-upgrade project's level and amounts) are written as one item of the
    kind, not as enterprise facts, so the enterprise can add its other projects later."""
    from decimal import Decimal

    from enterprises.models import Item

    answers = {
        "tech_project_level": "municipal",
        "tech_project_municipal_funding": "6000000",
        "tech_project_new_equipment_investment": "45000000",
    }
    enterprise = create_profile_from_answers(
        user=UserFactory(), name="丙", credit_code=GOOD_CODE, answers=answers, as_of=timezone.localdate()
    )
    item = Item.objects.get(enterprise=enterprise)
    assert item.kind == "tech_upgrade_project" and item.source == Source.SELF_DECLARED
    assert item.values == {
        "tech_project_level": "municipal",
        "tech_project_municipal_funding": str(Decimal("6000000")),
        "tech_project_new_equipment_investment": str(Decimal("45000000")),
    }
    assert not FactValue.objects.filter(enterprise=enterprise, fact__code__in=answers).exists()
