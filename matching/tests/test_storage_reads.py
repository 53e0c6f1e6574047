"""The reads a warm re-evaluation depends on: the stored fingerprints (binary COPY on PostgreSQL)
and the row locks of a chunk (an id range when the ids are consecutive)."""

import datetime as dt

import numpy as np
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from enterprises.models import Enterprise
from enterprises.tests.factories import EnterpriseFactory
from matching import selectors, services, storage
from matching.models import MatchChange, MatchResult, ResultDigest

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
    ResultDigest.objects.filter(
        enterprise=enterprises[1]
    ).delete()  # its digest no longer says what is stored
    before = dict(MatchResult.objects.values_list("pk", "evaluated_at"))
    run = services.evaluate_benefits(as_of=AS_OF)
    assert (run.written, run.changes) == (1, 1)
    after = dict(MatchResult.objects.values_list("pk", "evaluated_at"))
    assert [pk for pk in after if after[pk] != before[pk]] == [target.pk]
    rewritten = MatchResult.objects.get(pk=target.pk)
    assert (rewritten.fingerprint, rewritten.status) == (target.fingerprint, target.status)


def test_a_full_run_compares_digests_first_and_reads_rows_only_where_one_differs(policies_loaded):
    enterprises = [EnterpriseFactory() for _ in range(6)]
    first = services.evaluate_benefits(as_of=AS_OF)
    assert ResultDigest.objects.count() == 6 and first.written > 0
    digests = dict(ResultDigest.objects.values_list("enterprise_id", "digest"))

    with CaptureQueriesContext(connection) as queries:
        again = services.evaluate_benefits(as_of=AS_OF)
    assert (again.written, again.changes, again.removed) == (0, 0, 0)
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert "matching_resultdigest" in read
    assert "FROM matching_matchresult" not in read and "fingerprint FROM" not in read  # no row was compared

    changed = enterprises[2]  # moves out of 闵行区: its Minhang results go out of scope, others come in
    Enterprise.objects.filter(pk=changed.pk).update(district="浦东新区")
    with CaptureQueriesContext(connection) as queries:
        moved = services.evaluate_benefits(as_of=AS_OF)
    compared = [
        q["sql"] for q in queries.captured_queries if "fingerprint FROM matching_matchresult" in q["sql"]
    ]
    assert len(compared) == 1 and f"BETWEEN {changed.pk} AND {changed.pk}" in compared[0]  # its rows only
    assert moved.written + moved.removed > 0
    after = dict(ResultDigest.objects.values_list("enterprise_id", "digest"))
    assert set(after) == set(digests)
    assert {pk for pk in after if after[pk] != digests[pk]} == {changed.pk}


def test_a_run_of_some_benefits_drops_the_digests_of_the_enterprises_it_changed(policies_loaded):
    enterprises = [EnterpriseFactory() for _ in range(3)]
    services.evaluate_benefits(as_of=AS_OF)
    target = MatchResult.objects.filter(enterprise=enterprises[0]).order_by("benefit_id").first()
    MatchResult.objects.filter(pk=target.pk).update(fingerprint=target.fingerprint ^ 1)
    run = services.evaluate_benefits(as_of=AS_OF, benefit_ids=[target.benefit_id])
    assert run.written == 1
    assert set(ResultDigest.objects.values_list("enterprise_id", flat=True)) == {
        e.pk for e in enterprises[1:]
    }
    services.evaluate_benefits(as_of=AS_OF)  # the next full run compares it pair by pair, then digests it
    assert ResultDigest.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="source hashes are PostgreSQL's")
