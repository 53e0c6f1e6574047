"""Background re-evaluation, in-process (the embedded mode: tasks run eagerly after commit).

The after-commit callbacks of a block are run by `committed()`, as a commit would; the same code
paths with a real worker on Redis are in test_worker.py.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection, transaction
from django_celery_beat.models import PeriodicTask

from enterprises import changes as enterprise_changes
from enterprises import profile_batches
from enterprises import services as enterprise_services
from enterprises.facts import BUILTIN_GROUPS
from enterprises.models import Enterprise, EnterpriseChange, FactValue, Project
from enterprises.tests.factories import MembershipFactory, UserFactory
from matching import jobs, notifications, selectors, services, tasks, webhook_signing
from matching.engine import validity_on
from matching.models import (
    JobChunk,
    JobRun,
    MatchChange,
    MatchResult,
    NotificationPreference,
    OutOfScopeResult,
    WebhookDelivery,
    WebhookSubscription,
    WorkerHeartbeat,
)
from matching.tests.background_support import (
    AS_OF,
    LEASE_CAP,
    LEASE_KEY,
    Receiver,
    add_lease,
    benefit,
    new_lessee,
)
from matching.tests.conftest import committed, forget_results, result_pairs
from policies import aftercommit
from policies import services as policy_services
from policies.models import FactDefinition, PolicyChange

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(policies_loaded, db, monkeypatch):
    monkeypatch.setenv("MATCHING_TODAY", AS_OF.isoformat())
    return policies_loaded


def in_force_ids(as_of=AS_OF) -> set[int]:
    return {spec.benefit_id for spec in selectors.benefit_specs() if validity_on(spec, as_of) == "in_force"}


def stored(enterprise, key=LEASE_KEY) -> MatchResult | OutOfScopeResult:
    """The stored verdict of the pair: its result row, or its out-of-scope entry."""
    pk = benefit(key).pk
    return next(row for row in selectors.results_for_enterprise(enterprise.pk) if row.benefit_id == pk)


def test_a_new_enterprise_is_evaluated_for_every_benefit_after_commit(loaded):
    with committed():
        enterprise = new_lessee(1)
        assert EnterpriseChange.objects.filter(enterprise_id=enterprise.pk).count() == 2  # new, projects
        assert not result_pairs()  # nothing before the commit
    assert {benefit for _, benefit in result_pairs(enterprise=enterprise)} == in_force_ids()
    lease = stored(enterprise)
    assert (lease.status, lease.amount, lease.as_of) == ("pending_recognition", LEASE_CAP, AS_OF)
    assert not EnterpriseChange.objects.exists()
    job = JobRun.objects.get(kind="enterprise_data")
    assert (job.status, job.items, job.total, job.params["cause"]) == ("succeeded", 1, 1, "enterprise_data")


def test_edits_in_one_transaction_are_evaluated_once(loaded):
    with committed():
        enterprise = new_lessee(2)
    JobRun.objects.all().delete()
    with committed(), transaction.atomic():  # e.g. one row of an import: several writes
        version = Enterprise.objects.get(pk=enterprise.pk).version
        enterprise_services.update_enterprise(
            enterprise_id=enterprise.pk, expected_version=version, changes={"town": "虹桥镇"}
        )
        add_lease(enterprise.pk, "5500")
        project = Project.objects.filter(enterprise=enterprise).earliest("pk")
        for area in ("4000", "4800", "4900"):  # the same project edited three times (delete and add)
            enterprise_services.delete_related(enterprise_id=enterprise.pk, instance=project)
            project = add_lease(enterprise.pk, area)
        marks = sorted(EnterpriseChange.objects.values_list("source", flat=True))
        assert marks == ["enterprise", "projects"]  # one row per source, however many edits
    assert JobRun.objects.filter(kind="enterprise_data").count() == 1
    assert JobRun.objects.get(kind="enterprise_data").items == 1
    assert stored(enterprise).status == "pending_recognition"  # 4900 + 5500 m²
    assert set(MatchChange.objects.values_list("cause", flat=True)) <= {"enterprise_data"}


def test_an_import_is_drained_in_batches_not_one_task_per_enterprise(loaded, monkeypatch):
    monkeypatch.setattr(jobs, "DRAIN_BATCH", 4)
    with committed(), transaction.atomic():  # an import is one transaction
        created = [new_lessee(200 + n) for n in range(10)]
        drains = [
            entry for entry in connection.run_on_commit if entry[1] is enterprise_changes.DRAIN_ENTERPRISES
        ]
        assert len(drains) == 1  # one task for the whole import
    batches = JobRun.objects.filter(kind="enterprise_data").order_by("pk")
    assert list(batches.values_list("items", flat=True)) == [4, 4, 2]
    assert len(result_pairs(enterprise__in=created)) == 10 * len(in_force_ids())


def test_the_first_drain_of_a_quiet_spell_goes_at_once_the_others_wait_the_window(monkeypatch):
    from django.core.cache import cache

    sent = []
    monkeypatch.setattr(
        aftercommit, "send", lambda task, args=(), countdown=None: sent.append((task, countdown))
    )
    drain = enterprise_changes.DRAIN_ENTERPRISES
    cache.delete(f"enqueued:{drain.task}")
    for _ in range(3):
        drain()
    window = aftercommit.COALESCE_SECONDS
    assert sent == [("matching.drain_enterprises", None)] + [("matching.drain_enterprises", window)] * 2
    cache.delete(f"enqueued:{drain.task}")  # the window over
    drain()
    assert sent[-1] == ("matching.drain_enterprises", None)


def test_a_drain_asked_for_by_name_runs_in_process_after_commit(loaded):
    """The writer apps do not import matching: the task is found by its name, and runs eagerly."""
    with committed():
        enterprise = new_lessee(5)
        assert EnterpriseChange.objects.filter(enterprise_id=enterprise.pk).exists()
    assert not EnterpriseChange.objects.exists()
    assert MatchResult.objects.filter(enterprise=enterprise).exists()


def test_rows_written_by_copy_are_recorded_and_re_evaluated_after_commit(loaded):
    """The COPY writer (enterprises/copy_write.py) records what it inserted, like any other write."""
    from enterprises.copy_write import insert_rows
    from enterprises.validators import complete_credit_code

    with committed():
        [pk] = insert_rows(
            Enterprise,
            [
                {
                    "name": "批量写入企业",
                    "credit_code": complete_credit_code("91310112MA199999"),
                    "district": "闵行区",
                    "registered_on": dt.date(2015, 3, 1),
                    "legal_form": Enterprise.LegalForm.LLC,
                    "industry_code": "3511",
                    "scale": Enterprise.Scale.SMALL,
                    "projects_declared": True,
                    "recognitions_declared": True,
                }
            ],
        )
        insert_rows(
            Project,
            [
                {
                    "enterprise_id": pk,
                    "kind": Project.Kind.FACTORY_LEASE,
                    "year": 2024,
                    "area_m2": Decimal("6000"),
                    "rent_total": Decimal("10000000"),
                    "is_new": True,
                    "self_use": True,
                    "key_industry_new_project": True,
                }
            ],
        )
        assert sorted(EnterpriseChange.objects.values_list("source", flat=True)) == ["new", "projects"]
        assert not MatchResult.objects.filter(enterprise_id=pk).exists()
    lease = stored(Enterprise.objects.get(pk=pk))
    assert (lease.status, lease.amount) == ("pending_recognition", LEASE_CAP)
    assert not EnterpriseChange.objects.exists()


def test_a_bulk_update_through_save_profiles_is_re_evaluated_after_commit(loaded):
    """The staff import's bulk UPDATE (one statement for many rows on PostgreSQL) records its changes."""
    with committed():
        lessees = [new_lessee(80 + n) for n in range(3)]
    assert {stored(e).status for e in lessees} == {"pending_recognition"}
    JobRun.objects.all().delete()
    with committed(), transaction.atomic():
        locked = list(Enterprise.objects.select_for_update().filter(pk__in=[e.pk for e in lessees]))
        profile_batches.save_profiles(
            profiles=[
                profile_batches.ProfileWrite(enterprise=e, changes={"district": "浦东新区"}) for e in locked
            ]
        )
        assert set(EnterpriseChange.objects.values_list("source", flat=True)) == {"enterprise"}
    job = JobRun.objects.get(kind="enterprise_data")  # one drain for the whole write
    assert (job.status, job.items) == ("succeeded", 3)
    assert all(stored(e).out_of_scope for e in lessees)  # not in 闵行 any more
    assert set(
        MatchChange.objects.filter(benefit=benefit(LEASE_KEY)).values_list("enterprise_id", flat=True)
    ) == {e.pk for e in lessees}


