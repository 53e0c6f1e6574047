"""Per-item stored results: a per-item benefit keeps one MatchItemResult per (enterprise, benefit, item)
beside the pair's aggregate MatchResult, written alike by the single-enterprise and the bulk path, and
kept in step when an item is added, edited or deleted."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from enterprises import items as item_services
from enterprises.models import Enterprise
from matching import services
from matching.models import MatchItemResult, MatchResult
from matching.tests.conftest import forget_results
from matching.tests.test_rule_model import PV, _liuhe_enterprise, loaded  # noqa: F401 (fixture)
from policies.models import Benefit

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2025, 6, 1)
COLUMNS = ("enterprise_id", "benefit_id", "item_id", "status", "score", "amount", "amount_basis",
           "leaf_outcomes", "fingerprint")  # fmt: skip


def _plant(enterprise: Enterprise, title: str, kwh: str, day: str, item_id: int | None = None):
    return item_services.save_item(
        enterprise_id=enterprise.pk,
        kind="test_pv_plant",
        title=title,
        values={"test_pv_annual_kwh": kwh, "test_pv_grid_date": day},
        item_id=item_id,
    )


def _item_rows() -> list[tuple]:
    return sorted(MatchItemResult.objects.values_list(*COLUMNS))


def _world():
    two = _liuhe_enterprise("80000000", "40")
    first = _plant(two, "一期", "4000000", "2025-03-01")
    second = _plant(two, "二期", "20000000", "2025-05-01")
    old = _liuhe_enterprise(None, "10")
    _plant(old, "老电站", "1000000", "2024-06-01")
    none = _liuhe_enterprise("10000000", "0")
    return two, first, second, old, none


def test_both_paths_store_the_same_item_rows(loaded):  # noqa: F811
    two, first, second, old, none = _world()
    pv = Benefit.objects.get(pk=loaded[PV].benefit_id)
    for enterprise in (two, old, none):
        services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="single")
    single = _item_rows()
    # one row per item of the per-item benefit, none for an enterprise without an item
    by_item = {row[2]: row for row in single if row[1] == pv.pk}
    assert set(by_item) == {first.pk, second.pk, *old.items.values_list("pk", flat=True)}
    assert by_item[first.pk][3] == "eligible" and by_item[first.pk][5] == Decimal("2000000.00")
    assert by_item[second.pk][5] == Decimal("5000000.00")
    old_item = old.items.get()
    assert by_item[old_item.pk][3] == "not_eligible" and by_item[old_item.pk][5] is None
    # the pair's row stays the aggregate: the best item's status, both items' amounts added up
    aggregate = MatchResult.objects.get(enterprise=two, benefit=pv)
    assert aggregate.status == "eligible" and aggregate.amount == Decimal("7000000.00")
    assert not MatchItemResult.objects.filter(enterprise=none).exists()

    forget_results()
    run = services.evaluate_benefits(as_of=AS_OF, chunk_size=2, cause="bulk")
    assert run.enterprises == 3
    assert _item_rows() == single

    # nothing changed: nothing rewritten
    stamps = sorted(MatchItemResult.objects.values_list("pk", "evaluated_at"))
    services.evaluate_benefits(as_of=AS_OF, chunk_size=2, cause="again")
    services.evaluate_enterprise(enterprise_id=two.pk, as_of=AS_OF, cause="again")
    assert sorted(MatchItemResult.objects.values_list("pk", "evaluated_at")) == stamps


@pytest.mark.parametrize("path", ["single", "bulk"])
def test_item_rows_follow_item_edits_and_deletes(loaded, path):  # noqa: F811
    two, first, second, _old, _none = _world()
    pv = loaded[PV].benefit_id

    def evaluate():
        if path == "single":
            services.evaluate_enterprise(enterprise_id=two.pk, as_of=AS_OF, cause="edit")
        else:
            services.evaluate_benefits(as_of=AS_OF, chunk_size=10, cause="edit")

    def rows():
        return {
            item: (status, amount)
            for item, status, amount in MatchItemResult.objects.filter(
                enterprise=two, benefit_id=pv
            ).values_list("item_id", "status", "amount")
        }

    evaluate()
    assert rows() == {
        first.pk: ("eligible", Decimal("2000000.00")),
        second.pk: ("eligible", Decimal("5000000.00")),
    }
    # an edit moving the first plant before the window: that item only is not eligible
    _plant(two, "一期", "4000000", "2024-01-01", item_id=first.pk)
    evaluate()
    assert rows() == {first.pk: ("not_eligible", None), second.pk: ("eligible", Decimal("5000000.00"))}
    assert MatchResult.objects.get(enterprise=two, benefit_id=pv).amount == Decimal("5000000.00")
    # a third plant: a third row
    third = _plant(two, "三期", "1000000", "2025-04-01")
    evaluate()
    assert rows()[third.pk] == ("eligible", Decimal("500000.00"))
    # deleting an item deletes its row at once (and the re-evaluation keeps the others)
    item_services.delete_item(enterprise_id=two.pk, item_id=second.pk)
    assert second.pk not in rows()
    evaluate()
    assert set(rows()) == {first.pk, third.pk}
    assert MatchResult.objects.get(enterprise=two, benefit_id=pv).amount == Decimal("500000.00")


def test_the_profile_shows_each_items_status_amount_and_reasons(loaded, client):  # noqa: F811
    from enterprises.tests.factories import MembershipFactory

    two, first, second, old, _none = _world()
    _plant(two, "一期", "4000000", "2024-01-01", item_id=first.pk)  # before the window
    services.evaluate_enterprise(enterprise_id=two.pk, as_of=AS_OF, cause="page")
    client.force_login(MembershipFactory(enterprise=two).user)
    page = client.get(reverse("enterprises:profile", args=[two.pk])).content.decode()
    items = page[page.index('id="items"') :]
    first_part = items[items.index("一期") : items.index("二期")]
    assert "不符合条件" in first_part and "不满足" in first_part
    second_part = items[items.index("二期") :]
    assert "符合条件" in second_part and "500 万元" in second_part
