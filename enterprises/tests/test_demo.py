import datetime
from decimal import Decimal

import pytest
import yaml
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from enterprises.demo import DEMO_FILE, DEMO_USER
from enterprises.facts import facts_table
from enterprises.models import Enterprise
from enterprises.selectors import enterprise_for_user
from enterprises.tests.test_facts_equivalence import assert_paths_agree
from enterprises.validators import credit_code_problem

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 1)  # the demo is calibrated for 2026: last completed year 2025


@pytest.fixture
def demo(fact_catalog):
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return facts_table(Enterprise.objects.all(), AS_OF)


def column(table, code):
    return table.columns[code]


def test_demo_file_is_large_enough_and_codes_are_valid():
    entries = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))
    assert len(entries) >= 40
    codes = [entry["credit_code"] for entry in entries]
    assert len(set(codes)) == len(codes)
    assert all(credit_code_problem(code) is None for code in codes)


def test_load_demo_is_idempotent_and_creates_the_account(fact_catalog, capsys):
    call_command("load_demo")
    history_rows = Enterprise.history.count()
    versions = dict(Enterprise.objects.values_list("pk", "version"))
    call_command("load_demo")
    output = capsys.readouterr().out
    assert f"未变 {Enterprise.objects.count()}" in output
    assert "enterprise-demo-2026" in output
    assert Enterprise.history.count() == history_rows
    assert dict(Enterprise.objects.values_list("pk", "version")) == versions
    username, password = DEMO_USER
    user = authenticate(RequestFactory().post("/accounts/login/"), username=username, password=password)
    first = yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))[0]
    assert enterprise_for_user(user).credit_code == first["credit_code"]


def test_demo_covers_tracks_and_places(demo):
    tracks = set().union(*(value for value in column(demo, "industry_tracks") if value))
    assert tracks == {
        "high_end_equipment",
        "new_gen_it",
        "biomedicine",
        "artificial_intelligence",
        "new_tracks_future",
    }
    minhang = column(demo, "located_in_minhang")
    assert minhang.count(True) >= 30 and minhang.count(False) >= 4
    assert "外省市" in column(demo, "district")


@pytest.mark.parametrize(
    ("code", "threshold"),
    [
        ("new_factory_lease_area_m2", Decimal(5000)),
        ("new_factory_purchase_area_m2", Decimal(2000)),
        ("tech_upgrade_total_investment", Decimal(10_000_000)),
        ("output_value", Decimal(100_000_000)),
        ("output_value_increase", Decimal(100_000_000)),
    ],
)
def test_demo_has_each_threshold_below_at_and_above(demo, code, threshold):
    values = [value for value in column(demo, code) if value is not None]
    assert any(value < threshold for value in values), "below"
    assert threshold in values, "exactly at"
    assert any(value > threshold for value in values), "above"
    assert None in column(demo, code), "missing"


def test_demo_has_cap_edges(demo):
    # 000 clause 10: 10 % of new equipment investment, cap 2000万 -> exactly 2亿 of equipment;
    # 1:0.5 matching of municipal funding, cap 1000万 -> exactly 2000万 granted; 000 clause 8: 30 % of rent, cap 600万.
    assert Decimal(200_000_000) in column(demo, "new_equipment_investment")
    assert Decimal(20_000_000) in column(demo, "municipal_funding_granted")
    assert Decimal(20_000_000) in column(demo, "rent_total")
    # 000 clause 19: "活动发生费用" > 0, 50 % capped at 30万 -> exactly 60万; and an event that cost nothing
    assert {Decimal(0), Decimal(600_000)} <= set(column(demo, "event_cost"))


@pytest.mark.parametrize(
    "code",
    [
        "output_first_crossed_1bn",
        "newly_above_scale",
        "newly_listed",
        "is_new_key_industry_project",
        "has_policy_guaranteed_loan",
        "is_sme",
        "in_industrial_upstairs_project",
    ],
)
def test_demo_has_true_false_and_unknown(demo, code):
    assert {True, False, None} <= set(column(demo, code))


def test_demo_recognitions_of_000_and_003(demo):
    new = set().union(*(value for value in column(demo, "recognitions_new") if value))
    assert {
        "sh_specialized_sme",
        "little_giant",
        "single_champion",
        "tech_center_municipal",
        "smart_factory_municipal",
        "smart_mfg_solution_national",
        "cmmm_certified",
        "dcmm_certified",
        "featured_park_municipal",
        "public_service_platform",
        "future_industry_star",
    } <= new
    assert "excellent" in column(demo, "tech_center_rating") and "good" in column(demo, "tech_center_rating")
    assert set(column(demo, "listing_exchange")) >= {"none", "sse", "bse", "hkex", "szse"}


def test_demo_stored_facts(demo):
    for code in (
        "is_industry_association",
        "is_park_developer",
        "ic_industry_entity",
        "eda_tool_purchase_amount",
        "ic_verification_insurance_premium",
        "ic_verification_service_for",
        "innovative_drug_device_status",
        "output_milestone_first_crossed",
        "equity_transfer_completed",
        "tech_upgrade_debt_financed",
    ):
        assert any(value is not None for value in column(demo, code)), code


def test_paths_agree_on_demo_data(demo):
    for as_of in (AS_OF, datetime.date(2025, 12, 31), datetime.date(2026, 11, 1)):
        assert assert_paths_agree(as_of) >= 40
