"""Applications keyed by item: a benefit paid per item is applied for one of the enterprise's own items
at a time — two items, two applications; the same item twice, refused; another enterprise's item,
refused — and any other benefit takes no item."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from applications import services
from applications.models import Application
from applications.tests.support import bring_to, draft, fresh, lease_benefit
from enterprises import items as item_services
from enterprises.tests.factories import MembershipFactory, make_item_kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def per_item(world):
    kind = make_item_kind()
    world.benefit = lease_benefit(name="技术改造项目补贴", per_item=kind)

    def item(enterprise, title):
        return item_services.save_item(
            enterprise_id=enterprise.pk, kind=kind, title=title, values={"test_upgrade_investment": "3000000"}
        )

    return item


def test_two_items_give_two_applications_and_the_same_item_twice_is_refused(world, per_item):
    first, second = per_item(world.enterprise, "一号产线改造"), per_item(world.enterprise, "二号产线改造")
    one = draft(world, item_id=first.pk)
    two = draft(world, item_id=second.pk)
    assert (fresh(one).item, fresh(two).item) == (first, second)
    with pytest.raises(services.DuplicateApplication) as refused:
        draft(world, item_id=first.pk)
    assert "一号产线改造" in refused.value.messages[0] and "只能申报一次" in refused.value.messages[0]
    assert Application.objects.filter(item=first).count() == 1


def test_an_approved_item_is_paid_once_and_a_withdrawn_one_may_apply_again(world, per_item):
    first = per_item(world.enterprise, "一号产线改造")
    approved = bring_to(world, "approved", draft(world, item_id=first.pk))
    assert approved.state == "approved"
    with pytest.raises(services.DuplicateApplication):
        draft(world, item_id=first.pk)
    second = per_item(world.enterprise, "二号产线改造")
    withdrawn = bring_to(world, "withdrawn", draft(world, item_id=second.pk))
    assert withdrawn.state == "withdrawn"
    assert draft(world, item_id=second.pk).item == second


def test_the_database_refuses_a_second_open_application_for_one_item(world, per_item):
    first = per_item(world.enterprise, "一号产线改造")
    one = draft(world, item_id=first.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(enterprise=one.enterprise, benefit=one.benefit, item=first)


def test_another_enterprises_item_is_refused(world, per_item):
    theirs = per_item(world.other_enterprise, "乙公司的产线")
    with pytest.raises(services.ApplicationError) as refused:
        draft(world, item_id=theirs.pk)
    assert "不是贵企业的" in refused.value.message_dict["item"][0]
    assert not Application.objects.exists()


def test_an_item_is_required_for_a_per_item_benefit_and_refused_for_others(world, per_item):
    mine = per_item(world.enterprise, "一号产线改造")
    with pytest.raises(services.ApplicationError) as missing:
        draft(world)
    assert "请选择申报的" in missing.value.message_dict["item"][0]
    plain = lease_benefit()
    with pytest.raises(services.ApplicationError) as unexpected:
        services.create_draft(
            actor=world.user, enterprise_id=world.enterprise.pk, benefit_id=plain.pk, item_id=mine.pk
        )
    assert "不按项目申报" in unexpected.value.message_dict["item"][0]


def test_the_apply_page_offers_only_the_enterprises_own_items(world, per_item, client):
    mine = per_item(world.enterprise, "一号产线改造")
    theirs = per_item(world.other_enterprise, "乙公司的产线")
    client.force_login(world.user)
    url = reverse("applications:apply", args=[world.benefit.pk])
    page = client.get(url).content.decode()
    assert "一号产线改造" in page and "乙公司的产线" not in page and 'name="item"' in page
    # posting another enterprise's item id: refused by the form, nothing written
    response = client.post(url, {"item": theirs.pk})
    assert response.status_code == 400 and not Application.objects.exists()
    response = client.post(url, {"item": mine.pk})
    assert response.status_code == 302
    application = Application.objects.get()
    assert application.item == mine
    detail = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert "一号产线改造" in detail
    # the reviewer sees the item too (once submitted)
    bring_to(world, "submitted", application)
    client.force_login(world.reviewer)
    review = client.get(reverse("applications:review_detail", args=[application.pk])).content.decode()
    assert "一号产线改造" in review


def test_an_item_applied_for_cannot_be_deleted(world, per_item):
    from django.core.exceptions import ValidationError

    first = per_item(world.enterprise, "一号产线改造")
    draft(world, item_id=first.pk)
    with pytest.raises(ValidationError) as refused:
        item_services.delete_item(enterprise_id=world.enterprise.pk, item_id=first.pk)
    assert "已有申报记录" in refused.value.messages[0]
    assert world.enterprise.items.filter(pk=first.pk).exists()


def test_the_auto_grant_list_of_a_per_item_benefit_lists_enterprise_item_pairs(world):
    from django.utils import timezone

    from applications import selectors
    from applications.tests.support import lessee

    kind = make_item_kind()
    condition = {
        "all": [
            *lease_benefit().condition["all"],
            {
                "fact": "test_upgrade_investment",
                "op": "gte",
                "value": 1000000,
                "quote": "对新租赁自用工业厂房",
            },
        ]
    }
    world.benefit = lease_benefit(name="技术改造项目补贴", per_item=kind, condition=condition)
    register = lessee(name="上海登记甲有限公司", source="register")

    def item(title, investment, source="register"):
        return item_services.save_item(
            enterprise_id=register.pk,
            kind=kind,
            title=title,
            values={"test_upgrade_investment": investment},
            source=source,
        )

    big, _small, _declared = (
        item("大项目", "3000000"),
        item("小项目", "500000"),
        item("自报项目", "9000000", "self_declared"),
    )
    other_big = item("二号大项目", "2000000")
    rows = selectors.auto_grant_list(world.benefit, timezone.localdate()).rows
    assert [(row.enterprise.name, [entry.title for entry in row.items]) for row in rows] == [
        ("上海登记甲有限公司", ["大项目", "二号大项目"])
    ]
    # an item applied for leaves the list; the enterprise's other item stays
    services.create_draft(
        actor=MembershipFactory(enterprise=register).user,
        enterprise_id=register.pk,
        benefit_id=world.benefit.pk,
        item_id=big.pk,
    )
    rows = selectors.auto_grant_list(world.benefit, timezone.localdate()).rows
    assert [[entry.item_id for entry in row.items] for row in rows] == [[other_big.pk]]
