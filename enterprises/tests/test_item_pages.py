"""Items on the enterprise profile: listed by kind with labels, units and money in 万元; added (kind
first), edited (a stale version is refused) and deleted after a confirmation page."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from enterprises import items
from enterprises.models import Item
from enterprises.tests.factories import (
    TEST_ITEM_KIND,
    EnterpriseFactory,
    MembershipFactory,
    UserFactory,
    make_item_kind,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(fact_catalog):
    make_item_kind()
    enterprise = EnterpriseFactory(name="我方企业")
    return enterprise, MembershipFactory(enterprise=enterprise).user


def form(title="一号产线技改", **values):
    return {"title": title, **{f"fact_{code}": value for code, value in values.items()}}


def test_add_an_item_choosing_its_kind_first_money_in_wan(client, company):
    enterprise, user = company
    client.force_login(user)
    kinds = client.get(reverse("enterprises:add_item", kwargs={"pk": enterprise.pk})).content.decode()
    add_url = reverse("enterprises:add_item_of_kind", kwargs={"pk": enterprise.pk, "kind": TEST_ITEM_KIND})
    assert "测试技改项目" in kinds and add_url in kinds
    page = client.get(add_url).content.decode()
    assert "项目总投资（万元）" in page and "改造面积（平方米）" in page and "市级" in page
    response = client.post(
        add_url,
        form(test_upgrade_investment="500", test_upgrade_level="municipal", test_upgrade_done="true"),
    )
    assert response.status_code == 302 and response.url.endswith("#items")
    item = Item.objects.get(enterprise=enterprise)
    assert item.values == {
        "test_upgrade_investment": "5000000",
        "test_upgrade_level": "municipal",
        "test_upgrade_done": True,
    }
    assert item.source == "self_declared" and item.history.first().history_user == user
    profile = client.get(reverse("enterprises:profile", kwargs={"pk": enterprise.pk})).content.decode()
    assert "测试技改项目" in profile and "一号产线技改" in profile
    assert "项目总投资：500 万元" in profile and "项目级别：市级" in profile and "已竣工验收：是" in profile
    assert "municipal" not in profile and "test_upgrade" not in profile


def test_a_bad_value_is_refused_on_its_field(client, company):
    enterprise, user = company
    client.force_login(user)
    url = reverse("enterprises:add_item_of_kind", kwargs={"pk": enterprise.pk, "kind": TEST_ITEM_KIND})
    response = client.post(url, form(test_upgrade_investment="很多", test_upgrade_area="12.5"))
    assert response.status_code == 200 and "应为数值" in response.content.decode()
    assert not Item.objects.exists()
    assert client.get(url.replace(TEST_ITEM_KIND, "no-such-kind")).status_code == 404


def test_edit_shows_the_values_and_refuses_a_stale_version(client, company):
    enterprise, user = company
    item = items.save_item(
        enterprise_id=enterprise.pk,
        kind=TEST_ITEM_KIND,
        title="二号楼改造",
        values={"test_upgrade_investment": "1234500", "test_upgrade_area": "800"},
    )
    client.force_login(user)
    url = reverse("enterprises:edit_item", kwargs={"pk": enterprise.pk, "item_id": item.pk})
    page = client.get(url).content.decode()
    assert 'value="123.45"' in page and 'value="800"' in page and "二号楼改造" in page
    edit = form("二号楼改造", test_upgrade_investment="200", test_upgrade_area="800")
    assert client.post(url, {**edit, "version": item.version}).status_code == 302
    item.refresh_from_db()
    assert item.version == 2 and item.values["test_upgrade_investment"] == "2000000"
    stale = client.post(url, {**edit, "test_upgrade_investment": "1", "version": 1})
    assert stale.status_code == 200 and "该事项已被他人修改" in stale.content.decode()
    item.refresh_from_db()
    assert item.values["test_upgrade_investment"] == "2000000"


def test_delete_after_a_confirmation_page(client, company):
    enterprise, user = company
    item = items.save_item(
        enterprise_id=enterprise.pk,
        kind=TEST_ITEM_KIND,
        title="旧设备淘汰",
        values={"test_upgrade_done": False},
    )
    client.force_login(user)
    url = reverse("enterprises:delete_item", kwargs={"pk": enterprise.pk, "item_id": item.pk})
    page = client.get(url).content.decode()
    assert "确认删除" in page and "测试技改项目：旧设备淘汰 · 已竣工验收 否" in page
    assert client.post(url, {"version": item.version + 1}).status_code == 302  # stale: refused
    assert Item.objects.filter(pk=item.pk).exists()
    assert client.post(url, {"version": item.version}).status_code == 302
    assert not Item.objects.filter(pk=item.pk).exists()


def test_staff_who_may_change_enterprises_edit_items_and_viewers_do_not(client, company):
    enterprise, _user = company
    item = items.save_item(enterprise_id=enterprise.pk, kind=TEST_ITEM_KIND, title="项目", values={})
    url = reverse("enterprises:edit_item", kwargs={"pk": enterprise.pk, "item_id": item.pk})
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_enterprise"))
    client.force_login(viewer)
    assert client.get(url).status_code == 404
    profile = client.get(reverse("enterprises:profile", kwargs={"pk": enterprise.pk})).content.decode()
    assert "项目" in profile and url not in profile
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_enterprise", "change_enterprise"])
    )
    client.force_login(editor)
    assert client.post(url, {**form("项目（工作人员修改）"), "version": item.version}).status_code == 302
    item.refresh_from_db()
    assert item.title == "项目（工作人员修改）" and item.source == "staff"


def test_items_read_in_english(client, company, settings):
    enterprise, user = company
    items.save_item(
        enterprise_id=enterprise.pk,
        kind=TEST_ITEM_KIND,
        title="Line 1",
        values={"test_upgrade_investment": "5000000", "test_upgrade_level": "district"},
    )
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    profile = client.get(reverse("enterprises:profile", kwargs={"pk": enterprise.pk})).content.decode()
    assert "Projects and facilities (support per item)" in profile and "Test upgrade project" in profile
    assert "Project level：District" in profile and "5 million yuan" in profile
    add = client.get(reverse("enterprises:add_item", kwargs={"pk": enterprise.pk})).content.decode()
    assert "Add a project or facility" in add and "测试" not in add
