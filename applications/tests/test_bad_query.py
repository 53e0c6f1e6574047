"""Malformed query and form parameters are a 400 with a message, never a 500 or a query with a NUL."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from applications import services
from applications.tests.support import draft, reviewer_user
from enterprises.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    from django.contrib.auth.models import Permission

    user = UserFactory(username="staff-q", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename="view_enterprise"))
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("enterprises:index", {"q": "\x00"}),
        ("enterprises:export", {"q": "a\x00b"}),
        ("enterprises:export", {"year": "²"}),
        ("enterprises:export", {"year": "12345"}),
        ("enterprises:export", {"format": "exe"}),
    ],
)
def test_enterprise_pages_refuse_bad_parameters(staff_client, url, params):
    response = staff_client.get(reverse(url), params)
    assert response.status_code == 400
    assert "请求参数无效" in response.content.decode()


def test_good_parameters_still_work(staff_client):
    assert staff_client.get(reverse("enterprises:index"), {"q": "上海"}).status_code == 200
    assert (
        staff_client.get(reverse("enterprises:export"), {"year": "2025", "format": "csv"}).status_code == 200
    )


@pytest.mark.parametrize(
    "params", [{"benefit": "²"}, {"benefit": "-1"}, {"as_of": "2026-02-30"}, {"as_of": "\x00"}]
)
def test_the_auto_grant_page_refuses_bad_parameters(world, client, params):
    client.force_login(reviewer_user("reviewer-q"))
    response = client.get(reverse("applications:auto_grant"), params)
    assert response.status_code == 400 and "请求参数无效" in response.content.decode()
    assert client.get(reverse("applications:auto_grant"), {"as_of": "2026-02-28"}).status_code == 200


@pytest.mark.parametrize("chosen", ["²", "", "x", "\x00"])
def test_detach_with_a_bad_attachment_id_is_a_400_and_removes_nothing(world, client, chosen):
    application = draft(world)
    services.add_attachment(
        actor=world.user, application_id=application.pk, upload=SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")
    )
    client.force_login(world.user)
    url = reverse("applications:detail", args=[application.pk])
    response = client.post(url, {"action": "detach", "attachment": chosen})
    assert response.status_code == 400
    assert application.attachments.count() == 1
