"""Self-registration goes to staff confirmation (issue 16, Build 7): a new enterprise is unverified
until staff confirm it (no submission, no API key), a credit code another enterprise holds makes a
claim (no second enterprise, the holder not named), staff confirm or reject on a permission-checked,
audited page, and registration POSTs are throttled per client address and per credit code."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from enterprises import verification
from enterprises.models import Enterprise, EnterpriseMembership, RegistrationClaim
from enterprises.tests.factories import EnterpriseFactory, MembershipFactory, UserFactory
from enterprises.validators import credit_code_for
from policies.loader import catalog_paths, load_files
from portal.api.services import issue_api_key
from portal.roles import ensure_roles
from portal.tests.selfcheck_support import text_of

CODE = credit_code_for(515151)
PASSWORD = "lianhe-zhengce-2026"
PAGE = "/enterprises/registrations/"


@pytest.fixture(scope="module")
def catalog_loaded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        _reports, errors = load_files(catalog_paths())
        assert not errors
        yield
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def form(**overrides) -> dict:
    return {
        "username": "claimant",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "enterprise_name": "上海某某精密制造有限公司",
        "credit_code": CODE,
    } | overrides


@pytest.fixture
def verifier(db):
    user = UserFactory(username="verifier", is_staff=True)
    user.groups.add(ensure_roles()["reviewer"])
    return user


# --- a new registration is unverified ------------------------------------------------------------


@pytest.mark.django_db
def test_a_self_registered_enterprise_is_unverified_and_gets_no_api_key(catalog_loaded, client):
    response = client.post("/self-check/register/", form(), follow=True)
    assert response.redirect_chain == [("/applications/dashboard/", 302)]
    assert "工作人员核实登记后即可提交申报" in text_of(response)
    enterprise = Enterprise.objects.get(credit_code=CODE)
    assert enterprise.verification == Enterprise.Verification.PENDING and not enterprise.is_verified
    assert enterprise.history.first().verification == "pending"  # audited from its first row
    user = get_user_model().objects.get(username="claimant")
    with pytest.raises(ValidationError, match="核实通过前不能发放 API 密钥"):
        issue_api_key(name="脚本", scopes=["read_matches"], created_by=None, user=user)
    with pytest.raises(ValidationError, match="核实通过前不能发放 API 密钥"):
        issue_api_key(name="银行", scopes=["read_matches"], created_by=None, enterprise_ids=[enterprise.pk])
    # its own pages still work: profile and self-check
    assert client.get(f"/enterprises/{enterprise.pk}/").status_code == 200
    assert client.get("/self-check/").status_code == 200


@pytest.mark.django_db
def test_the_admin_refuses_a_key_for_an_unverified_enterprise_on_the_form(db):
    from portal.admin import ApiKeyForm

    pending = EnterpriseFactory(verification=Enterprise.Verification.PENDING)
    user = MembershipFactory(enterprise=pending).user
    for data in ({"user": user.pk}, {"enterprises": [pending.pk]}):
        form = ApiKeyForm(data={"name": "脚本", "scopes": ["read_matches"], **data})
        assert not form.is_valid() and "核实通过前不能发放 API 密钥" in str(form.errors["user"])
    verified = EnterpriseFactory()
    assert ApiKeyForm(
        data={"name": "银行", "scopes": ["read_matches"], "enterprises": [verified.pk]}
    ).is_valid()


@pytest.mark.django_db
def test_staff_created_enterprises_are_verified(db):
    assert EnterpriseFactory().verification == Enterprise.Verification.VERIFIED


# --- a claimed code makes a claim ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("state", [Enterprise.Verification.VERIFIED, Enterprise.Verification.PENDING])
def test_a_code_another_enterprise_holds_makes_a_claim_and_reveals_nothing(catalog_loaded, client, state):
    holder = EnterpriseFactory(credit_code=CODE, name="上海真实精密有限公司", verification=state)
    MembershipFactory(enterprise=holder, user__username="holder_admin")
    response = client.post("/self-check/register/", form(), follow=True)
    page = text_of(response)
    assert "已有企业登记，已提交工作人员核实" in page
    assert holder.name not in page and "holder_admin" not in page
    assert Enterprise.objects.filter(credit_code=CODE).count() == 1  # no second enterprise
    claimant = get_user_model().objects.get(username="claimant")
    assert not EnterpriseMembership.objects.filter(user=claimant).exists()  # acts for nobody yet
    claim = RegistrationClaim.objects.get(user=claimant)
    assert (
        claim.enterprise == holder
        and claim.state == "pending"
        and claim.claimed_name == "上海某某精密制造有限公司"
    )
    assert client.get(f"/enterprises/{holder.pk}/").status_code == 404


# --- staff confirm and reject -------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_confirm_a_registration_audited(catalog_loaded, client, verifier):
    client.post("/self-check/register/", form())
    enterprise = Enterprise.objects.get(credit_code=CODE)
    client.force_login(verifier)
    page = text_of(client.get(PAGE))
    assert enterprise.name in page and "claimant" in page
    response = client.post(
        PAGE, {"kind": "registration", "id": enterprise.pk, "decision": "confirm"}, follow=True
    )
    assert "企业登记已核实通过" in text_of(response)
    enterprise.refresh_from_db()
    assert enterprise.is_verified and enterprise.verified_by == verifier and enterprise.verified_at
    latest = enterprise.history.first()
    assert latest.history_user == verifier and latest.verification == "verified"
    # a second click changes nothing
    response = client.post(
        PAGE, {"kind": "registration", "id": enterprise.pk, "decision": "reject"}, follow=True
    )
    assert "该企业登记已处理" in text_of(response)
    enterprise.refresh_from_db()
    assert enterprise.is_verified


@pytest.mark.django_db
def test_staff_reject_a_registration(catalog_loaded, client, verifier):
    client.post("/self-check/register/", form())
    enterprise = Enterprise.objects.get(credit_code=CODE)
    client.force_login(verifier)
    client.post(PAGE, {"kind": "registration", "id": enterprise.pk, "decision": "reject"})
    enterprise.refresh_from_db()
    assert enterprise.verification == "rejected" and enterprise.verified_by == verifier
    assert "未通过工作人员核实" in verification.unverified_reason(enterprise)
    assert "没有待核实的新登记" in text_of(client.get(PAGE))  # no longer pending


@pytest.mark.django_db
def test_staff_reopen_a_rejected_registration_and_then_confirm_it(catalog_loaded, client, verifier):
    client.post("/self-check/register/", form())
    enterprise = Enterprise.objects.get(credit_code=CODE)
    client.force_login(verifier)
    client.post(PAGE, {"kind": "registration", "id": enterprise.pk, "decision": "reject"})
    page = text_of(client.get(PAGE))
    assert "最近驳回的登记" in page and enterprise.name in page
    response = client.post(
        PAGE, {"kind": "registration", "id": enterprise.pk, "decision": "reopen"}, follow=True
    )
    assert "该登记已退回待核实列表" in text_of(response)
    enterprise.refresh_from_db()
    assert enterprise.verification == "pending" and enterprise.verified_by is None
    assert [row.verification for row in enterprise.history.all()[:2]] == ["pending", "rejected"]
    assert enterprise.history.first().history_user == verifier
    assert "尚待工作人员核实" in verification.unverified_reason(enterprise)
    # reopening what is not rejected changes nothing
    response = client.post(
        PAGE, {"kind": "registration", "id": enterprise.pk, "decision": "reopen"}, follow=True
    )
    assert "只有已驳回的登记可以重新核实" in text_of(response)
    verification.confirm_registration(actor=verifier, enterprise_id=enterprise.pk)
    with pytest.raises(ValidationError):
        verification.reopen_registration(actor=verifier, enterprise_id=enterprise.pk)
    enterprise.refresh_from_db()
    assert enterprise.is_verified


@pytest.mark.django_db
def test_a_claim_cannot_be_reopened(catalog_loaded, client, verifier):
    EnterpriseFactory(credit_code=CODE)
    client.post("/self-check/register/", form())
    claim = RegistrationClaim.objects.get()
    verification.reject_claim(actor=verifier, claim_id=claim.pk)
    client.force_login(verifier)
    response = client.post(PAGE, {"kind": "claim", "id": claim.pk, "decision": "reopen"}, follow=True)
    assert "操作无效" in text_of(response)
    claim.refresh_from_db()
    assert claim.state == "rejected"


@pytest.mark.django_db
def test_staff_confirm_a_claim_links_the_claimant(catalog_loaded, client, verifier):
    holder = EnterpriseFactory(credit_code=CODE)
    MembershipFactory(enterprise=holder)
    client.post("/self-check/register/", form())
    claim = RegistrationClaim.objects.get()
    staff = client.__class__()
    staff.force_login(verifier)
    response = staff.post(PAGE, {"kind": "claim", "id": claim.pk, "decision": "confirm"}, follow=True)
    assert "认领已确认" in text_of(response)
    claim.refresh_from_db()
    assert claim.state == "confirmed" and claim.decided_by == verifier
    assert claim.history.first().history_user == verifier
    membership = EnterpriseMembership.objects.get(user=claim.user)
    assert membership.enterprise == holder and membership.role == "member"
    assert client.get(f"/enterprises/{holder.pk}/").status_code == 200  # the claimant now sees it


@pytest.mark.django_db
def test_a_confirmed_claim_fills_only_what_the_profile_lacks_from_the_claimants_answers(
    catalog_loaded, client, verifier
):
    """The claimant's self-check answers are kept on the claim (staff see what they are about) and,
    on confirmation, fill the gaps of the enterprise's profile; nothing already stated changes."""
    from enterprises.models import Project, Recognition, YearlyFigure
    from enterprises.tests.factories import YearlyFigureFactory
    from portal.selfcheck.questions import ANSWERS_SESSION_KEY

    holder = EnterpriseFactory(credit_code=CODE, scale=Enterprise.Scale.MEDIUM, is_foreign_invested=False)
    last_year = timezone.localdate().year - 1
    YearlyFigureFactory(enterprise=holder, year=last_year, output_value=Decimal("80000000"), employees=None)
    session = client.session
    session[ANSWERS_SESSION_KEY] = {
        "enterprise_scale": "small",  # stated as medium: kept
        "is_foreign_invested": True,  # stated as no: kept
        "output_value": "450000000",  # stated: kept
        "employees": 120,  # not stated: filled
        "recognitions": ["sh_specialized_sme"],  # none recorded: filled
        "new_factory_lease_area_m2": "5000",  # no lease project: filled
        "rent_total": "10000000",
    }
    session.save()
    client.post("/self-check/register/", form())
    claim = RegistrationClaim.objects.get()
    assert claim.answers["employees"] == 120 and claim.answers_as_of == timezone.localdate()

    staff = client.__class__()
    staff.force_login(verifier)
    page = text_of(staff.get(PAGE))
    assert "附政策计算器回答 7 项" in page and "只补充企业资料中尚未填写的项" in page
    staff.post(PAGE, {"kind": "claim", "id": claim.pk, "decision": "confirm"})

    holder.refresh_from_db()
    assert holder.scale == "medium" and holder.is_foreign_invested is False
    figure = YearlyFigure.objects.get(enterprise=holder, year=last_year)
    assert figure.output_value == Decimal("80000000") and figure.employees == 120
    recognition = Recognition.objects.get(enterprise=holder)
    assert recognition.kind == "sh_specialized_sme" and recognition.source == "self_declared"
    lease = Project.objects.get(enterprise=holder, kind=Project.Kind.FACTORY_LEASE)
    assert lease.area_m2 == Decimal("5000") and lease.rent_total == Decimal("10000000")
    assert figure.history.first().history_user == claim.user  # declared by the claimant


