# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""The lists' fast rows say exactly what the documented serializers say, and the change feed's
snapshot: a first full sync of every current result that hands over to the incremental feed."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from enterprises.models import Enterprise, Project
from matching import services as matching_services
from matching.models import MatchChange, MatchResult
from policies import selectors as policy_selectors
from portal.api.v1.matches.output import (
    CHANGE_COLUMNS,
    SNAPSHOT_COLUMNS,
    ChangeSerializer,
    MatchResultSerializer,
    RowBuilder,
)
from portal.tests.api_support import (  # noqa: F401 - fixtures
    AS_OF,
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
    new_key,
)

pytestmark = pytest.mark.django_db
FEED = "/api/v1/changes/"


def rendered(data) -> object:
    return json.loads(JSONRenderer().render(data))


def reevaluate_with_area(enterprise: Enterprise, area: str) -> None:
    Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal(area))
    matching_services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="enterprise_data")
    MatchChange.objects.update(created_at=timezone.now() - dt.timedelta(minutes=1))  # settled


def walk(client, url: str) -> tuple[list[dict], int, str]:
    """Follow `next` to the end as a client does: (items, pages, the last next_cursor)."""
    items, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content.decode()[:500]
        body = response.json()
        items += body["results"]
        pages += 1
        url, cursor = body["next"], body["next_cursor"]
    return items, pages, cursor


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_fast_rows_are_what_the_serializers_return(api_world, language):
    from django.utils import translation

    reevaluate_with_area(api_world.a, "3000")  # some changes, with amounts and nulls
    with translation.override(language):
        catalog = policy_selectors.catalog()
        rows = RowBuilder(catalog)
        results = list(MatchResult.objects.select_related("benefit__clause__document").order_by("pk"))
        assert results
        for result in results:
            expected = JSONRenderer().render(MatchResultSerializer(result, context={"catalog": catalog}).data)
            assert JSONRenderer().render(rows.match(result)) == expected  # the same bytes: keys in order
        changes = list(MatchChange.objects.select_related("benefit__clause__document").order_by("pk"))
        assert changes and any(change.new_amount is None for change in changes)
        values = dict(
            zip(
                [c.pk for c in changes],
                MatchChange.objects.order_by("pk").values_list(*CHANGE_COLUMNS),
                strict=True,
            )
        )
        for change in changes:
            assert JSONRenderer().render(rows.change(values[change.pk])) == JSONRenderer().render(
                ChangeSerializer(change).data
            )
        for row in MatchResult.objects.order_by("pk").values_list(*SNAPSHOT_COLUMNS):
            assert json.loads(rows.snapshot_json(row)) == rendered(rows.snapshot(row))


def test_a_snapshot_gives_every_current_result_then_hands_over_to_the_changes(api_world):
    client = key_client(api_world.machine_key)
    stored = {
        (row.enterprise_id, row.benefit_id): (row.status, row.amount) for row in MatchResult.objects.all()
    }
    first = client.get(f"{FEED}?snapshot=true&page_size=7")
    assert first["Content-Type"] == "application/json" and first.json()["has_more"] is True
    items, pages, cursor = walk(client, f"{FEED}?snapshot=true&page_size=7")
    assert pages == -(-len(stored) // 7) and len(items) == len(stored)
    assert {
        (item["enterprise"], item["benefit"]["id"]): (
            item["new_status"],
            None if item["new_amount"] is None else Decimal(item["new_amount"]),
        )
        for item in items
    } == stored
    assert all(
        item["cause"] == "snapshot" and item["id"] is None and item["old_status"] is None for item in items
    )
    # The stored cursor continues with the changes since the snapshot began, and only those.
    assert client.get(f"{FEED}?cursor={cursor}").json()["results"] == []
    reevaluate_with_area(api_world.a, "3000")
    newer, _pages, cursor = walk(client, f"{FEED}?cursor={cursor}")
    assert newer and all(item["cause"] == "enterprise_data" and item["id"] for item in newer)
    assert {item["id"] for item in newer} == set(MatchChange.objects.values_list("pk", flat=True))
    assert client.get(f"{FEED}?cursor={cursor}").json()["results"] == []


def test_a_snapshot_begun_after_changes_does_not_repeat_them(api_world):
    reevaluate_with_area(api_world.a, "3000")
    client = key_client(api_world.machine_key)
    _items, _pages, cursor = walk(client, f"{FEED}?snapshot=true&page_size=50")
    assert client.get(f"{FEED}?cursor={cursor}").json()["results"] == []  # already in the snapshot


def test_a_snapshot_shows_enterprise_a_only_its_own_results(api_world):
    client = key_client(api_world.key_a)
    items, _pages, _cursor = walk(client, f"{FEED}?snapshot=true&page_size=1000")
    assert items and {item["enterprise"] for item in items} == {api_world.a.pk}
    assert len(items) == MatchResult.objects.filter(enterprise=api_world.a).count()
    assert_problem(client.get(f"{FEED}?snapshot=true&enterprise={api_world.b.pk}"), 404, "not_found")
    machine = key_client(api_world.machine_key)
    only_b, _pages, _cursor = walk(machine, f"{FEED}?snapshot=true&enterprise={api_world.b.pk}")
    assert only_b and {item["enterprise"] for item in only_b} == {api_world.b.pk}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("snapshot=true&since=2025-01-01T00:00:00Z", "since"),
        ("snapshot=maybe", "snapshot"),
        ("snapshot=true&page_size=10001", "page_size"),
        ("cursor=czE6eDp5", "cursor"),  # "s1:x:y"
        ("cursor=bm9wZQ", "cursor"),
    ],
)
def test_bad_snapshot_parameters_are_400s(api_world, query, field):
    assert_problem(key_client(api_world.machine_key).get(f"{FEED}?{query}"), 400, field=field)


def test_the_feed_allows_pages_of_10000_and_other_lists_1000(api_world):
    client = key_client(api_world.machine_key)
    assert client.get(f"{FEED}?page_size=10000").status_code == 200
    assert_problem(client.get("/api/v1/matches/?page_size=1001"), 400, field="page_size")


def test_lists_take_the_same_few_queries_however_many_rows(api_world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = key_client(api_world.machine_key)
    reevaluate_with_area(api_world.a, "3000")
    client.get(FEED)  # the key's last use is recorded on the first request (once a minute)
    counts = {}
    for url in ("/api/v1/matches/", f"{FEED}", f"{FEED}?snapshot=true"):
        for size in (1, 1000):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"{url}{'&' if '?' in url else '?'}page_size={size}")
            assert response.status_code == 200 and len(response.json()["results"]) >= 1
            counts[url, size] = len(queries.captured_queries)
        # no query per row; a long page reads on into the out-of-scope results (one query more)
        assert counts[url, 1] <= counts[url, 1000] <= counts[url, 1] + 1 <= 9, counts
