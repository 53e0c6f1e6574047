"""No page rendered for a person shows a catalog code, a choice value or a model field name (issue 14,
step 8): the visible text (text nodes, placeholders, labels, titles) of the main pages of every role is
scanned for every fact code and choice value of fixtures/facts/*.yaml and the field names of the
enterprise and application models. Codes may stay in attributes (form names, option values, ids)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation

from applications import services
from applications.models import Application
from applications.tests.support import with_material
from enterprises.models import Enterprise, EnterpriseMembership, FactValue, Project, Recognition, YearlyFigure
from matching.models import JobRun
from portal.selfcheck.questions import ANSWERS_SESSION_KEY
from portal.tests.test_i18n import segments_of
from tests.browser.support import load_portal

pytestmark = pytest.mark.django_db

# Words that are codes here but ordinary English or Chinese-page vocabulary elsewhere are kept only when
# they could not be mistaken: a code is looked for as a whole token of letters, digits and underscores.
TOKEN = re.compile(r"[A-Za-z0-9_]+")


def catalog_codes() -> set[str]:
    codes: set[str] = set()
    for path in sorted(Path(settings.BASE_DIR, "fixtures", "facts").glob("*.yaml")):
        for fact in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            codes.add(fact["code"])
            codes |= {str(choice["value"]) for choice in fact.get("choices") or []}
    return codes


def field_names() -> set[str]:
    models = (Enterprise, YearlyFigure, Recognition, Project, FactValue, Application, EnterpriseMembership)
    return {field.name for model in models for field in model._meta.get_fields() if "_" in field.name}


def choice_values() -> set[str]:
    """The stored values of every model choice of the portal's apps, and the background job kinds."""
    from django.apps import apps

    from matching.models import JOB_KINDS

    values = set(JOB_KINDS)
    for model in apps.get_models():
        if model._meta.app_label not in {"enterprises", "applications", "matching", "policies", "portal"}:
            continue
        for field in model._meta.get_fields():
            values |= {str(value) for value, _label in getattr(field, "flatchoices", None) or []}
    file_types = {"pdf", "jpeg", "png"}  # attachment kinds: also the extension of every file name shown
    return {value for value in values if TOKEN.fullmatch(value) and not value.isdigit()} - file_types


def shown_codes(response, codes: set[str]) -> set[str]:
    found = set()
    for segment in segments_of(response):
        found |= set(TOKEN.findall(segment)) & codes
    return found


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    portal = load_portal()
    application = services.create_draft(
        actor=portal.enterprise_user,
        enterprise_id=portal.enterprise.pk,
        benefit_id=portal.lease.pk,
        requested_amount=Decimal("5000000"),
        contact_phone="021-64000000",
    )
    application = with_material(portal.enterprise_user, application)
    application = services.submit(
        actor=portal.enterprise_user, application_id=application.pk, expected_version=application.version
    )
    application = services.start_review(
        actor=portal.reviewer, application_id=application.pk, expected_version=application.version
    )
    application = services.return_for_information(
        actor=portal.reviewer,
        application_id=application.pk,
        expected_version=application.version,
        needed="请补充租赁合同。",
    )
    from enterprises.items import save_item

    save_item(
        enterprise_id=portal.enterprise.pk,
        kind="energy_saving_project",
        title="空压机节能改造",
        values={"energy_project_type": "tech_retrofit", "energy_project_investment": "4500000"},
    )
    for kind in ("enterprise_data", "policy", "match", "date", "rerun"):
        JobRun.objects.create(kind=kind, status=JobRun.Status.SUCCEEDED)
    return portal, application


def other_benefit(portal) -> int:
    from policies.models import Benefit

    return (
        Benefit.objects.filter(clause__document=portal.lease.clause.document)
        .exclude(pk=portal.lease.pk)
        .order_by("pk")
        .first()
        .pk
    )


def item_id(portal) -> int:
    return portal.enterprise.items.order_by("pk").first().pk


def pages(portal, application) -> dict[str, list[str]]:
    enterprise = portal.enterprise.pk
    return {
        "anonymous": [
            "/",
            "/policies/",
            "/policies/?q=专精特新",
            "/policies/mh-2024-new-industrialization/",
            "/self-check/",
            "/self-check/step/basic/",
            "/self-check/step/operations/",
            "/self-check/step/recognitions/",
            "/self-check/step/projects/",
            "/self-check/results/",
            "/self-check/register/",
            "/accounts/login/",
            "/accounts/password_reset/",
        ],
        "enterprise": [
            "/applications/dashboard/",
            "/applications/",
            f"/applications/apply/{other_benefit(portal)}/",
            f"/applications/{application.pk}/",
            "/matches/notifications/",
            "/applications/confirmations/",
            f"/enterprises/{enterprise}/",
            f"/enterprises/{enterprise}/edit/",
            f"/enterprises/{enterprise}/figures/",
            f"/enterprises/{enterprise}/recognitions/",
            f"/enterprises/{enterprise}/projects/",
            f"/enterprises/{enterprise}/facts/",
            f"/enterprises/{enterprise}/items/add/",
            f"/enterprises/{enterprise}/items/add/energy_saving_project/",
            f"/enterprises/{enterprise}/items/{item_id(portal)}/edit/",
            f"/enterprises/{enterprise}/items/{item_id(portal)}/delete/",
            "/accounts/password_change/",
        ],
        "reviewer": [
            "/applications/review/",
            f"/applications/review/{application.pk}/",
            f"/applications/review/auto-grant/?benefit={portal.lease.pk}",
            "/applications/review/reports/",
            f"/applications/review/{application.pk}/payouts/",
            "/applications/review/payouts/",
        ],
        "admin": ["/matches/jobs/"],
    }


def test_no_page_shows_a_code_or_a_field_name(world, client):
    portal, application = world
    codes = catalog_codes() | field_names() | choice_values()
    assert {
        "new_factory_lease_area_m2",
        "sh_specialized_sme",
        "tech_center_municipal",
        "output_value",
    } <= codes
    assert {"enterprise_data", "under_review", "self_declared", "pending_recognition"} <= codes
    session = client.session
    session[ANSWERS_SESSION_KEY] = {
        "located_in_minhang": True,
        "is_manufacturing": True,
        "recognitions": ["sh_specialized_sme", "tech_center_municipal"],
        "innovative_drug_device_status": [],
        "new_factory_lease_area_m2": "6000",
        "output_value": "450000000",
    }
    session.save()
    shown: dict[str, set[str]] = {}
    admin = get_user_model().objects.create_superuser("guanliyuan", "a@example.cn", "pw-for-tests-2026")
    users = {"enterprise": portal.enterprise_user, "reviewer": portal.reviewer, "admin": admin}
    with translation.override("zh-hans"):
        for role, urls in pages(portal, application).items():
            if role in users:
                client.force_login(users[role])
            for url in urls:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                found = shown_codes(response, codes)
                if found:
                    shown[url] = found
    assert shown == {}


def test_the_scan_finds_a_code_when_one_is_shown(world, client):
    """The scan itself: a page showing a raw code is caught."""
    portal, _application = world
    assert Recognition.objects.filter(enterprise=portal.enterprise, kind="sh_specialized_sme").exists()
    client.force_login(portal.enterprise_user)
    response = client.get(f"/enterprises/{portal.enterprise.pk}/recognitions/")
    response.content = response.content.replace("上海市专精特新中小企业".encode(), b"sh_specialized_sme")
    assert "sh_specialized_sme" in shown_codes(response, catalog_codes())
