"""Shared set-up of the REST API tests (portal/tests/test_api_*.py).

`api_world`: the fact catalog and three policy files (in force district, expired district, municipal),
enterprises A and B with a user each, a staff user, keys, and the match results of both enterprises
on AS_OF; built once per module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from enterprises.models import Enterprise, Project
from enterprises.tests.factories import EnterpriseFactory, MembershipFactory, ProjectFactory, UserFactory
from matching import services as matching_services
from policies.loader import fixtures_dir, load_files
from portal.api.services import issue_api_key
from portal.models import ApiKey, Scope
from portal.roles import ensure_roles

AS_OF = dt.date(2025, 6, 1)
POLICY_FILES = (
    "000_mh_2024_new_industrialization.yaml",  # district, in force 2024-04-01 .. 2029-03-31
    "002_mh_2018_manufacturing_plan.yaml",  # district, expired
    "004_sh_new_industrialization_excerpt.yaml",  # municipal, in force
)
ALL_SCOPES = tuple(Scope.values)
PROBLEM = "application/problem+json"
UNTHROTTLED = "1000000/min"


def load_api_policies() -> None:
    paths = [fixtures_dir() / "regions" / "regions.yaml"]  # the documents' applicability names regions
    paths += sorted((fixtures_dir() / "facts").glob("*.yaml"))
    paths += [fixtures_dir() / "policies" / name for name in POLICY_FILES]
    _reports, errors = load_files(paths)
    assert not errors, [error.messages for error in errors]


@pytest.fixture(scope="module")
def api_data(django_db_setup, django_db_blocker):
    """Policies, and the world on them, built once per module and rolled back afterwards (each test
    runs in a savepoint inside this transaction)."""
    with django_db_blocker.unblock(), transaction.atomic():
        load_api_policies()
        yield build_api_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def key_client(raw_key: str, **extra) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}", **extra)


def new_key(*scopes: str, **kwargs) -> tuple[ApiKey, str]:
    kwargs.setdefault("created_by", None)
    return issue_api_key(name=kwargs.pop("name", "测试密钥"), scopes=scopes or ALL_SCOPES, **kwargs)


def assert_problem(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The one error format: problem+json with type, title, status, detail (and errors per field)."""
    assert response.status_code == status, response.content.decode()[:500]
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:policy-portal:problem:")
    assert body["title"] and isinstance(body["detail"], str) and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body.get("errors", {}), body
    return body


def lessee(name: str, area: str = "6000") -> Enterprise:
    """A Minhang enterprise that newly leased `area` m² of factory space in 2024."""
    enterprise = EnterpriseFactory(name=name, projects_declared=True, recognitions_declared=True)
    ProjectFactory(
        enterprise=enterprise,
        kind=Project.Kind.FACTORY_LEASE,
        year=2024,
        area_m2=Decimal(area),
        rent_total=Decimal("10000000"),
        is_new=True,
        self_use=True,
        key_industry_new_project=True,
    )
    return enterprise


@dataclass
class ApiWorld:
    a: Enterprise
    b: Enterprise
    user_a: object
    user_b: object
    staff: object
    key_a: str  # enterprise A's user's key, every scope
    key_b: str
    machine_key: str  # a machine client's key, every scope, all enterprises


def build_api_world() -> ApiWorld:
    a = lessee("上海甲精密制造有限公司", area="6000")
    b = lessee("上海乙航空部件有限公司", area="4000")
    user_a = MembershipFactory(enterprise=a, user__username="alpha").user
    user_b = MembershipFactory(enterprise=b, user__username="beta").user
    staff = UserFactory(username="policy-admin", is_staff=True)
    groups = ensure_roles()
    staff.groups.add(groups["policy_admin"], groups["reviewer"])
    for enterprise in (a, b):
        matching_services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF)
    return ApiWorld(
        a=a,
        b=b,
        user_a=user_a,
        user_b=user_b,
        staff=staff,
        key_a=new_key(user=user_a, rate_limit=UNTHROTTLED)[1],
        key_b=new_key(user=user_b, rate_limit=UNTHROTTLED)[1],
        machine_key=new_key(created_by=staff, rate_limit=UNTHROTTLED)[1],
    )


@pytest.fixture
def api_world(api_data, db) -> ApiWorld:
    return api_data
