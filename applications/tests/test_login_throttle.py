"""Login protection (django-axes, portal/auth.py): LOGIN_FAILURE_LIMIT failures for a username at an
address, or from an address over any usernames, lock further attempts for the cool-off period; the
address is proxy-aware; lockouts are rows staff see and lift in admin; password resets are throttled."""

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from applications.tests.support import PASSWORD
from enterprises.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def attempt(client, username, password, ip="10.0.0.1", **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **headers
    )


def test_five_failures_lock_the_username_on_that_address(client):
    UserFactory(username="zhangsan")
    for _ in range(4):
        response = attempt(client, "zhangsan", "wrong")
        assert response.status_code == 200
        assert "登录失败次数过多" not in response.content.decode()
    assert attempt(client, "zhangsan", "wrong").status_code == 429  # the fifth failure locks
    locked = attempt(client, "zhangsan", PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试。" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert attempt(client, " ZhangSan", "wrong").status_code == 429  # case and spaces do not get round it
    # another address is not locked: nobody can lock a user out from everywhere
    assert attempt(client, "zhangsan", PASSWORD, ip="10.0.0.2").status_code == 302


def test_many_usernames_from_one_address_are_throttled_too(client):
    """Password spraying: one password over many usernames from one address."""
    UserFactory(username="target")
    codes = [attempt(client, f"user{n}", "Spring2026!", ip="10.9.9.9").status_code for n in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
    assert attempt(client, "target", PASSWORD, ip="10.9.9.9").status_code == 429
    assert attempt(client, "target", PASSWORD, ip="10.9.9.10").status_code == 302


def test_a_success_resets_the_count(client):
    UserFactory(username="wangwu")
    for _ in range(4):
        attempt(client, "wangwu", "wrong")
    assert attempt(client, "wangwu", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "wangwu", "wrong", ip="10.0.0.7")
    assert attempt(client, "wangwu", PASSWORD, ip="10.0.0.7").status_code == 302


def test_the_lock_ends_after_the_cool_off_and_staff_see_it_in_admin(client, admin_client):
    UserFactory(username="zhaoliu")
    for _ in range(5):
        attempt(client, "zhaoliu", "wrong")
    assert attempt(client, "zhaoliu", PASSWORD).status_code == 429
    page = admin_client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert "zhaoliu" in page and "10.0.0.1" in page
    # what the clock does when the 15 minutes pass
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    assert attempt(client, "zhaoliu", PASSWORD).status_code == 302


def test_behind_trusted_proxies_each_client_has_its_own_count(client, settings):
    """With one proxy, REMOTE_ADDR is the proxy for everyone: the client is X-Forwarded-For's last
    entry, and what a client put before it is not believed."""
    settings.TRUSTED_PROXY_COUNT = 1
    UserFactory(username="qianba")
    proxy = "172.20.0.2"
    for _ in range(5):
        attempt(client, "qianba", "wrong", ip=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")
    assert (
        attempt(client, "qianba", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    )
    # another client behind the same proxy is not locked, whatever it forges in front
    other = attempt(client, "qianba", PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5, 198.51.100.9")
    assert other.status_code == 302


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client):
    UserFactory(username="sunqi")
    for n in range(5):  # a new forged address each time does not reset anything
        attempt(client, "sunqi", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert attempt(client, "sunqi", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.77").status_code == 429


def test_password_reset_mails_are_throttled_per_address_and_per_email(client, settings, mailoutbox):
    from django.core.cache import cache

    cache.clear()
    settings.PASSWORD_RESET_LIMIT = 2
    UserFactory(username="reset-me", email="reset@example.cn")
    url = reverse("password_reset")
    codes = [
        client.post(url, {"email": "reset@example.cn"}, REMOTE_ADDR=f"10.1.0.{n}").status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]  # the e-mail address, from three addresses
    assert len(mailoutbox) == 2
    codes = [
        client.post(url, {"email": f"x{n}@example.cn"}, REMOTE_ADDR="10.2.0.1").status_code for n in range(3)
    ]
    assert codes == [302, 302, 429]  # one address, three e-mail addresses
    cache.clear()