@pytest.mark.django_db
@pytest.mark.parametrize("already_listed", [False, True])
def test_a_confirmed_claims_project_answers_add_an_item_only_to_an_empty_list(
    catalog_loaded, client, verifier, already_listed
):
    from enterprises import items as item_services
    from enterprises.models import Item
    from portal.selfcheck.questions import ANSWERS_SESSION_KEY

    holder = EnterpriseFactory(credit_code=CODE)
    if already_listed:
        item_services.save_item(
            enterprise_id=holder.pk,
            kind="tech_upgrade_project",
            title="一号产线技改",
            values={"tech_project_level": "municipal"},
        )
    session = client.session
    session[ANSWERS_SESSION_KEY] = {
        "tech_project_level": "district",
        "tech_project_new_equipment_investment": "5000000",
    }
    session.save()
    client.post("/self-check/register/", form())
    verification.confirm_claim(actor=verifier, claim_id=RegistrationClaim.objects.get().pk)
    (item,) = Item.objects.filter(enterprise=holder, kind="tech_upgrade_project")
    if already_listed:
        assert item.title == "一号产线技改" and item.values == {"tech_project_level": "municipal"}
    else:
        assert item.values["tech_project_level"] == "district"


@pytest.mark.django_db
def test_a_rejected_claim_writes_none_of_its_answers(catalog_loaded, client, verifier):
    from enterprises.models import Recognition
    from portal.selfcheck.questions import ANSWERS_SESSION_KEY

    holder = EnterpriseFactory(credit_code=CODE)
    session = client.session
    session[ANSWERS_SESSION_KEY] = {"recognitions": ["sh_specialized_sme"]}
    session.save()
    client.post("/self-check/register/", form())
    verification.reject_claim(actor=verifier, claim_id=RegistrationClaim.objects.get().pk)
    assert not Recognition.objects.filter(enterprise=holder).exists()


