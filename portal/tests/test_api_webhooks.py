# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Webhook subscriptions through the API: create (secret shown once, Idempotency-Key), list, retrieve,
delivery log, delete (ends deliveries, then 404); scopes; enterprise A never sees or subscribes to B."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from matching import notifications
from matching.models import MatchChange, WebhookDelivery, WebhookSubscription
from policies.models import Benefit
from portal.models import Scope
from portal.tests.api_support import (  # noqa: F401 - fixtures
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
    new_key,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/"
JSON = {"content_type": "application/json"}


def subscribe(client: Client, **body):
    return client.post(URL, {"name": "银行", "url": "https://bank.example.com/hook", **body}, **JSON)


def change_of(enterprise) -> MatchChange:
    return MatchChange.objects.create(
        enterprise=enterprise,
        benefit=Benefit.objects.filter(key="new-factory-lease").first(),
        old_status="needs_info",
        new_status="pending_recognition",
        cause=MatchChange.Cause.ENTERPRISE_DATA,
        as_of=dt.date(2025, 6, 1),
    )


def test_a_machine_key_subscribes_to_every_enterprise_and_sees_the_secret_once(api_world):
    client = key_client(api_world.machine_key)
    created = subscribe(client, enterprise=None)
    assert created.status_code == 201, created.content
    body = created.json()
    stored = WebhookSubscription.objects.get(pk=body["id"])
    assert (
        body["secret"] == stored.secret and body["secret"].startswith("whsec_") and len(body["secret"]) >= 32
    )
    assert body["enterprise"] is None and stored.enterprise_id is None and stored.active
    assert created["Location"].endswith(f"{URL}{body['id']}/")
    listed = client.get(URL).json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    shown = client.get(f"{URL}{body['id']}/")
    assert shown.status_code == 200 and "secret" not in shown.json() and "secret" not in listed[0]
    assert stored.secret not in shown.content.decode() + client.get(URL).content.decode()


def test_a_chosen_secret_is_used_and_the_delivery_log_lists_what_was_sent(api_world):
    client = key_client(api_world.machine_key)
    secret = "whsec_" + "YS1zZWNyZXQtb2YtdGhlLWJhbmstMDEyMzQ1Njc4OQ=="  # Standard Webhooks form
    body = subscribe(client, enterprise=api_world.a.pk, secret=secret).json()
    assert body["secret"] == secret
    ours, other = change_of(api_world.a), change_of(api_world.b)
    assert notifications.dispatch_changes().deliveries == 1  # B's change is not for this subscription
    log = client.get(f"{URL}{body['id']}/deliveries/")
    assert log.status_code == 200, log.content
    rows = log.json()["results"]
    assert len(rows) == 1 and rows[0]["change_ids"] == [ours.pk] and other.pk not in rows[0]["change_ids"]
    assert rows[0]["state"] == "pending" and rows[0]["event"] == "match.changed"
    assert log.json()["next_cursor"]  # the log is a cursor page like every list


def test_enterprise_a_subscribes_only_to_itself_and_never_sees_b(api_world):
    b_subscription = notifications.subscribe_webhook(
        name="乙", url="https://b.example.com/h", enterprise_id=api_world.b.pk
    )
    everyone = notifications.subscribe_webhook(name="全部", url="https://all.example.com/h")
    session = Client()
    session.force_login(api_world.user_a)
    limited = key_client(
        new_key(Scope.READ_MATCHES, Scope.MANAGE_WEBHOOKS, enterprise_ids=[api_world.a.pk])[1]
    )
    for who, client in {
        "key of A's user": key_client(api_world.key_a),
        "session of A's user": session,
        "key limited to A": limited,
    }.items():
        for hidden in (b_subscription, everyone):
            assert_problem(client.get(f"{URL}{hidden.pk}/"), 404, "not_found")
            assert_problem(client.get(f"{URL}{hidden.pk}/deliveries/"), 404, "not_found")
            assert_problem(client.delete(f"{URL}{hidden.pk}/"), 404, "not_found")
        assert_problem(subscribe(client, enterprise=api_world.b.pk), 404, "not_found")
        assert_problem(subscribe(client, enterprise=None), 400, field="enterprise")
        own = subscribe(client, enterprise=api_world.a.pk)
        assert own.status_code == 201, (who, own.content)
        listed = {row["id"] for row in client.get(URL).json()["results"]}
        assert own.json()["id"] in listed and not listed & {b_subscription.pk, everyone.pk}, who
        assert all(row["enterprise"] == api_world.a.pk for row in client.get(URL).json()["results"])
    assert WebhookSubscription.objects.get(pk=b_subscription.pk).active  # the 404 DELETE did nothing
    assert WebhookSubscription.objects.filter(enterprise=api_world.b).count() == 1


def test_an_enterprise_users_subscription_defaults_to_its_company(api_world):
    created = subscribe(key_client(api_world.key_a))
    assert created.status_code == 201 and created.json()["enterprise"] == api_world.a.pk
    # A key limited to a list must say which enterprise.
    limited = key_client(
        new_key(Scope.READ_MATCHES, Scope.MANAGE_WEBHOOKS, enterprise_ids=[api_world.a.pk])[1]
    )
    assert_problem(subscribe(limited), 400, "validation", field="enterprise")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://bank.example.com/hook"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": 5}, "url"),
        ({"name": ""}, "name"),
        ({"name": ["x"]}, "name"),
        ({"secret": "short"}, "secret"),
        ({"secret": "a-secret-of-the-bank-0123456789"}, "secret"),  # not whsec_<base64>
        ({"secret": "whsec_c2hvcnQ="}, "secret"),  # a 5-byte key
        ({"secret": "whsec_not base64!"}, "secret"),
        ({"enterprise": "42"}, "enterprise"),
        ({"active": False}, "active"),  # unknown field
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(api_world, body, field):
    response = subscribe(key_client(api_world.machine_key), **body)
    assert_problem(response, 400, field=field)
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "scopes",
    [
        (Scope.READ_POLICIES, Scope.APPLICATIONS),
        (Scope.READ_MATCHES,),  # reading matches is not managing webhooks
        (Scope.MANAGE_WEBHOOKS,),  # and a subscription carries match data
    ],
)
def test_the_subscriptions_need_scopes_manage_webhooks_and_read_matches(api_world, scopes):
    client = key_client(new_key(*scopes)[1])
    assert_problem(client.get(URL), 403, "permission_denied")
    assert_problem(subscribe(client), 403, "permission_denied")
    assert not WebhookSubscription.objects.exists()
    assert_problem(Client().get(URL), 401)


