"""The reads a warm re-evaluation depends on: the stored fingerprints (binary COPY on PostgreSQL)
and the row locks of a chunk (an id range when the ids are consecutive)."""

import datetime as dt

import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from enterprises.models import Enterprise
from enterprises.tests.factories import EnterpriseFactory
from matching import services, storage
from matching.models import MatchResult

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 6, 1)


def stored_rows(enterprise_ids, benefit_ids) -> list[tuple[int, int, int]]:
    return sorted(
        MatchResult.objects.filter(enterprise_id__in=enterprise_ids, benefit_id__in=benefit_ids).values_list(
            "enterprise_id", "benefit_id", "fingerprint"
        )
    )


def test_stored_fingerprints_are_read_exactly(policies_loaded):
    enterprises = [EnterpriseFactory() for _ in range(4)]
    services.evaluate_benefits(as_of=AS_OF)
    ids = [e.pk for e in enterprises]
    benefit_ids = sorted(set(MatchResult.objects.values_list("benefit_id", flat=True)))
    assert len(benefit_ids) > 3
    # the extremes of a 64-bit fingerprint survive the read (sign, both ends)
    for value, benefit_id in zip((-(2**63), 2**63 - 1, -1), benefit_ids, strict=False):
        MatchResult.objects.filter(enterprise_id=ids[1], benefit_id=benefit_id).update(fingerprint=value)
    # a gap in the ids and a subset of the benefits: the rows of the others in the range are dropped
    wanted_ids, wanted_benefits = [ids[0], ids[1], ids[3]], benefit_ids[:3] + benefit_ids[-1:]
    with transaction.atomic():
        read = storage._stored_fingerprints(np.array(wanted_ids), np.array(wanted_benefits))
    assert read.dtype == np.int64
    assert sorted(map(tuple, read.tolist())) == stored_rows(wanted_ids, wanted_benefits)
    assert {-(2**63), 2**63 - 1, -1} <= set(read[:, 2].tolist())
    assert len(read) == 3 * 4


def test_no_stored_rows_read_as_an_empty_table(policies_loaded):
    enterprise = EnterpriseFactory()
    with transaction.atomic():
        read = storage._stored_fingerprints(np.array([enterprise.pk]), np.array([1, 2]))
    assert read.shape == (0, 3)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner settings exist on PostgreSQL only")
def test_the_planner_settings_of_the_read_do_not_outlive_it(policies_loaded):
    enterprise = EnterpriseFactory()
    services.evaluate_benefits(as_of=AS_OF)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 3")
        cursor.execute("SET LOCAL jit = on")
        storage._stored_fingerprints(np.array([enterprise.pk]), np.array([1]))
        cursor.execute("SELECT current_setting('max_parallel_workers_per_gather'), current_setting('jit')")
        assert cursor.fetchone() == ("3", "on")


def test_a_changed_fingerprint_is_rewritten_and_the_others_are_not(policies_loaded):
    enterprises = [EnterpriseFactory() for _ in range(3)]
    services.evaluate_benefits(as_of=AS_OF)
    target = MatchResult.objects.filter(enterprise=enterprises[1]).order_by("benefit_id").first()
    altered = "eligible" if target.status != "eligible" else "not_eligible"
    MatchResult.objects.filter(pk=target.pk).update(fingerprint=target.fingerprint ^ 1, status=altered)
    before = dict(MatchResult.objects.values_list("pk", "evaluated_at"))
    run = services.evaluate_benefits(as_of=AS_OF)
    assert (run.written, run.changes) == (1, 1)
    after = dict(MatchResult.objects.values_list("pk", "evaluated_at"))
    assert [pk for pk in after if after[pk] != before[pk]] == [target.pk]
    rewritten = MatchResult.objects.get(pk=target.pk)
    assert (rewritten.fingerprint, rewritten.status) == (target.fingerprint, target.status)


def lock_sql(enterprise_ids, **options) -> tuple[list[int], str]:
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = services.lock_enterprises(enterprise_ids=enterprise_ids, **options)
    return locked, " ".join(query["sql"] for query in queries.captured_queries)


def test_consecutive_ids_are_locked_as_a_range_with_the_same_result():
    first = EnterpriseFactory().pk
    for _ in range(4):
        EnterpriseFactory()
    ids = list(Enterprise.objects.filter(pk__gte=first).order_by("pk").values_list("pk", flat=True))
    assert ids == list(range(first, first + 5))  # identity ids: consecutive
    Enterprise.objects.filter(pk=ids[2]).delete()  # a gap in the table, not in the list asked for

    locked, sql = lock_sql(ids)
    assert locked == [ids[0], ids[1], ids[3], ids[4]]
    assert " IN (" not in sql
    sparse = [ids[0], ids[3], ids[4]]
    locked, sql = lock_sql(sparse)
    assert locked == sparse and " IN (" in sql
    assert lock_sql(ids, limit=2)[0] == ids[:2]
    assert lock_sql(ids[1:2])[0] == [ids[1]]
    assert lock_sql(ids[2:3])[0] == []
    assert lock_sql([ids[4], ids[3]])[0] == [ids[3], ids[4]]  # not ascending: the list path
    assert lock_sql([])[0] == []
    assert lock_sql(ids, skip_locked=True)[0] == [ids[0], ids[1], ids[3], ids[4]]