@pytest.mark.django_db
def test_staff_reject_a_claim(catalog_loaded, client, verifier):
    holder = EnterpriseFactory(credit_code=CODE)
    client.post("/self-check/register/", form())
    claim = RegistrationClaim.objects.get()
    verification.reject_claim(actor=verifier, claim_id=claim.pk)
    claim.refresh_from_db()
    assert claim.state == "rejected" and claim.decided_by == verifier
    assert not EnterpriseMembership.objects.filter(user=claim.user).exists()
    assert client.get(f"/enterprises/{holder.pk}/").status_code == 404


# --- permission ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_page_and_the_decisions_need_the_permission(catalog_loaded, client):
    client.post("/self-check/register/", form())  # the registrant itself: logged in, no permission
    enterprise = Enterprise.objects.get(credit_code=CODE)
    decision = {"kind": "registration", "id": enterprise.pk, "decision": "confirm"}
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, decision).status_code == 403
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    assert client.post(PAGE, decision).status_code == 403
    with pytest.raises(PermissionDenied):
        verification.confirm_registration(actor=clerk, enterprise_id=enterprise.pk)
    with pytest.raises(PermissionDenied):
        verification.reopen_registration(actor=clerk, enterprise_id=enterprise.pk)
    client.logout()
    assert client.get(PAGE).status_code == 302  # to the login page
    enterprise.refresh_from_db()
    assert enterprise.verification == "pending"


