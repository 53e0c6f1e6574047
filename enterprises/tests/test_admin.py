import pytest
from django.urls import reverse

from enterprises.models import Enterprise, FactValue
from enterprises.tests.factories import (
    EnterpriseFactory,
    MembershipFactory,
    ProjectFactory,
    RecognitionFactory,
    UserFactory,
    YearlyFigureFactory,
)

pytestmark = pytest.mark.django_db


def test_admin_pages_and_history_for_every_model(client, fact_catalog):
    enterprise = EnterpriseFactory()
    rows = {
        "enterprise": enterprise,
        "yearlyfigure": YearlyFigureFactory(enterprise=enterprise),
        "recognition": RecognitionFactory(enterprise=enterprise),
        "project": ProjectFactory(enterprise=enterprise),
        "factvalue": FactValue.objects.create(
            enterprise=enterprise, fact=fact_catalog["is_park_developer"], value=True
        ),
        "enterprisemembership": MembershipFactory(enterprise=enterprise),
    }
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for name, row in rows.items():
        for view, args in (("changelist", []), ("change", [row.pk]), ("history", [row.pk])):
            url = reverse(f"admin:enterprises_{name}_{view}", args=args)
            assert client.get(url).status_code == 200, url


def test_admin_edit_bumps_the_version_and_records_the_user(client, fact_catalog):
    enterprise = EnterpriseFactory(name="旧名")
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = reverse("admin:enterprises_enterprise_change", args=[enterprise.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"name": "新名", "industry_tracks": "[]", "industry_subtracks": "[]", "source": "staff"})
    for prefix in ("figures", "recognitions", "projects", "fact_values", "memberships"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    enterprise.refresh_from_db()
    assert (enterprise.name, enterprise.version) == ("新名", 2)
    assert Enterprise.history.filter(id=enterprise.pk).first().history_user == admin_user