def test_a_related_row_re_evaluates_only_the_benefits_reading_its_facts(loaded):
    with committed():
        enterprise = new_lessee(3)
    lease = stored(enterprise)
    JobRun.objects.all().delete()
    with committed():
        # no record (a write users cannot make); the service write below records the same source
        Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal("4000"))
        add_lease(enterprise.pk, "500")  # a second lease: the total is now 4500 m²
    project_codes = frozenset().union(*(g.codes for g in BUILTIN_GROUPS if "projects" in g.reads))
    readers = {
        b.pk for b in benefit(LEASE_KEY).__class__.objects.all() if set(b.fact_codes) & project_codes
    } & in_force_ids()
    job = JobRun.objects.get(kind="enterprise_data")
    assert job.params["benefits_per_enterprise"] == {str(enterprise.pk): len(readers)}
    assert 0 < len(readers) < len(in_force_ids())
    lease.refresh_from_db()
    assert (lease.status, lease.amount) == ("not_eligible", None)
    change = MatchChange.objects.get(benefit=benefit(LEASE_KEY))
    assert (change.old_status, change.new_status, change.cause) == (
        "pending_recognition",
        "not_eligible",
        "enterprise_data",
    )


def test_a_fact_no_benefit_reads_evaluates_nothing(loaded):
    with committed():
        enterprise = new_lessee(4)
    JobRun.objects.all().delete()
    unread = FactDefinition.objects.create(
        code="favourite_colour", type="str", label_zh="颜色", label_en="Colour"
    )
    with committed():
        enterprise_services.set_fact_value(enterprise_id=enterprise.pk, code=unread.code, value="blue")
        assert EnterpriseChange.objects.get().source == f"fact:{unread.pk}"
    assert not JobRun.objects.filter(kind="enterprise_data").exists()
    assert not EnterpriseChange.objects.exists()


