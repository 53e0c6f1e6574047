# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""The sparse store gives every reader the answers a dense evaluation gives, pair by pair.

Out-of-scope pairs (the document's applicability rules the enterprise out) have no result row: one
OutOfScope record per enterprise holds them (matching/storage.py). For a generated population this
compares, for every (enterprise, benefit in force), what the API's result list, the snapshot and the
detail say with the verdict the engine gives for that enterprise alone (matching.selectors.verdicts_for):
status, score, amount, amount basis, each condition's outcome. Then an enterprise moves district, and
the pairs that change scope are moved between the two places with a change each where the answer differs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from enterprises.generator import generate
from enterprises.models import Enterprise
from matching import selectors, services
from matching.engine import Verdict
from matching.models import MatchChange, MatchResult, OutOfScope
from policies.loader import default_paths, load_files
from portal.tests.api_support import fresh_throttle_counts, key_client, new_key  # noqa: F401

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 6, 1)
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
def population(django_db_setup, django_db_blocker):
    """Every policy, 60 generated enterprises (most in 闵行区, the rest elsewhere), evaluated as of AS_OF."""
    with django_db_blocker.unblock(), transaction.atomic():
        _reports, errors = load_files(default_paths())
        assert not errors
        generate(60, seed=11, reference_year=2025, batch_size=100)
        services.evaluate_benefits(as_of=AS_OF, chunk_size=16, cause="test")
        yield
        transaction.set_rollback(True)


def dense() -> dict[tuple[int, int], Verdict]:
    """(enterprise, benefit in force) → the verdict of the engine for that enterprise alone."""
    return {
        (enterprise.pk, verdict.spec.benefit_id): verdict
        for enterprise in Enterprise.objects.order_by("pk")
        for verdict in selectors.verdicts_for(enterprise, AS_OF)
        if verdict.status.slug != "not_in_force"  # the same for everyone: read from the benefit, no row
    }


def expected(verdict: Verdict) -> tuple:
    value = verdict.amount.value
    return (
        verdict.status.slug,
        verdict.score,
        None if value is None else value.quantize(CENT),
        verdict.amount.basis.value,
        verdict.leaf_outcomes,
        len(verdict.reasons),
    )


def listed(client, query: str) -> list[dict]:
    rows, url = [], f"/api/v1/matches/?{query}"
    while url:
        page = client.get(url).json()
        rows += page["results"]
        url = page["next"]
    return rows


def answer(row: dict) -> tuple:
    assert all(reason["outcome"] is not None for reason in row["reasons"]), row
    amount = None if row["amount"] is None else Decimal(row["amount"])
    return (
        row["status"],
        row["score"],
        amount,
        row["amount_basis"],
        row["leaf_outcomes"],
        len(row["reasons"]),
    )


