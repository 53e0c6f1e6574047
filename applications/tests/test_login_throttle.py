"""Login throttling: 5 failures per username and IP address within 15 minutes lock further attempts."""

import pytest
from django.urls import reverse

from applications.tests.support import PASSWORD
from enterprises.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def attempt(client, username, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_username_on_that_address(client):
    user = UserFactory(username="zhangsan")
    for _ in range(5):
        response = attempt(client, "zhangsan", "wrong")
        assert response.status_code == 200
        assert "登录失败次数过多" not in response.content.decode()
    locked = attempt(client, "zhangsan", PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试。" in locked.content.decode()
    assert "_auth_user_id" not in client.session

    assert attempt(client, " ZhangSan", "wrong").status_code == 429  # case and spaces do not get round it
    # another address, or another username from the same address, is not locked
    assert attempt(client, "zhangsan", PASSWORD, ip="10.0.0.2").status_code == 302
    client.logout()
    other = UserFactory(username="lisi")
    assert attempt(client, "lisi", PASSWORD).status_code == 302
    assert int(client.session["_auth_user_id"]) == other.pk
    assert user.pk != other.pk


def test_a_success_resets_the_count(client):
    UserFactory(username="wangwu")
    for _ in range(4):
        attempt(client, "wangwu", "wrong")
    assert attempt(client, "wangwu", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, "wangwu", "wrong")
    assert attempt(client, "wangwu", PASSWORD).status_code == 302


def test_the_lock_ends_when_the_window_expires(client, settings):
    from django.core.cache import cache

    from portal.auth import throttle_key

    UserFactory(username="zhaoliu")
    for _ in range(5):
        attempt(client, "zhaoliu", "wrong")
    assert attempt(client, "zhaoliu", PASSWORD).status_code == 429
    cache.delete(throttle_key("zhaoliu", "10.0.0.1"))  # what the cache does when the 15 minutes pass
    assert attempt(client, "zhaoliu", PASSWORD).status_code == 302


def test_the_limit_and_window_are_settings(client, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_FAILURE_WINDOW = 60
    UserFactory(username="sunqi")
    attempt(client, "sunqi", "wrong")
    attempt(client, "sunqi", "wrong")
    locked = attempt(client, "sunqi", PASSWORD)
    assert locked.status_code == 429 and "请 1 分钟后再试" in locked.content.decode()
