"""Stored results on the database: selectors, both services, fingerprints, changes, the command."""

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from enterprises.models import Enterprise, Project
from enterprises.tests.factories import EnterpriseFactory, ProjectFactory, RecognitionFactory
from matching import selectors, services
from matching.engine import ENGINE_VERSION, validity_on
from matching.engine.spec import IN_FORCE
from matching.models import JobRun, MatchChange, MatchResult, OutOfScope, OutOfScopeResult
from matching.scenarios import load_fixture_specs, load_scenarios, run_scenario
from matching.tests.conftest import forget_results
from policies.models import Benefit

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2025, 6, 1)
LEASE_KEY = "mh-2024-new-industrialization/7/new-factory-lease"


@pytest.fixture
def loaded(policies_loaded, db):
    return policies_loaded


def benefit(global_key: str) -> Benefit:
    document, clause, key = global_key.split("/")
    return Benefit.objects.get(clause__document__key=document, clause__number=clause, key=key)


def lessee(area: str = "6000", key_project: bool = True) -> Enterprise:
    enterprise = EnterpriseFactory(projects_declared=True, recognitions_declared=True)
    ProjectFactory(
        enterprise=enterprise,
        kind=Project.Kind.FACTORY_LEASE,
        year=2024,
        area_m2=Decimal(area),
        rent_total=Decimal("10000000"),
        is_new=True,
        self_use=True,
        key_industry_new_project=key_project,
    )
    return enterprise


def test_specs_from_the_database_equal_specs_from_the_fixtures(loaded):
    from_fixtures = load_fixture_specs()
    from_database = {spec.global_key: spec for spec in selectors.benefit_specs()}
    assert set(from_database) == set(from_fixtures)
    for key, spec in from_database.items():
        assert spec.benefit_id is not None
        assert spec.__class__(**{**spec.__dict__, "benefit_id": None}) == from_fixtures[key], key


def test_golden_scenarios_hold_for_the_specs_and_catalog_in_the_database(loaded):
    specs = {spec.global_key: spec for spec in selectors.benefit_specs()}
    failures = {
        s.name: problems
        for s in load_scenarios()
        if (problems := run_scenario(s, specs, selectors.catalog())[1])
    }
    assert failures == {}


def test_evaluate_enterprise_stores_in_force_results_and_explains_them(loaded):
    enterprise = lessee()
    verdicts = services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="test")
    in_force = [spec for spec in selectors.benefit_specs() if validity_on(spec, AS_OF) == "in_force"]
    assert 0 < len(in_force) < Benefit.objects.count()  # the draft and the expired plan are not stored
    assert [v.spec.global_key for v in verdicts] == [spec.global_key for spec in in_force]
    results = selectors.results_for_enterprise(enterprise.pk)
    assert [row.benefit_id for row in results] == sorted(spec.benefit_id for spec in in_force)
    # a 闵行区 enterprise: the other districts' documents are out of scope, kept as one record
    out = {v.spec.benefit_id for v in verdicts if v.out_of_scope}
    assert out and {v.spec.document_key for v in verdicts if v.out_of_scope} == {
        "xh-2024-energy-saving-fund",
        "pd-2024-nox-reduction-subsidy",
    }
    assert set(OutOfScope.objects.get(enterprise=enterprise).benefits) == {str(pk) for pk in out}
    assert not MatchResult.objects.filter(enterprise=enterprise, benefit_id__in=out).exists()
    assert {(row.status, row.score, row.amount, row.amount_basis) for row in results if row.out_of_scope} == {
        ("not_eligible", 0, None, "not_applicable")
    }

    stored = MatchResult.objects.get(enterprise=enterprise, benefit=benefit(LEASE_KEY))
    assert (stored.status, stored.score, stored.amount, stored.amount_basis, stored.leaf_outcomes) == (
        "pending_recognition",
        90,
        Decimal("10000000.00"),
        "up_to_cap",
        "vvvv",  # the document's applicability (registered, operating in 闵行区), then the clause's two leaves
    )
    assert (stored.engine_version, stored.as_of, stored.amount_fixed) == (ENGINE_VERSION, AS_OF, True)
    explained = selectors.explain_match(stored)
    assert [r.requirement for r in explained.reasons] == [
        "注册地位于闵行区",
        "实际经营地位于闵行区",
        "重点产业领域新引进的制造业项目：是",
        "新租赁自用工业厂房面积 ≥ 5000 平方米",
    ]
    assert explained.reasons[3].value_text == "6000 平方米"
    assert explained.fingerprint == stored.fingerprint


