"""A policy reload may not delete a benefit that applications point at: clear error, nothing written."""

import pytest
import yaml

from applications.models import Application
from enterprises.tests.factories import EnterpriseFactory
from policies.loader import load_files
from policies.models import Benefit
from policies.tests.helpers import benefit_of, catalog_paths_for_000, clause_of, policy_fixture

pytestmark = pytest.mark.django_db


def test_removing_an_applied_for_benefit_is_refused_and_the_file_is_not_loaded(tmp_path):
    reports, errors = load_files([*catalog_paths_for_000(), policy_fixture("000")])
    assert not errors
    champion = Benefit.objects.get(key="single-champion")
    Application.objects.create(enterprise=EnterpriseFactory(), benefit=champion)

    data = yaml.safe_load(policy_fixture("000").read_text(encoding="utf-8"))
    clause = clause_of(data, "12")
    clause["benefits"] = [b for b in clause["benefits"] if b["key"] != "single-champion"]
    benefit_of(data, "11", "merger-acquisition")["cap"] = 1  # an edit that must be rolled back too
    edited = tmp_path / policy_fixture("000").name
    edited.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    _, errors = load_files([edited])

    assert len(errors) == 1
    message = "\n".join(errors[0].messages)
    assert "clause 12, benefit single-champion" in message and "申报" in message
    assert Benefit.objects.filter(pk=champion.pk).exists()
    assert Benefit.objects.get(key="merger-acquisition").cap == 5000000
