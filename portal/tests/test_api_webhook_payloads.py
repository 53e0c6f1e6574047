# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""A match.changed webhook carries each change exactly as the API shows it: every change of a
delivery validates against the OpenAPI schema of a change (closed: no field the API does not have,
none missing) and equals GET /api/v1/changes/{id}/ for the same change (time zone included)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from jsonschema import Draft202012Validator

from enterprises.models import Project
from matching import notifications, webhook_signing
from matching import services as matching_services
from matching.models import MatchChange, WebhookDelivery, WebhookSubscription
from portal.tests.api_support import AS_OF, api_data, api_world, fresh_throttle_counts, key_client  # noqa: F401
from portal.tests.test_api_examples import strict

pytestmark = pytest.mark.django_db


def change_schema() -> dict:
    openapi = yaml.safe_load(Client().get("/api/schema/").content)
    components = openapi["components"]["schemas"]
    return strict(components["Change"], components)


def test_webhook_changes_validate_against_the_api_schema_and_equal_the_api_item(api_world):
    WebhookSubscription.objects.create(
        name="all", url="https://hooks.example.com/in", secret=webhook_signing.new_secret()
    )
    Project.objects.filter(enterprise=api_world.a).update(area_m2=Decimal("3000"))
    matching_services.evaluate_enterprise(enterprise_id=api_world.a.pk, as_of=AS_OF, cause="enterprise_data")
    MatchChange.objects.update(created_at=timezone.now() - dt.timedelta(minutes=1))  # settled in the feed
    amounts = {
        amount for pair in MatchChange.objects.values_list("old_amount", "new_amount") for amount in pair
    }
    assert None in amounts and len(amounts) > 1  # nulls and amounts both covered

    dispatched = notifications.dispatch_changes()
    assert dispatched.changes == MatchChange.objects.count() and dispatched.deliveries >= 1
    sent = [
        change
        for delivery in WebhookDelivery.objects.order_by("pk")
        for change in json.loads(json.dumps(delivery.payload))["changes"]  # as the body carries it
    ]
    assert len(sent) == MatchChange.objects.count()

    validator = Draft202012Validator(change_schema())
    machine = key_client(api_world.machine_key)
    for change in sent:
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(change)
        ]
        assert not errors, errors
        shown = machine.get(f"/api/v1/changes/{change['id']}/")
        assert shown.status_code == 200
        assert change == shown.json()
    assert all(change["created_at"].endswith("+08:00") for change in sent)  # the API's local time