def test_unchanged_inputs_are_not_rewritten_and_changes_are_recorded(loaded):
    enterprise = lessee(area="6000")
    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="first")
    first = dict(MatchResult.objects.filter(enterprise=enterprise).values_list("benefit_id", "evaluated_at"))

    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="again")
    assert (
        dict(MatchResult.objects.filter(enterprise=enterprise).values_list("benefit_id", "evaluated_at"))
        == first
    )
    assert not MatchChange.objects.exists()  # a first result is not a change

    Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal("4800"))
    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="area corrected")
    after = dict(MatchResult.objects.filter(enterprise=enterprise).values_list("benefit_id", "evaluated_at"))
    rewritten = {pk for pk, at in after.items() if at != first[pk]}
    lease = benefit(LEASE_KEY)
    assert rewritten == {lease.pk}  # only the benefit reading the lease area
    change = MatchChange.objects.get()
    assert (
        change.benefit_id,
        change.old_status,
        change.new_status,
        change.old_amount,
        change.new_amount,
    ) == (
        lease.pk,
        "pending_recognition",
        "not_eligible",
        Decimal("10000000.00"),
        None,
    )
    assert (change.cause, change.as_of) == ("area corrected", AS_OF)


def test_a_new_benefit_version_rewrites_its_results(loaded):
    enterprise = lessee()
    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF)
    lease = benefit(LEASE_KEY)
    Benefit.objects.filter(pk=lease.pk).update(version=lease.version + 1, cap=Decimal("8000000"))
    run = services.evaluate_benefit_for_all(benefit_id=lease.pk, as_of=AS_OF, cause="cap corrected")
    assert (run.enterprises, run.benefits, run.evaluated, run.written, run.changes) == (1, 1, 1, 1, 1)
    stored = MatchResult.objects.get(enterprise=enterprise, benefit=lease)
    assert (stored.amount, stored.benefit_version) == (Decimal("8000000.00"), lease.version + 1)
    assert MatchChange.objects.get().old_amount == Decimal("10000000.00")


def test_results_of_a_benefit_leaving_force_are_removed_with_a_change(loaded):
    enterprise = lessee()
    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF)
    # both texts end before 2029-04-01: 000 on 2029-03-31, the 004 plan with its 2027 horizon
    count = MatchResult.objects.filter(
        enterprise=enterprise,
        benefit__clause__document__key__in=[
            "mh-2024-new-industrialization",
            "sh-new-industrialization-excerpt",
        ],
    ).count()
    assert count > 0
    later = dt.date(2029, 4, 1)
    # every stored result of a benefit no longer in force then goes (other texts expire before 2029 too)
    leaving = {spec.benefit_id for spec in selectors.benefit_specs() if validity_on(spec, later) != IN_FORCE}
    expected = MatchResult.objects.filter(benefit_id__in=leaving).count()
    assert expected >= count
    run = services.evaluate_benefits(as_of=later, cause="expiry")
    assert not MatchResult.objects.filter(
        benefit__clause__document__key="mh-2024-new-industrialization"
    ).exists()
    assert not MatchResult.objects.filter(benefit_id__in=leaving).exists()
    assert run.removed == expected
    change = MatchChange.objects.get(benefit=benefit(LEASE_KEY))
    assert (change.old_status, change.new_status, change.cause) == (
        "pending_recognition",
        "not_in_force",
        "expiry",
    )
    assert JobRun.objects.get(kind="match").status == JobRun.Status.SUCCEEDED