def test_manage_webhooks_with_read_matches_subscribes(api_world):
    client = key_client(new_key(Scope.MANAGE_WEBHOOKS, Scope.READ_MATCHES)[1])
    assert subscribe(client, enterprise=None).status_code == 201


def test_idempotency_key_creates_one_subscription_and_replays_the_reply(api_world):
    client = key_client(api_world.machine_key, HTTP_IDEMPOTENCY_KEY="sub-1")
    first = subscribe(client, enterprise=api_world.a.pk)
    again = subscribe(client, enterprise=api_world.a.pk)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert WebhookSubscription.objects.count() == 1
    assert_problem(subscribe(client, enterprise=api_world.b.pk), 422, "idempotency_key_reused")
    assert WebhookSubscription.objects.count() == 1


def test_delete_ends_the_subscription_and_its_pending_deliveries(api_world):
    client = key_client(api_world.machine_key)
    body = subscribe(client, enterprise=api_world.a.pk).json()
    change_of(api_world.a)
    notifications.dispatch_changes()
    delivery = WebhookDelivery.objects.get(subscription_id=body["id"])
    assert delivery.state == "pending"
    assert client.delete(f"{URL}{body['id']}/").status_code == 204
    assert_problem(client.get(f"{URL}{body['id']}/"), 404)
    assert_problem(client.delete(f"{URL}{body['id']}/"), 404)
    assert client.get(URL).json()["results"] == []
    subscription = WebhookSubscription.objects.get(pk=body["id"])  # kept, with its log, for staff
    assert not subscription.active
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.last_error == notifications.UNSUBSCRIBED
    # Nothing more is made for it, and a delivery made before it ended is not sent.
    change_of(api_world.a)
    assert notifications.dispatch_changes().deliveries == 0
    late = WebhookDelivery.objects.create(subscription=subscription, payload={"changes": []})
    attempt = notifications.deliver_webhook(delivery_id=late.pk)
    assert not attempt.delivered and attempt.retry_in is None
    late.refresh_from_db()
    assert late.state == "failed" and late.attempts == 0


def test_errors_and_help_in_english(api_world):
    client = key_client(api_world.key_a, HTTP_ACCEPT_LANGUAGE="en")
    limited = key_client(
        new_key(Scope.READ_MATCHES, Scope.MANAGE_WEBHOOKS, enterprise_ids=[api_world.a.pk])[1],
        HTTP_ACCEPT_LANGUAGE="en",
    )
    problem = assert_problem(subscribe(limited), 400, field="enterprise")
    assert "enterprise" in problem["errors"]["enterprise"][0].lower()
    assert_problem(subscribe(client, enterprise=api_world.b.pk), 404)


def _json_schema(node, components):
    """An OpenAPI 3.0 schema as plain JSON Schema: $ref inlined, `nullable` as a null type."""
    if isinstance(node, list):
        return [_json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(components[node["$ref"].rsplit("/", 1)[1]], components)
    converted = {key: _json_schema(value, components) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_the_delivery_log_matches_its_schema_a_cursor_page(api_world):
    import jsonschema
    import yaml

    client = key_client(api_world.machine_key)
    subscription_id = subscribe(client, enterprise=None).json()["id"]
    WebhookDelivery.objects.create(
        subscription_id=subscription_id, event="match.changed", payload={"changes": [{"id": 7}]}
    )
    reply = client.get(f"{URL}{subscription_id}/deliveries/")
    assert reply.status_code == 200
    openapi = yaml.safe_load(Client().get("/api/schema/").content)
    operation = openapi["paths"]["/api/v1/webhooks/{id}/deliveries/"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    components = openapi["components"]["schemas"]
    jsonschema.validate(reply.json(), _json_schema(schema, components))
    assert reply.json()["results"][0]["change_ids"] == [7]
    assert {"cursor", "page_size"} <= {parameter["name"] for parameter in operation["parameters"]}
