"""What a new user meets around the pages (issue 14, steps 9 and 12): a login that lands where the
person works, register and password pages in the portal's look, Chinese error pages with DEBUG off,
a favicon, the admin named as the portal with caps in 万元."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import override_settings
from django.urls import path

from applications.tests.support import reviewer_user
from enterprises.tests.factories import MembershipFactory, UserFactory
from policies.tests.factories import BenefitFactory

pytestmark = pytest.mark.django_db
PASSWORD = "lianhe-zhengce-2026"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client, user) -> object:
    user.set_password(PASSWORD)
    user.save()
    return client.post("/accounts/login/", {"username": user.get_username(), "password": PASSWORD})


def landing_of(client, response) -> str:
    assert response.status_code == 302
    return client.get(response["Location"])["Location"]


def test_login_lands_on_the_dashboard_or_the_review_queue(client):
    member = MembershipFactory().user
    assert landing_of(client, log_in(client, member)) == "/applications/dashboard/"
    client.logout()
    assert landing_of(client, log_in(client, reviewer_user("shenhe"))) == "/applications/review/"
    client.logout()
    nobody = UserFactory()
    assert landing_of(client, log_in(client, nobody)) == "/"


def test_home_and_login_pages_link_to_registration_and_password_recovery(client):
    home = client.get("/").content.decode()
    assert 'id="home-register" href="/self-check/register/"' in home
    login = client.get("/accounts/login/").content.decode()
    assert '<a href="/self-check/register/" id="register-link">' in login
    assert '<a href="/accounts/password_reset/" id="forgot-password">' in login
    assert 'class="field' in login and "css/portal.css" in login  # the portal's own form look


def test_password_change_and_reset_are_in_the_portals_look_and_work(client):
    user = MembershipFactory(user__email="wang@example.cn").user
    log_in(client, user)
    page = client.get("/accounts/password_change/").content.decode()
    assert "修改密码" in page and "闵行区产业政策匹配平台" in page and "Django" not in page
    assert "admin/css" not in page  # not the admin's branding
    done = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "xin-mima-2026-ok", "new_password2": "xin-mima-2026-ok"},
        follow=True,
    )
    assert "密码已修改" in done.content.decode()
    client.logout()
    reset = client.post("/accounts/password_reset/", {"email": "wang@example.cn"}, follow=True)
    assert "重设链接已发送" in reset.content.decode() and "admin/css" not in reset.content.decode()
    assert mail.outbox and "重设密码" in mail.outbox[0].subject
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
    confirm = client.get(link, follow=True)
    assert "设置新密码" in confirm.content.decode() and "Django" not in confirm.content.decode()


def boom(request):
    raise RuntimeError("test failure")


def forbidden(request):
    raise PermissionDenied


urlpatterns_with_errors = [path("boom/", boom), path("forbidden/", forbidden)]


class ErrorUrls:
    from portal.urls import urlpatterns as portal_patterns

    urlpatterns = [*urlpatterns_with_errors, *portal_patterns]


@override_settings(DEBUG=False, ROOT_URLCONF=ErrorUrls)
@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/no-such-page/", 404, "页面不存在"),
        ("/forbidden/", 403, "没有访问权限"),
        ("/boom/", 500, "系统繁忙"),
    ],
)
def test_error_pages_are_chinese_in_the_portals_look_with_debug_off(client, url, status, words):
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code == status
    html = response.content.decode()
    assert words in html and "闵行区产业政策匹配平台" in html and "css/portal.css" in html
    assert "Forbidden" not in html and "Not Found" not in html and "Server Error" not in html
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert words not in english and (
        "Page not found" in english or "permission" in english or "went wrong" in english
    )


def test_a_staff_page_refused_to_an_enterprise_user_is_the_chinese_403(client):
    log_in(client, MembershipFactory().user)
    with override_settings(DEBUG=False):
        response = client.get("/applications/review/")
    assert response.status_code in (403, 404)
    assert "Forbidden" not in response.content.decode()


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"
    assert 'rel="icon"' in client.get("/").content.decode()


def test_the_admin_is_named_as_the_portal_and_shows_caps_in_wan(client):
    admin = get_user_model().objects.create_superuser("policy-admin", "a@example.cn", PASSWORD)
    client.force_login(admin)
    BenefitFactory(name="新租赁自用工业厂房补贴", cap=Decimal("10000000"))
    index = client.get("/admin/").content.decode()
    assert "闵行区产业政策匹配平台 · 管理后台" in index and "Django 管理" not in index
    listing = client.get("/admin/policies/benefit/").content.decode()
    assert "金额上限（万元）" in listing and ">1000<" in listing and "10000000" not in listing