# --- throttle -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_registration_posts_are_throttled_per_address(catalog_loaded, client, settings):
    """Before: 20 codes registered in 65 s from one address. Now: the sixth POST in the window is a 429."""
    settings.REGISTRATION_LIMIT = 5
    statuses = []
    for number in range(7):
        client.logout()
        code = credit_code_for(600000 + number)
        statuses.append(
            client.post("/self-check/register/", form(username=f"u{number}", credit_code=code)).status_code
        )
    assert statuses[:5] == [302] * 5 and statuses[5:] == [429, 429]
    assert Enterprise.objects.count() == 5
    refused = client.post("/self-check/register/", form(username="late", credit_code=credit_code_for(9)))
    assert refused.status_code == 429 and "登记请求过多" in text_of(refused)
    other = client.__class__(REMOTE_ADDR="10.9.9.9")
    assert (
        other.post(
            "/self-check/register/", form(username="elsewhere", credit_code=credit_code_for(10))
        ).status_code
        == 302
    )


@pytest.mark.django_db
def test_registration_posts_are_throttled_per_credit_code(catalog_loaded, settings):
    settings.REGISTRATION_LIMIT = 3
    from django.test import Client

    statuses = [
        Client(REMOTE_ADDR=f"10.0.0.{n}")
        .post("/self-check/register/", form(username=f"c{n}", password2="x"))
        .status_code
        for n in range(5)
    ]
    assert statuses == [400, 400, 400, 429, 429]  # bad forms count too: guessing costs attempts
    late = Client(REMOTE_ADDR="10.0.1.1").post("/self-check/register/", form(credit_code=CODE.lower()))
    assert late.status_code == 429 and not Enterprise.objects.exists()