def test_every_reader_answers_as_the_dense_evaluation(population):
    truth = dense()
    out_of_scope = {pair for pair, verdict in truth.items() if verdict.out_of_scope}
    assert 0 < len(out_of_scope) < len(truth)  # the population has both kinds
    stored = set(MatchResult.objects.values_list("enterprise_id", "benefit_id"))
    assert stored == set(truth) - out_of_scope  # no row for an out-of-scope pair
    assert OutOfScope.objects.count() == len({enterprise for enterprise, _ in out_of_scope})

    client = key_client(new_key()[1])
    # small pages: the stored rows' pages hand over to the out-of-scope ones mid-page
    rows = listed(client, "page_size=97")
    assert len(rows) == len(truth)
    assert {(row["enterprise"], row["benefit"]["id"]): answer(row) for row in rows} == {
        pair: expected(verdict) for pair, verdict in truth.items()
    }
    # one enterprise's list (the cached, ETag path) is the same answers
    enterprise = next(enterprise for enterprise, _ in sorted(out_of_scope))
    mine = listed(client, f"enterprise={enterprise}&page_size=5")
    assert [(row["benefit"]["id"], answer(row)) for row in mine] == [
        (benefit, answer(row))
        for row in rows
        for benefit in [row["benefit"]["id"]]
        if row["enterprise"] == enterprise
    ]
    # filters apply to both kinds
    not_eligible = listed(client, "status=not_eligible&page_size=1000")
    assert len(not_eligible) == sum(verdict.status.slug == "not_eligible" for verdict in truth.values())
    assert not listed(client, "min_amount=1&status=not_eligible")  # nothing out of scope has an amount

    # the snapshot: one item per pair, the same status and amount
    items, url = [], "/api/v1/changes/?snapshot=true&page_size=500"
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        page = response.json()
        items += page["results"]
        url = page["next"]
    assert {(item["enterprise"], item["benefit"]["id"]): item["new_status"] for item in items} == {
        pair: verdict.status.slug for pair, verdict in truth.items()
    }
    assert len(items) == len(truth)

    # the detail of an out-of-scope result: only the applicability is explained, and it is current
    row = next(row for row in rows if (row["enterprise"], row["benefit"]["id"]) in out_of_scope)
    detail = client.get(f"/api/v1/matches/{row['id']}/")
    assert detail.status_code == 200, detail.content
    body = detail.json()
    verdict = truth[(row["enterprise"], row["benefit"]["id"])]
    assert (body["status"], body["up_to_date"], len(body["reasons"])) == (
        "not_eligible",
        True,
        len(verdict.reasons),
    )
    assert [reason["requirement"] for reason in body["reasons"]] == [
        reason.requirement for reason in verdict.reasons
    ]
    assert (
        client.get(f"/api/v1/matches/{row['id'] + 2**20 * 10**6}/").status_code == 404
    )  # no such enterprise


def test_a_move_between_districts_moves_the_pairs_with_their_changes(population):
    truth = dense()
    scope = {pair: verdict.out_of_scope for pair, verdict in truth.items()}
    by_enterprise: dict[int, set[int]] = {}
    for (enterprise, benefit), out in scope.items():
        if out:
            by_enterprise.setdefault(enterprise, set()).add(benefit)
    # two enterprises whose out-of-scope sets differ: one takes the other's location
    mover, model = next(
        (a, b)
        for a in sorted(by_enterprise)
        for b in sorted(by_enterprise)
        if by_enterprise[a] != by_enterprise[b]
    )
    source = Enterprise.objects.get(pk=model)
    Enterprise.objects.filter(pk=mover).update(
        district=source.district,
        town=source.town,
        registered_region=source.registered_region,
        operating_region=source.operating_region,
    )
    before = {pair: verdict for pair, verdict in truth.items() if pair[0] == mover}
    services.evaluate_enterprise(enterprise_id=mover, as_of=AS_OF, cause="moved")

    after = {pair: verdict for pair, verdict in dense().items() if pair[0] == mover}
    entered = {pair for pair in after if before[pair].out_of_scope and not after[pair].out_of_scope}
    left = {pair for pair in after if after[pair].out_of_scope and not before[pair].out_of_scope}
    assert entered or left
    stored = set(MatchResult.objects.filter(enterprise_id=mover).values_list("enterprise_id", "benefit_id"))
    assert stored == {pair for pair, verdict in after.items() if not verdict.out_of_scope}
    assert {(mover, int(key)) for key in OutOfScope.objects.get(enterprise_id=mover).benefits} == {
        pair for pair, verdict in after.items() if verdict.out_of_scope
    }

    def state(verdict: Verdict) -> tuple:
        value = verdict.amount.value
        return verdict.status.slug, None if value is None else value.quantize(CENT)

    changes = {
        (change.benefit_id, change.old_status, change.old_amount, change.new_status, change.new_amount)
        for change in MatchChange.objects.filter(enterprise_id=mover, cause="moved")
    }
    assert changes == {
        (pair[1], *state(before[pair]), *state(after[pair]))
        for pair in after
        if state(before[pair]) != state(after[pair])
    }
    assert any(change[0] in {pair[1] for pair in entered | left} for change in changes)

    client = key_client(new_key()[1])
    rows = listed(client, f"enterprise={mover}")
    assert {(row["enterprise"], row["benefit"]["id"]): answer(row) for row in rows} == {
        pair: expected(verdict) for pair, verdict in after.items()
    }