def test_bulk_and_single_enterprise_evaluation_store_the_same_results(loaded):
    from enterprises.generator import generate

    generate(150, seed=5, reference_year=2025, batch_size=100)
    lessee(area="5000")
    RecognitionFactory(
        enterprise=lessee(area="4999.99"), kind="future_industry_star", year=2025, first_time=True
    )
    bare = EnterpriseFactory(district="", industry_code="", scale="")  # almost everything unknown

    fields = (
        "enterprise_id",
        "benefit_id",
        "status",
        "score",
        "amount",
        "amount_basis",
        "leaf_outcomes",
        "fingerprint",
    )

    def every_result() -> set[tuple]:
        return {
            *MatchResult.objects.values_list(*fields),
            *((*row, None) for row in OutOfScopeResult.objects.values_list(*fields[:-1])),
        }

    run = services.evaluate_benefits(as_of=AS_OF, chunk_size=64, cause="bulk")
    assert run.enterprises == Enterprise.objects.count() == 153
    bulk = every_result()
    in_force = [spec for spec in selectors.benefit_specs() if validity_on(spec, AS_OF) == "in_force"]
    assert len(bulk) == run.enterprises * len(in_force)
    assert run.written == MatchResult.objects.count() < len(bulk)  # out-of-scope pairs have no row
    statuses = set(MatchResult.objects.values_list("status", flat=True))
    assert {"eligible", "pending_recognition", "needs_info", "not_eligible"} <= statuses

    forget_results()
    for enterprise in Enterprise.objects.all():
        services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="single")
    assert every_result() == bulk
    assert MatchResult.objects.filter(enterprise=bare, status="needs_info").exists()

    again = services.evaluate_benefits(as_of=AS_OF, chunk_size=64)
    assert (again.evaluated, again.written, again.changes) == (run.evaluated, 0, 0)


def test_match_command(loaded, capsys):
    enterprise = lessee()
    call_command("match", "--enterprise", str(enterprise.pk), "--as-of", "2025-06-01")
    assert MatchResult.objects.filter(enterprise=enterprise).exists()
    MatchResult.objects.all().delete()
    call_command("match", "--benefit", LEASE_KEY, "--as-of", "2025-06-01")
    assert list(MatchResult.objects.values_list("benefit_id", flat=True)) == [benefit(LEASE_KEY).pk]
    assert "写入 1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="没有这个扶持项目"):
        call_command("match", "--benefit", "no/such/benefit")
    with pytest.raises(CommandError, match="没有这家企业"):
        call_command("match", "--enterprise", "999999")


def test_a_row_stored_meanwhile_is_upserted_not_duplicated(loaded, monkeypatch):
    """If another writer stored a result between our read and our insert, the chunk falls back to
    the upsert path (and records the change) instead of failing on the unique pair."""
    from matching import storage

    enterprise = lessee(area="6000")
    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF)
    Project.objects.filter(enterprise=enterprise).update(area_m2=Decimal("10"))
    monkeypatch.setattr(
        storage, "_stored_fingerprints", lambda ids, benefit_ids: np.zeros((0, 3), dtype=np.int64)
    )
    services.evaluate_enterprise(enterprise_id=enterprise.pk, as_of=AS_OF, cause="race")
    lease = benefit(LEASE_KEY)
    assert MatchResult.objects.get(enterprise=enterprise, benefit=lease).status == "not_eligible"
    assert len(selectors.results_for_enterprise(enterprise.pk)) == len(
        [spec for spec in selectors.benefit_specs() if validity_on(spec, AS_OF) == "in_force"]
    )
    change = MatchChange.objects.get()
    assert (change.benefit_id, change.old_status, change.new_status, change.cause) == (
        lease.pk,
        "pending_recognition",
        "not_eligible",
        "race",
    )


def test_the_tasks_call_the_services(loaded):
    from matching import tasks

    enterprise = lessee()
    count = tasks.evaluate_enterprise.apply(args=[enterprise.pk, "2025-06-01"]).get()
    assert count == len(selectors.results_for_enterprise(enterprise.pk)) > 0
    MatchResult.objects.all().delete()
    written = tasks.evaluate_benefit.apply(args=[benefit(LEASE_KEY).pk, "2025-06-01"]).get()
    assert written == MatchResult.objects.count() == Enterprise.objects.count()
