"""The policy set kept per process (selectors.policy_set): reused while the policy data is unchanged,
never after a benefit, clause, document, fact definition or region changed — also within the
transaction that changed it, and not after that transaction rolled back."""

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.db import connection, transaction

from enterprises.generator import generate
from enterprises.models import Enterprise, Item
from matching import selectors, services
from matching.models import MatchItemResult, MatchResult
from matching.tests.test_services import LEASE_KEY, benefit, lessee
from policies import services as policy_services
from policies.models import Clause, FactDefinition, PolicyDocument, Region

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the version is PostgreSQL's counter"),
]
AS_OF = dt.date(2025, 6, 1)


@pytest.fixture
def loaded(policies_loaded, db):
    selectors.forget_policy_set()
    yield policies_loaded
    selectors.forget_policy_set()


def lease_amount(enterprise) -> Decimal | None:
    verdicts = services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF)
    [verdict] = [v for v in verdicts if v.spec.global_key == LEASE_KEY]
    return verdict.amount.value


def test_the_set_is_kept_while_nothing_changes(loaded, django_assert_num_queries):
    first = selectors.policy_set()
    with django_assert_num_queries(1):  # the version only
        assert selectors.policy_set() is first
    assert first.version is not None
    assert set(first.compiled) | set(first.broken) == set(first.by_id)


def test_a_cap_edited_through_policies_services_applies_in_the_same_process(loaded):
    enterprise = lessee()
    assert lease_amount(enterprise) == Decimal("10000000")
    kept = selectors.policy_set()
    lease = benefit(LEASE_KEY)
    lease.cap = Decimal("8000000")
    policy_services.save_benefit(benefit=lease, reason="cap corrected")
    assert selectors.policy_set() is not kept
    assert lease_amount(enterprise) == Decimal("8000000")
    stored = MatchResult.objects.get(enterprise=enterprise, benefit=lease)
    assert (stored.amount, stored.benefit_version) == (Decimal("8000000.00"), lease.version)


def test_a_change_rolled_back_is_not_kept(loaded):
    enterprise = lessee()
    before = selectors.policy_set()
    lease = benefit(LEASE_KEY)
    with transaction.atomic():
        lease.cap = Decimal("7000000")
        policy_services.save_benefit(benefit=lease, reason="tried")
        assert lease_amount(enterprise) == Decimal("7000000")  # seen by its own transaction
        rolled_back = selectors.policy_set().version
        transaction.set_rollback(True)
    # another transaction writes the same row again: a different version all the same
    with transaction.atomic():
        lease = benefit(LEASE_KEY)
        lease.cap = Decimal("6000000")
        policy_services.save_benefit(benefit=lease, reason="corrected")
        assert selectors.policy_set().version not in (rolled_back, before.version)
        assert lease_amount(enterprise) == Decimal("6000000")
        transaction.set_rollback(True)
    assert lease_amount(enterprise) == Decimal("10000000")
    assert selectors.policy_set().version == before.version


@pytest.mark.parametrize("edit", ["clause", "document", "fact", "region", "update", "raw_sql"])
def test_every_kind_of_policy_row_moves_the_version(loaded, edit):
    """Every policy write moves it: through the services, and also one that bypasses them (update(),
    raw SQL), which no worker may keep compiled data from before."""
    before = selectors.policy_set()
    lease = benefit(LEASE_KEY)
    if edit == "clause":
        clause = Clause.objects.get(pk=lease.clause_id)
        clause.text += "（改写）"  # the figures the clause's notes quote stay in its text
        policy_services.save_clause(clause=clause, reason="test")
    elif edit == "document":
        document = PolicyDocument.objects.get(pk=lease.clause.document_id)
        document.title = "改写的标题"
        policy_services.save_document(document=document, reason="test")
    elif edit == "fact":
        fact = FactDefinition.objects.get(code="is_manufacturing")
        fact.label_zh = "面积"
        policy_services.save_fact_definition(fact=fact, reason="test")
    elif edit == "region":
        region = Region.objects.order_by("pk").first()
        policy_services.save_region(region=region, values={"name_zh": "改名"})
    elif edit == "update":
        Clause.objects.filter(pk=lease.clause_id).update(text="改写的条款")
    else:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE policies_benefit SET cap = 1 WHERE id = %s", [lease.pk])
    after = selectors.policy_set()
    assert after is not before and after.version != before.version
    if edit == "clause":
        assert after.by_id[lease.pk].clause_text.endswith("（改写）")
    if edit == "update":
        assert after.by_id[lease.pk].clause_text == "改写的条款"
    if edit == "raw_sql":
        assert after.by_id[lease.pk].cap == Decimal("1")


def test_a_plan_uses_the_kept_compiled_conditions(loaded):
    plan = services.plan_evaluation(as_of=AS_OF, cause="test")
    kept = selectors.policy_set()
    assert plan.catalog is kept.catalog
    assert all(plan.compiled[spec.benefit_id] is kept.compiled[spec.benefit_id] for spec in plan.in_force)


def stored_rows(enterprise_ids):
    fields = ("enterprise_id", "benefit_id", "status", "score", "amount", "amount_basis", "leaf_outcomes",
              "fingerprint", "benefit_version")  # fmt: skip
    pairs = MatchResult.objects.filter(enterprise_id__in=enterprise_ids).order_by(
        "enterprise_id", "benefit_id"
    )
    items = MatchItemResult.objects.filter(enterprise_id__in=enterprise_ids).order_by(
        "enterprise_id", "benefit_id", "item_id"
    )
    item_fields = ("enterprise_id", "benefit_id", "item_id", "status", "score", "amount", "leaf_outcomes",
                   "fingerprint")  # fmt: skip
    return list(pairs.values_list(*fields)), list(items.values_list(*item_fields))


def test_one_enterprise_explained_stores_what_a_chunk_stores(loaded):
    """evaluate_locked of a single enterprise (a save's drain) explains it; a chunk goes through
    evaluate_table: the stored rows, per-item rows included, are the same."""
    generate(40, seed=5, reference_year=2025, batch_size=40)
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    catalog = selectors.policy_set().catalog
    kinds = sorted({spec.per_item for spec in selectors.policy_set().specs if spec.per_item})
    rng = random.Random(5)
    for n, pk in enumerate(ids[:24]):  # 0-2 items of the per-item benefits' kinds, some values unknown
        for k in range(n % 3):
            kind = kinds[(n + k) % len(kinds)]
            values = {}
            for code, fact in catalog.items():
                if fact.item_kind != kind or fact.derived != "stored" or rng.random() < 0.2:
                    continue
                if fact.type in ("int", "decimal", "money"):
                    values[code] = rng.choice([0, 5, 50, 500, 5000, 50000, 500000, 5000000])
                elif fact.type == "bool":
                    values[code] = rng.random() < 0.7
            Item.objects.create(enterprise_id=pk, kind=kind, title=f"item {k}", values=values)
    plan = services.plan_evaluation(as_of=AS_OF, cause="test")
    with transaction.atomic():
        services.evaluate_locked(plan, services.lock_enterprises(enterprise_ids=ids))
        by_chunk = stored_rows(ids)
        transaction.set_rollback(True)
    assert by_chunk[0] and by_chunk[1]
    with transaction.atomic():
        for pk in ids:
            services.evaluate_locked(plan, services.lock_enterprises(enterprise_ids=[pk]))
        one_by_one = stored_rows(ids)
    assert one_by_one == by_chunk