def test_a_cap_edit_re_evaluates_every_enterprise_in_chunks_with_change_records(loaded, monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK_SIZE", 2)
    with committed():
        lessees = [new_lessee(10 + n) for n in range(5)]
        small = new_lessee(20, area="3000")
    lease = benefit(LEASE_KEY)
    with committed():
        lease.cap = Decimal("8000000")
        assert policy_services.save_benefit(benefit=lease, reason="cap corrected") == "updated"
        assert PolicyChange.objects.get().kind == "benefit"
    job = JobRun.objects.get(kind="policy")
    assert (job.status, job.items, job.total, job.params["benefit_ids"]) == ("succeeded", 6, 6, [lease.pk])
    assert list(job.chunks.values_list("size", "state")) == [(2, "done")] * 3
    for enterprise in lessees:
        assert (stored(enterprise).amount, stored(enterprise).benefit_version) == (Decimal("8000000.00"), 2)
    assert stored(small).status == "not_eligible"
    changes = MatchChange.objects.all()
    assert {(c.enterprise_id, c.old_amount, c.new_amount, c.cause) for c in changes} == {
        (e.pk, LEASE_CAP, Decimal("8000000.00"), "policy") for e in lessees
    }
    assert not PolicyChange.objects.exists()

    # idempotent: a redelivered chunk does nothing; a chunk run again from scratch records nothing new
    chunk = job.chunks.first()
    assert jobs.run_chunk(chunk_id=chunk.pk) == 0
    JobChunk.objects.filter(pk=chunk.pk).update(state="pending")
    assert jobs.run_chunk(chunk_id=chunk.pk) == 2
    assert MatchChange.objects.count() == 5


def test_a_document_edit_re_evaluates_its_benefits(loaded):
    with committed():
        enterprise = new_lessee(30)
    document = benefit(LEASE_KEY).clause.document
    with committed():
        document.effective_to = dt.date(2025, 5, 31)  # ended yesterday
        policy_services.save_document(document=document, reason="test")
    job = JobRun.objects.get(kind="policy")
    assert set(job.params["benefit_ids"]) == set(
        benefit(LEASE_KEY).__class__.objects.filter(clause__document=document).values_list("pk", flat=True)
    )
    assert not result_pairs(benefit__clause__document=document)  # rows and out-of-scope entries
    change = MatchChange.objects.get(benefit=benefit(LEASE_KEY))
    assert (change.enterprise_id, change.new_status, change.cause) == (
        enterprise.pk,
        "not_in_force",
        "policy",
    )


def test_a_poison_enterprise_is_recorded_as_a_failure_and_blocks_nothing(loaded):
    with committed():
        good = [new_lessee(40), new_lessee(41)]
    # a stored number an in-force benefit reads (003 第１３条 EDA 采购金额)
    milestone = FactDefinition.objects.get(code="eda_tool_purchase_amount")
    with committed():
        bad = new_lessee(42)
        # corrupt data that bypassed validation: the engine refuses a non-finite number
        FactValue.objects.create(enterprise=bad, fact=milestone, value="NaN", source="staff")
        for enterprise in good:
            add_lease(enterprise.pk, "100")
    job = JobRun.objects.filter(kind="enterprise_data").latest("pk")
    assert (job.status, job.items, job.failures) == ("failed", 3, 1)
    assert f"企业 {bad.pk}: FactValueError" in job.error
    assert not EnterpriseChange.objects.exists()  # not retried forever
    assert not MatchResult.objects.filter(enterprise=bad).exists()
    # 6100 m²: the others were evaluated (applicability: registered and operating in 闵行区, then two leaves)
    assert all(stored(e).leaf_outcomes == "vvvv" for e in good)

    # the same enterprise in a chunked job: its chunk completes, the job says who failed
    with committed():
        jobs.schedule_rerun()
    rerun = JobRun.objects.get(kind="rerun")
    assert (rerun.status, rerun.items, rerun.failures, rerun.chunks.get().state) == ("failed", 3, 1, "done")
    assert f"企业 {bad.pk}" in rerun.error


def test_a_broken_benefit_rule_fails_its_job_but_not_the_other_benefits(loaded):
    with committed():
        enterprise = new_lessee(45)
    forget_results()
    lease = benefit(LEASE_KEY)
    other = benefit("mh-2024-new-industrialization/8/high-growth-rent")
    broken = {"all": [{"fact": "no_such_fact", "op": "eq", "value": 1, "quote": "x"}]}
    type(lease).objects.filter(pk=lease.pk).update(condition=broken)  # bypasses validation
    with committed():
        jobs.schedule_rerun()
    job = JobRun.objects.get(kind="rerun")
    assert (job.status, job.failures) == ("failed", 1)
    assert f"扶持项目 {lease.pk}: {LEASE_KEY}" in job.error
    assert not result_pairs(benefit=lease)
    assert MatchResult.objects.filter(enterprise=enterprise, benefit=other).exists()


def test_the_daily_job_flips_validity_on_the_day_after_expiry_without_data_changes(loaded, monkeypatch):
    monkeypatch.setenv("MATCHING_TODAY", "2029-03-31")
    with committed():
        enterprise = new_lessee(50)  # its 2024 lease no longer counts in 2029: not eligible
    assert stored(enterprise).status == "not_eligible"  # the text is in force until 2029-03-31
    document_benefits = set(
        benefit(LEASE_KEY)
        .__class__.objects.filter(clause__document__key="mh-2024-new-industrialization")
        .values_list("pk", flat=True)
    )
    with committed():
        run = jobs.run_calendar()  # 2029-03-31: nothing starts or ends today
    assert run.job is None and not MatchChange.objects.exists()

    monkeypatch.setenv("MATCHING_TODAY", "2029-04-01")
    with committed():
        tasks.daily_calendar.delay()
    job = JobRun.objects.get(kind="date")
    assert set(job.params["benefit_ids"]) == document_benefits
    assert (job.status, job.params["as_of"]) == ("succeeded", "2029-04-01")
    assert not result_pairs(benefit_id__in=document_benefits)
    change = MatchChange.objects.get(benefit=benefit(LEASE_KEY))
    assert (change.old_status, change.new_status, change.cause, change.as_of) == (
        "not_eligible",
        "not_in_force",
        "date",
        dt.date(2029, 4, 1),
    )
    changes = MatchChange.objects.count()
    with committed():
        jobs.run_calendar()  # run twice on one day (a redelivered task): nothing more changes
    assert MatchChange.objects.count() == changes


def test_the_daily_job_is_scheduled_at_five_past_midnight_shanghai_time(db):
    daily = PeriodicTask.objects.get(task="matching.daily_calendar")
    crontab = daily.crontab
    assert (crontab.minute, crontab.hour, str(crontab.timezone)) == ("5", "0", "Asia/Shanghai")
    assert daily.enabled
    tick = PeriodicTask.objects.get(task="matching.tick")
    assert (tick.interval.every, tick.interval.period) == (60, "seconds")


def test_anniversaries_and_dated_facts_mark_enterprises_on_their_day(loaded):
    with committed():
        enterprise = new_lessee(60)  # registered 2015-03-01
    with committed():
        run = jobs.run_calendar(as_of=dt.date(2026, 3, 1))
        assert run.enterprises_marked == 1
        assert EnterpriseChange.objects.get().enterprise_id == enterprise.pk
    assert not EnterpriseChange.objects.exists()


def test_the_staff_rerun_reports_progress_and_rewrites_nothing_unchanged(loaded, monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK_SIZE", 1)
    with committed():
        enterprises = [new_lessee(70 + n) for n in range(3)]
    before = dict(MatchResult.objects.values_list("pk", "evaluated_at"))
    with committed():
        job = jobs.schedule_rerun()
        assert (job.items, job.total, job.percent) == (0, 3, 0)
    job.refresh_from_db()
    assert (job.status, job.items, job.total, job.percent, job.chunks.count()) == ("succeeded", 3, 3, 100, 3)
    assert dict(MatchResult.objects.values_list("pk", "evaluated_at")) == before
    assert len(enterprises) == 3


def test_the_tick_beats_and_republishes_a_lost_chunk(loaded):
    with committed():
        new_lessee(80)
    forget_results()
    job = JobRun.objects.create(
        kind="rerun", total=1, params={"as_of": AS_OF.isoformat(), "benefit_ids": None, "cause": "rerun"}
    )
    first = Enterprise.objects.get().pk
    chunk = JobChunk.objects.create(job=job, first_id=first, last_id=first, size=1)  # never published
    JobRun.objects.filter(pk=job.pk).update(started_at=job.started_at - dt.timedelta(minutes=5))
    with committed():
        report = jobs.tick(worker="test")
    assert report.republished == 1
    chunk.refresh_from_db()
    assert chunk.state == "done" and MatchResult.objects.filter(enterprise_id=first).exists()
    assert WorkerHeartbeat.objects.get(name="worker").worker == "test"
    JobRun.objects.filter(pk=job.pk).update(finished_at=job.started_at - dt.timedelta(days=91))
    jobs.tick(worker="test")
    assert not JobRun.objects.filter(pk=job.pk).exists()  # old records are pruned


def test_engine_validity_agrees_with_the_policy_models_for_every_benefit_and_date(loaded):
    """policies.models.Benefit.validity_on and the engine's validity_on decide alike (the expired
    2018-2020 plan is in force within its dates)."""
    specs = {spec.benefit_id: spec for spec in selectors.benefit_specs()}
    benefits = list(benefit(LEASE_KEY).__class__.objects.select_related("clause__document"))
    dates = [dt.date(2017, 12, 31), dt.date(2018, 1, 1), dt.date(2019, 6, 1), dt.date(2020, 12, 31)]
    dates += [dt.date(2021, 1, 1), dt.date(2022, 9, 30), dt.date(2022, 10, 1), dt.date(2024, 3, 31)]
    dates += [dt.date(2024, 4, 1), AS_OF, dt.date(2029, 3, 31), dt.date(2029, 4, 1), dt.date(2040, 1, 1)]
    seen = set()
    for row in benefits:
        for day in dates:
            in_force, reason = row.validity_on(day)
            assert validity_on(specs[row.pk], day) == reason, (row.global_key, day)
            assert in_force == (reason == "in_force")
            seen.add((row.clause.document.status, reason))
    assert ("expired", "in_force") in seen and ("expired", "expired") in seen and ("draft", "draft") in seen


# ---------------------------------------------------------------- the change feed


def test_changes_reach_signed_webhooks_and_opted_in_email(loaded, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with committed():
        watched, other = new_lessee(90), new_lessee(91)
    user = UserFactory(email="boss@example.com")
    MembershipFactory(user=user, enterprise=watched)
    notifications.set_email_preference(user=user, enabled=True)
    MembershipFactory(user=UserFactory(email="quiet@example.com"), enterprise=other)  # did not opt in
    with Receiver() as everything, Receiver() as only_watched:
        WebhookSubscription.objects.create(
            name="all", url=everything.url, secret=webhook_signing.new_secret()
        )
        WebhookSubscription.objects.create(
            name="one", url=only_watched.url, secret="other-secret", enterprise=watched
        )
        with committed():
            for enterprise in (watched, other):
                Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal("100"))
                add_lease(enterprise.pk, "100")
    assert MatchChange.objects.filter(dispatched=False).count() == 0
    request = everything.requests[0]
    headers = {key.lower(): value for key, value in request["headers"].items()}
    secret = WebhookSubscription.objects.get(name="all").secret
    webhook_signing.verify(secret, headers, request["body"])  # Standard Webhooks, one v1 signature
    assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
    assert headers["webhook-id"] == f"msg_{headers['x-portal-delivery']}"
    payload = everything.payloads()[0]
    assert payload["event"] == "match.changed"
    sent = {
        (c["id"], c["enterprise"], c["benefit"]["global_key"], c["new_status"]) for c in payload["changes"]
    }
    assert sent == {
        (c.pk, c.enterprise_id, c.benefit.global_key, c.new_status) for c in MatchChange.objects.all()
    }
    assert {(watched.pk, LEASE_KEY, "not_eligible"), (other.pk, LEASE_KEY, "not_eligible")} <= {
        row[1:] for row in sent
    }
    assert {c["enterprise"] for c in only_watched.payloads()[0]["changes"]} == {watched.pk}
    assert set(WebhookDelivery.objects.values_list("state", "attempts")) == {("succeeded", 1)}
    assert [message.to for message in mail.outbox] == [["boss@example.com"]]
    assert "不再符合" in mail.outbox[0].body and watched.name in mail.outbox[0].subject


def test_a_failing_webhook_is_kept_for_retry_with_exponential_backoff(loaded):
    with committed():
        enterprise = new_lessee(95)
    with Receiver(failures=100) as failing:
        subscription = WebhookSubscription.objects.create(name="down", url=failing.url, secret="x")
        with committed():
            add_lease(enterprise.pk, "10")  # 6010 m²: the amount stays the cap, nothing changes
            Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal("1"))
            add_lease(enterprise.pk, "11")
        delivery = WebhookDelivery.objects.get(subscription=subscription)
        # in-process there is no sleeping retry: one attempt, kept pending
        assert (delivery.state, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
        assert jobs.tick(worker="test").resent == 0  # its retry is not overdue yet
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            last_attempt_at=delivery.last_attempt_at - dt.timedelta(minutes=6)
        )
        assert jobs.tick(worker="test").resent == 1  # overdue: its retry message was lost
        delivery.refresh_from_db()
        assert delivery.attempts == 2
        attempts = [
            notifications.deliver_webhook(delivery_id=delivery.pk)
            for _ in range(notifications.MAX_ATTEMPTS - 2)
        ]
    assert [a.retry_in for a in attempts] == [8, 16, 32, 64, 128, 256, 512, None]
    assert jobs.tick(worker="test").resent == 0  # a failed delivery is not resent
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", notifications.MAX_ATTEMPTS)
    assert len(failing.requests) == notifications.MAX_ATTEMPTS


def test_webhook_urls_must_be_http(db):
    from django.core.exceptions import ValidationError

    for url in ("ftp://example.com/x", "file:///etc/passwd", "javascript:alert(1)"):
        with pytest.raises(ValidationError):
            notifications.subscribe_webhook(name="x", url=url)
    assert not WebhookSubscription.objects.exists()
    subscription = notifications.subscribe_webhook(name="x", url="https://example.com/hook")
    assert len(subscription.secret) >= 32 and subscription.active


def test_notification_wording(loaded):
    with committed():
        enterprise = new_lessee(97)
    lease = benefit(LEASE_KEY)

    def change(old, new, old_amount=None, new_amount=None):
        return MatchChange(
            enterprise=enterprise, benefit=lease, old_status=old, new_status=new,
            old_amount=old_amount, new_amount=new_amount, cause="policy", as_of=AS_OF,
        )  # fmt: skip

    assert notifications.describe(change("needs_info", "eligible", None, Decimal("5000000"))) == (
        "gained",
        f"新符合：{lease.name}（符合条件，预估 500 万元）",
    )
    assert notifications.describe(change("pending_recognition", "not_eligible"))[1].startswith("不再符合：")
    assert notifications.describe(change("eligible", "eligible", Decimal("1e7"), Decimal("8e6")))[1] == (
        f"金额变化：{lease.name} 1000 万元 → 800 万元"
    )
    assert NotificationPreference.objects.count() == 0


# ---------------------------------------------------------------- impact preview


def test_impact_preview_shows_gains_losses_and_amounts_without_writing(loaded):
    with committed():
        big, middle, small = new_lessee(100, "9000"), new_lessee(101, "6000"), new_lessee(102, "4000")
    before = list(MatchResult.objects.order_by("pk").values_list("pk", "status", "amount", "evaluated_at"))
    lease = benefit(LEASE_KEY)
    lease.cap = Decimal("12000000")
    lease.condition["all"][1]["value"] = 7000  # threshold 5000 → 7000 m²
    from matching.preview import preview_benefit_change

    impact = preview_benefit_change(edited=lease, as_of=AS_OF)
    assert (impact.enterprises, impact.gained, impact.lost, impact.amount_up) == (3, 0, 1, 1)
    assert [(m.enterprise_id, m.old_status, m.new_status) for m in impact.losses] == [
        (middle.pk, "pending_recognition", "not_eligible")
    ]
    assert [(m.enterprise_id, m.old_amount, m.new_amount) for m in impact.amount_moves] == [
        (big.pk, LEASE_CAP, Decimal("12000000.00"))
    ]
    assert (impact.old_total, impact.new_total) == (2 * LEASE_CAP, Decimal("12000000.00"))
    assert (
        list(MatchResult.objects.order_by("pk").values_list("pk", "status", "amount", "evaluated_at"))
        == before
    )
    assert stored(small).status == "not_eligible"


def test_staff_preview_page_then_publish(loaded, client):
    from django.contrib.auth.models import Permission

    with committed():
        enterprise = new_lessee(110, "6000")
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_benefit"))
    staff.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    client.force_login(staff)
    lease = benefit(LEASE_KEY)
    url = f"/matches/benefits/{lease.pk}/preview/"
    form = {
        "cap": "3000000", "amount": "", "ratio": "", "base_fact": "", "valid_from": "", "valid_to": "",
        "condition": json_dumps(lease.condition),
    }  # fmt: skip
    page = client.post(url, {**form, "preview": "1"})
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="amount-down">1<' in text and enterprise.name in text
    assert benefit(LEASE_KEY).cap == LEASE_CAP  # a preview writes nothing

    with committed():
        published = client.post(url, {**form, "publish": "1"})
    assert published.status_code == 302 and published["Location"] == "/matches/jobs/"
    assert benefit(LEASE_KEY).cap == Decimal("3000000.00")
    assert stored(enterprise).amount == Decimal("3000000.00")
    assert MatchChange.objects.get().cause == "policy"
    assert benefit(LEASE_KEY).history.first().history_change_reason.startswith("经影响预览后发布")

    bad = client.post(
        url, {**form, "condition": '{"all": [{"fact": "nope", "op": "eq", "value": 1}]}', "preview": "1"}
    )
    assert bad.status_code == 200 and "nope" in bad.content.decode()


def json_dumps(value) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- pages


def test_jobs_page_is_for_staff_and_reruns_with_progress(loaded, client):
    from django.contrib.auth.models import Permission

    with committed():
        new_lessee(120)
    enterprise_user = UserFactory()
    client.force_login(enterprise_user)
    assert client.get("/matches/jobs/").status_code == 403
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_jobrun"))
    client.force_login(viewer)
    page = client.get("/matches/jobs/")
    assert page.status_code == 200
    assert 'id="pending-enterprises">0<' in page.content.decode()
    assert "rerun-form" not in page.content.decode()
    assert client.post("/matches/jobs/").status_code == 403

    viewer.user_permissions.add(Permission.objects.get(codename="rerun_all"))
    client.force_login(viewer)
    with committed():
        assert client.post("/matches/jobs/").status_code == 302
    job = JobRun.objects.get(kind="rerun")
    page = client.get("/matches/jobs/").content.decode()
    assert f'id="job-{job.pk}" data-status="succeeded"' in page and "1 / 1（100%）" in page


def test_notifications_page_shows_only_the_users_enterprise(loaded, client):
    with committed():
        mine, theirs = new_lessee(130), new_lessee(131)
    with committed():
        for enterprise in (mine, theirs):
            Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal("100"))
            add_lease(enterprise.pk, "100")
    user = UserFactory()
    MembershipFactory(user=user, enterprise=mine)
    client.force_login(user)
    page = client.get("/matches/notifications/").content.decode()
    lease = benefit(LEASE_KEY)
    assert f"不再符合：{lease.name}" in page
    assert page.count("data-change=") == MatchChange.objects.filter(enterprise=mine).count() > 0
    assert all(f'data-change="{c.pk}"' not in page for c in MatchChange.objects.filter(enterprise=theirs))
    assert "unread" in page
    again = client.get("/matches/notifications/").content.decode()
    assert "unread" in again, "reading the page changes nothing (no state change on GET)"
    newest = MatchChange.objects.filter(enterprise=mine).order_by("-pk").first().pk
    assert f'name="up_to" value="{newest}"' in again
    theirs_newest = MatchChange.objects.filter(enterprise=theirs).order_by("-pk").first().pk
    marked = client.post(
        "/matches/notifications/", {"action": "mark_seen", "up_to": max(newest, theirs_newest)}
    )
    assert marked.status_code == 302
    assert NotificationPreference.objects.get(user=user).last_seen_change_id == newest  # never theirs
    assert "unread" not in client.get("/matches/notifications/").content.decode()  # seen now
    bad = client.post("/matches/notifications/", {"action": "mark_seen", "up_to": "²"})
    assert bad.status_code == 400

    assert client.post("/matches/notifications/", {"email_enabled": "on"}).status_code == 302
    assert NotificationPreference.objects.get(user=user).email_enabled

    client.force_login(UserFactory())  # no enterprise
    assert client.get("/matches/notifications/").status_code == 404


def test_evaluate_enterprise_and_jobs_agree(loaded):
    """The explain path (evaluate_enterprise) and a drain store the same rows."""
    with committed():
        enterprise = new_lessee(140, "5000")
    fields = ("benefit_id", "status", "score", "amount", "amount_basis", "leaf_outcomes", "fingerprint")
    drained = set(MatchResult.objects.filter(enterprise=enterprise).values_list(*fields))
    out_of_scope = result_pairs(enterprise=enterprise) - set(
        MatchResult.objects.values_list("enterprise", "benefit")
    )
    assert out_of_scope  # the other districts' benefits
    forget_results()
    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF)
    assert set(MatchResult.objects.filter(enterprise=enterprise).values_list(*fields)) == drained
    assert result_pairs(enterprise=enterprise) - set(
        MatchResult.objects.values_list("enterprise", "benefit")
    ) == (out_of_scope)
