"""The demo's approved application and payout (manage.py load_demo_grants) are what fixtures/demo/grants.yaml says."""

from decimal import Decimal

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command

from applications.management.commands.load_demo_grants import GRANTS
from applications.models import Application, State
from policies.loader import catalog_paths, default_paths, load_files
from portal.roles import ensure_roles

pytestmark = pytest.mark.django_db


def documents_of_the_demo_calls() -> list:
    """Only the policy files the demo calls rest on (loading every document would take a minute)."""
    calls = yaml.safe_load((GRANTS.parent / "calls.yaml").read_text(encoding="utf-8"))["calls"]
    keys = {call["document"] for call in calls}
    return [
        path
        for path in default_paths()
        if path.parent.name == "policies" and any(f"\n  key: {key}\n" in path.read_text() for key in keys)
    ]


@pytest.fixture
def demo_world():
    documents = documents_of_the_demo_calls()
    assert len(documents) == 2
    _reports, errors = load_files(catalog_paths() + documents)
    assert not errors
    quiet = open("/dev/null", "w")  # noqa: SIM115
    for command in ("load_demo", "load_demo_calls"):
        call_command(command, stdout=quiet)
    demo = yaml.safe_load(GRANTS.read_text(encoding="utf-8"))["application"]
    reviewer = get_user_model().objects.create_user(demo["reviewer"], password="x", is_staff=True)
    reviewer.groups.add(ensure_roles()["reviewer"])
    return demo


def test_the_demo_application_is_approved_and_paid_as_the_fixture_says(demo_world, capsys):
    call_command("load_demo_grants")
    application = Application.objects.get()
    assert application.benefit.global_key == demo_world["benefit"]
    assert application.state == State.APPROVED
    assert application.approved_amount == Decimal(str(demo_world["requested_amount"]))
    stages = list(application.payout_stages.order_by("order"))
    recorded = demo_world["stages"]
    assert [stage.payment_order for stage in stages[: len(recorded)]] == [
        r["payment_order"] for r in recorded
    ]
    assert [stage.paid_on is not None for stage in stages[: len(recorded)]] == [
        r["paid_days_ago"] is not None for r in recorded
    ]
    assert all(not stage.payment_order for stage in stages[len(recorded) :])

    call_command("load_demo_grants")  # idempotent
    assert Application.objects.count() == 1
    assert "演示申报已存在" in capsys.readouterr().out
