"""Enterprise pages: each enterprise user sees and edits only its own company."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import URLPattern, reverse

from enterprises import items
from enterprises import urls as enterprise_urls
from enterprises.models import Enterprise, Project, Recognition
from enterprises.tests.factories import (
    TEST_ITEM_KIND,
    EnterpriseFactory,
    MembershipFactory,
    ProjectFactory,
    RecognitionFactory,
    UserFactory,
    make_item_kind,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_companies(fact_catalog):
    ours, theirs = EnterpriseFactory(name="我方企业"), EnterpriseFactory(name="他方企业")
    our_user = MembershipFactory(enterprise=ours).user
    their_user = MembershipFactory(enterprise=theirs).user
    return ours, theirs, our_user, their_user


def enterprise_scoped_patterns() -> list[URLPattern]:
    patterns = [p for p in enterprise_urls.urlpatterns if "pk" in p.pattern.converters]
    assert len(patterns) >= 11  # profile, edit, figures, recognitions, projects, facts, delete, items
    return patterns


def kwargs_for(pattern: URLPattern, enterprise: Enterprise) -> dict:
    kwargs = {"pk": enterprise.pk}
    if "row_pk" in pattern.pattern.converters:
        row = RecognitionFactory(enterprise=enterprise, kind="green_factory", year=2023)
        kwargs |= {"table": "recognitions", "row_pk": row.pk}
    if "kind" in pattern.pattern.converters:
        kwargs["kind"] = make_item_kind()
    if "item_id" in pattern.pattern.converters:
        make_item_kind()
        item = items.save_item(enterprise_id=enterprise.pk, kind=TEST_ITEM_KIND, title="测试项目", values={})
        kwargs["item_id"] = item.pk
    return kwargs


def test_every_enterprise_page_is_404_for_another_companys_user(client, two_companies):
    ours, theirs, our_user, _their_user = two_companies
    client.force_login(our_user)
    for pattern in enterprise_scoped_patterns():
        url = reverse(f"enterprises:{pattern.name}", kwargs=kwargs_for(pattern, theirs))
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {"version": theirs.version, "name": "篡改"}).status_code == 404, url
    theirs.refresh_from_db()
    assert theirs.name == "他方企业" and theirs.recognitions.count() == 1
    assert theirs.items.count() == 2 and set(theirs.items.values_list("title", flat=True)) == {"测试项目"}


def test_own_pages_are_reachable(client, two_companies):
    ours, _theirs, our_user, _their_user = two_companies
    client.force_login(our_user)
    for pattern in enterprise_scoped_patterns():
        if "row_pk" in pattern.pattern.converters:
            continue
        response = client.get(reverse(f"enterprises:{pattern.name}", kwargs=kwargs_for(pattern, ours)))
        assert response.status_code == 200, pattern.name
    assert client.get(reverse("enterprises:index")).url == reverse(
        "enterprises:profile", kwargs={"pk": ours.pk}
    )


def test_cannot_delete_another_companys_row_through_own_enterprise(client, two_companies):
    ours, theirs, our_user, _their_user = two_companies
    row = ProjectFactory(enterprise=theirs, year=2024)
    client.force_login(our_user)
    url = reverse("enterprises:delete_row", kwargs={"pk": ours.pk, "table": "projects", "row_pk": row.pk})
    assert client.post(url, {"version": ours.version}).status_code == 404
    assert Project.objects.filter(pk=row.pk).exists()


def test_anonymous_is_sent_to_login_and_unlinked_users_get_404(client, two_companies):
    ours, *_ = two_companies
    response = client.get(reverse("enterprises:profile", kwargs={"pk": ours.pk}))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    client.force_login(UserFactory())
    assert client.get(reverse("enterprises:profile", kwargs={"pk": ours.pk})).status_code == 404
    assert client.get(reverse("enterprises:index")).status_code == 404


def test_staff_pages_are_forbidden_to_enterprise_users(client, two_companies):
    *_, our_user, _their_user = two_companies
    client.force_login(our_user)
    assert client.get(reverse("enterprises:import")).status_code == 403
    assert client.get(reverse("enterprises:export")).status_code == 403


def test_reviewer_sees_all_but_cannot_edit(client, two_companies):
    ours, theirs, *_ = two_companies
    reviewer = UserFactory(is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="view_enterprise"))
    client.force_login(reviewer)
    assert client.get(reverse("enterprises:profile", kwargs={"pk": theirs.pk})).status_code == 200
    assert client.get(reverse("enterprises:index")).status_code == 200
    assert client.get(reverse("enterprises:edit", kwargs={"pk": theirs.pk})).status_code == 404


def test_profile_shows_facts_with_unknown_marked(client, two_companies):
    ours, _theirs, our_user, _ = two_companies
    RecognitionFactory(enterprise=ours, kind="little_giant", year=2025)
    client.force_login(our_user)
    page = client.get(reverse("enterprises:profile", kwargs={"pk": ours.pk})).content.decode()
    assert "注册或实际经营地在闵行区" in page and "未知" in page
    assert "国家级专精特新“小巨人”企业" in page


def test_edit_basic_facts_and_stale_edit_message(client, two_companies):
    ours, _theirs, our_user, _ = two_companies
    client.force_login(our_user)
    url = reverse("enterprises:edit", kwargs={"pk": ours.pk})
    form = {
        "version": ours.version,
        "name": "我方企业（更名）",
        "district": "闵行区",
        "town": "马桥镇",
        "registered_on": "2016-05-01",
        "industry_code": "3511",
        "industry_tracks": ["high_end_equipment"],
        "industry_subtracks": ["machine_tools"],
        "scale": "medium",
        "is_foreign_invested": "false",
        "above_scale": "true",
        "above_scale_since": "2020",
        "listing_exchange": "none",
        "recognitions_declared": "on",
    }
    response = client.post(url, form)
    assert response.status_code == 302
    ours.refresh_from_db()
    assert (ours.name, ours.scale, ours.above_scale, ours.version) == ("我方企业（更名）", "medium", True, 2)
    assert ours.source == "self_declared" and ours.history.first().history_user == our_user
    stale = client.post(url, {**form, "name": "基于旧版本的修改"})
    assert stale.status_code == 200
    assert "已被他人修改" in stale.content.decode()
    ours.refresh_from_db()
    assert ours.name == "我方企业（更名）"


def test_enterprise_user_cannot_change_the_credit_code(client, two_companies):
    ours, _theirs, our_user, _ = two_companies
    client.force_login(our_user)
    original = ours.credit_code
    client.post(
        reverse("enterprises:edit", kwargs={"pk": ours.pk}),
        {"version": ours.version, "name": ours.name, "credit_code": "914403001922038216"},
    )
    ours.refresh_from_db()
    assert ours.credit_code == original


def test_invalid_input_gets_chinese_messages(client, two_companies):
    ours, _theirs, our_user, _ = two_companies
    client.force_login(our_user)
    url = reverse("enterprises:edit", kwargs={"pk": ours.pk})
    page = client.post(
        url, {"version": ours.version, "name": "X", "industry_code": "9999", "registered_on": "2999-01-01"}
    ).content.decode()
    assert "未知的国民经济行业分类代码" in page and "日期不能晚于今天" in page
    projects = reverse("enterprises:projects", kwargs={"pk": ours.pk})
    page = client.post(
        projects, {"version": ours.version, "kind": "factory_lease", "year": 2025, "area_m2": "-10"}
    ).content.decode()
    assert "不能为负数" in page
    page = client.post(
        projects, {"version": ours.version, "kind": "factory_lease", "year": 2025, "area_m2": "很大"}
    ).content.decode()
    assert "输入一个数字" in page
    assert not Project.objects.filter(enterprise=ours).exists()


def test_add_rows_through_the_pages(client, two_companies):
    ours, _theirs, our_user, _ = two_companies
    client.force_login(our_user)
    kwargs = {"pk": ours.pk}
    client.post(
        reverse("enterprises:figures", kwargs=kwargs),
        {"version": 1, "year": 2025, "output_value": "12000", "employees": "88"},  # 万元
    )
    client.post(
        reverse("enterprises:recognitions", kwargs=kwargs),
        {"version": 2, "kind": "little_giant", "year": 2025, "level": "national", "first_time": "on"},
    )
    client.post(
        reverse("enterprises:projects", kwargs=kwargs),
        {
            "version": 3,
            "kind": "factory_lease",
            "year": 2025,
            "area_m2": "5000",
            "rent_total": "1200.5",  # 万元
            "is_new": "on",
            "self_use": "on",
        },
    )
    client.post(
        reverse("enterprises:fact_values", kwargs=kwargs),
        {"version": 4, "fact": "is_park_developer", "value": "是"},
    )
    ours.refresh_from_db()
    assert ours.version == 5
    assert ours.figures.get(year=2025).output_value == Decimal("120000000")
    assert Recognition.objects.get(enterprise=ours).source == "self_declared"
    assert ours.projects.get().area_m2 == Decimal("5000")
    assert ours.projects.get().rent_total == Decimal("12005000.00")  # typed in 万元, stored in yuan
    assert ours.fact_values.get().value is True
    # the rows read as people write them: labels, 万元, no codes (issue 14, steps 8 and 9)
    figures = client.get(reverse("enterprises:figures", kwargs=kwargs)).content.decode()
    assert "12000 万元" in figures and "120000000" not in figures and "（万元）" in figures
    recognitions = client.get(reverse("enterprises:recognitions", kwargs=kwargs)).content.decode()
    assert "专精特新“小巨人”" in recognitions.split('id="rows"')[1] and ">little_giant" not in recognitions
    projects = client.get(reverse("enterprises:projects", kwargs=kwargs)).content.decode()
    assert "租房总额 1200.5 万元" in projects
    facts = client.get(reverse("enterprises:fact_values", kwargs=kwargs)).content.decode()
    assert "（is_park_developer）" not in facts and "产业园区开发（运营）主体：是" in facts
    # a delete asks first, naming the row; only the confirmation's POST deletes
    delete_url = reverse(
        "enterprises:delete_row", kwargs={**kwargs, "table": "projects", "row_pk": ours.projects.get().pk}
    )
    assert f'href="{delete_url}"' in projects
    confirm = client.get(delete_url)
    assert confirm.status_code == 200 and "确定要删除以下记录吗" in confirm.content.decode()
    assert "租赁工业厂房" in confirm.content.decode() and ours.projects.exists()
    response = client.post(
        reverse(
            "enterprises:delete_row", kwargs={**kwargs, "table": "projects", "row_pk": ours.projects.get().pk}
        ),
        {"version": 5},
    )
    assert response.status_code == 302 and not ours.projects.exists()
