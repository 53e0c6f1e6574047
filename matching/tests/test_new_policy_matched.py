"""A made-up policy document, loaded as data only, is matched like the encoded ones (no code change)."""

import datetime as dt
from decimal import Decimal

import pytest

from enterprises.models import Project
from enterprises.tests.factories import EnterpriseFactory, ProjectFactory, YearlyFigureFactory
from matching import services
from matching.models import MatchResult
from policies.loader import catalog_paths, load_files
from policies.models import Benefit
from policies.tests.test_loader import MADE_UP

pytestmark = pytest.mark.django_db(transaction=True)

AS_OF = dt.date(2030, 6, 1)


def robot_buyer(*, employees: int, equipment: str):
    enterprise = EnterpriseFactory(industry_code="3421", projects_declared=True)  # 3421: manufacturing
    YearlyFigureFactory(enterprise=enterprise, year=2029, employees=employees)
    ProjectFactory(
        enterprise=enterprise,
        kind=Project.Kind.TECH_UPGRADE,
        year=2030,
        level="district",
        new_equipment_investment=Decimal(equipment),
    )
    return enterprise


def test_a_document_added_as_data_is_matched_by_both_paths(tmp_path):
    catalog = catalog_paths()
    made_up = tmp_path / "900_made_up.yaml"
    made_up.write_text(MADE_UP, encoding="utf-8")
    _, errors = load_files([*catalog, made_up])
    assert not errors
    voucher = Benefit.objects.get(key="robot-voucher")

    big = robot_buyer(employees=120, equipment="2000000")  # 20% = 40万 → capped at 30万
    small_budget = robot_buyer(employees=60, equipment="500000")  # 20% = 10万
    too_few_staff = robot_buyer(employees=30, equipment="2000000")

    for enterprise in (big, small_budget, too_few_staff):
        services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF)
    single = {r.enterprise_id: (r.status, r.amount) for r in MatchResult.objects.filter(benefit=voucher)}
    assert single == {
        big.pk: ("eligible", Decimal("300000.00")),
        small_budget.pk: ("eligible", Decimal("100000.00")),
        too_few_staff.pk: ("not_eligible", None),
    }

    MatchResult.objects.filter(benefit=voucher).delete()
    services.evaluate_benefit_for_all(benefit_id=voucher.pk, as_of=AS_OF)
    bulk = {r.enterprise_id: (r.status, r.amount) for r in MatchResult.objects.filter(benefit=voucher)}
    assert bulk == single