def test_rows_that_change_no_fact_move_the_source_hash_only_and_facts_are_then_not_read(policies_loaded):
    enterprises = [EnterpriseFactory() for _ in range(3)]
    services.evaluate_benefits(as_of=AS_OF)
    before = dict(ResultDigest.objects.values_list("enterprise_id", "source"))
    assert None not in before.values()
    stamps = dict(MatchResult.objects.values_list("pk", "evaluated_at"))
    Enterprise.objects.filter(pk=enterprises[1].pk).update(address="上海市闵行区某路1号")  # read by no fact
    with CaptureQueriesContext(connection) as queries:
        run = services.evaluate_benefits(as_of=AS_OF)
    assert (run.written, run.changes) == (0, 0)
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert "enterprises_yearlyfigure" in read  # its facts were read again, once
    after = dict(ResultDigest.objects.values_list("enterprise_id", "source"))
    assert {pk for pk in after if after[pk] != before[pk]} == {enterprises[1].pk}
    assert dict(MatchResult.objects.values_list("pk", "evaluated_at")) == stamps
    with CaptureQueriesContext(connection) as queries:
        services.evaluate_benefits(as_of=AS_OF)
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert 'enterprises_yearlyfigure" WHERE' not in read and 'FROM "enterprises_item"' not in read
    services.evaluate_benefits(as_of=AS_OF + dt.timedelta(days=1))  # another date: every source moves
    assert ResultDigest.objects.filter(source__in=list(after.values())).count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's")
def test_truncating_the_stored_results_forgets_the_digests(policies_loaded):
    EnterpriseFactory(), EnterpriseFactory()
    first = services.evaluate_benefits(as_of=AS_OF)
    assert ResultDigest.objects.count() == 2
    with connection.cursor() as cursor:  # an operator's reset before a full run
        cursor.execute("TRUNCATE matching_matchresult, matching_outofscope")
    assert not ResultDigest.objects.exists()
    again = services.evaluate_benefits(as_of=AS_OF)
    assert again.written == first.written > 0


def test_a_run_of_one_benefit_reads_only_the_records_it_can_change_and_moves_pairs_between_them(
    policies_loaded,
):
    from matching.engine.spec import IN_FORCE, validity_on
    from matching.models import OutOfScope

    district_benefit = next(
        spec
        for spec in selectors.policy_set().specs
        if spec.applicability and validity_on(spec, AS_OF) == IN_FORCE and "闵行区" in str(spec.applicability)
    )
    inside, outside, other = (
        EnterpriseFactory(district="闵行区"),
        EnterpriseFactory(district="浦东新区"),
        EnterpriseFactory(),
    )
    for _ in range(storage.FEW_ENTERPRISES):  # a chunk, not a small drain (which reads records whole)
        EnterpriseFactory()
    services.evaluate_benefits(as_of=AS_OF)
    key = str(district_benefit.benefit_id)

    def where() -> tuple[set[int], set[int]]:
        rows = set(
            MatchResult.objects.filter(benefit_id=district_benefit.benefit_id).values_list(
                "enterprise_id", flat=True
            )
        )
        entries = {record.enterprise_id for record in OutOfScope.objects.all() if key in record.benefits}
        return rows, entries

    rows, entries = where()
    assert inside.pk in rows and outside.pk in entries and not rows & entries
    before = MatchResult.objects.get(benefit_id=district_benefit.benefit_id, enterprise=inside)
    Enterprise.objects.filter(pk=inside.pk).update(district="徐汇区")  # now out of its scope
    Enterprise.objects.filter(pk=outside.pk).update(district="闵行区")  # now in it
    with CaptureQueriesContext(connection) as queries:
        services.evaluate_benefits(as_of=AS_OF, benefit_ids=[district_benefit.benefit_id])
    record_reads = [q["sql"] for q in queries.captured_queries if 'FROM "matching_outofscope"' in q["sql"]]
    assert record_reads and all(
        key in sql or "IN (" in sql for sql in record_reads
    )  # filtered, not every record
    rows, entries = where()
    assert outside.pk in rows and outside.pk not in entries
    assert inside.pk in entries and inside.pk not in rows
    assert (other.pk in rows) != (other.pk in entries)  # every pair in exactly one place
    left = MatchChange.objects.filter(benefit_id=district_benefit.benefit_id, enterprise=inside)
    assert list(left.values_list("old_status", "new_status")) == (
        [] if (before.status, before.amount) == ("not_eligible", None) else [(before.status, "not_eligible")]
    )


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
