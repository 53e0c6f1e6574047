# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Webhook signing per Standard Webhooks, and key rotation (issue 16, Build 2).

Headers webhook-id / webhook-timestamp / webhook-signature ("v1,<base64 HMAC-SHA256 of
id.timestamp.body>"), secrets "whsec_<base64>"; checked against the specification's published
example, and real deliveries to a local receiver are verified as a receiver would. A rotation (POST
…/rotate-secret/, scope manage_webhooks) returns the new secret once; during the grace period a
delivery carries both signatures, space-separated, and each secret verifies it alone."""

from __future__ import annotations

import datetime as dt

import pytest
import standardwebhooks
from django.utils import timezone

from matching import notifications, outbound, webhook_signing
from matching.models import MatchChange, WebhookSubscription
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

# The example of the Standard Webhooks specification and its reference libraries' tests.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_is_the_specifications_example():
    headers = webhook_signing.headers([SPEC_SECRET], msg_id=SPEC_ID, body=SPEC_BODY, timestamp=SPEC_TIMESTAMP)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": SPEC_SIGNATURE,
    }
    webhook_signing.verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": SPEC_BODY + b" "}, "no matching signature"),
        ({"secret": webhook_signing.new_secret()}, "no matching signature"),
        ({"now": SPEC_TIMESTAMP + 301}, "timestamp"),
        ({"now": SPEC_TIMESTAMP - 301}, "timestamp"),
        ({"headers": {"webhook-id": SPEC_ID}}, "missing"),
    ],
)
def test_a_tampered_stale_or_unsigned_message_does_not_verify(change, reason):
    headers = change.get(
        "headers",
        webhook_signing.headers([SPEC_SECRET], msg_id=SPEC_ID, body=SPEC_BODY, timestamp=SPEC_TIMESTAMP),
    )
    with pytest.raises(webhook_signing.InvalidSignature, match=reason):
        webhook_signing.verify(
            change.get("secret", SPEC_SECRET),
            headers,
            change.get("body", SPEC_BODY),
            now=change.get("now", SPEC_TIMESTAMP),
        )


def reference_verify(secret: str, headers: dict, body: bytes) -> None:
    """The receiver side of the Standard Webhooks reference library (PyPI standardwebhooks)."""
    standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)


def test_the_reference_library_signs_the_specifications_example_as_we_do():
    signed = standardwebhooks.Webhook(SPEC_SECRET).sign(
        SPEC_ID, dt.datetime.fromtimestamp(SPEC_TIMESTAMP, tz=dt.UTC), SPEC_BODY.decode()
    )
    assert (
        signed
        == SPEC_SIGNATURE
        == webhook_signing.signature(SPEC_SECRET, SPEC_ID, str(SPEC_TIMESTAMP), SPEC_BODY)
    )


def test_generated_secrets_are_whsec_with_a_24_byte_key():
    secret = webhook_signing.new_secret()
    assert secret.startswith("whsec_") and len(webhook_signing.key_of(secret)) == 24
    assert webhook_signing.is_valid_secret(secret) and secret != webhook_signing.new_secret()


# --- deliveries --------------------------------------------------------------------------------


@pytest.fixture
def sent(monkeypatch):
    """What deliver_webhook POSTs, captured at the outbound layer (its SSRF checks are tested apart)."""
    requests = []

    def post(url, *, body, headers):
        requests.append({"url": url, "body": body, "headers": headers})
        return 204

    monkeypatch.setattr(outbound, "post", post)
    return requests


def deliver_one(subscription: WebhookSubscription, enterprise) -> None:
    MatchChange.objects.create(
        enterprise=enterprise,
        benefit=Benefit.objects.filter(key="new-factory-lease").first(),
        old_status="needs_info",
        new_status="pending_recognition",
        cause=MatchChange.Cause.ENTERPRISE_DATA,
        as_of=dt.date(2025, 6, 1),
    )
    notifications.dispatch_changes()
    delivery = subscription.deliveries.order_by("-pk").first()
    assert notifications.deliver_webhook(delivery_id=delivery.pk).delivered


def test_a_delivery_verifies_with_the_subscription_secret(api_world, sent):
    created = key_client(api_world.machine_key).post(
        URL, {"name": "银行", "url": "https://bank.example.com/hook", "enterprise": api_world.a.pk}, **JSON
    )
    secret = created.json()["secret"]
    subscription = WebhookSubscription.objects.get(pk=created.json()["id"])
    deliver_one(subscription, api_world.a)
    (request,) = sent
    headers = request["headers"]
    webhook_signing.verify(secret, headers, request["body"])
    reference_verify(secret, headers, request["body"])  # a receiver using the reference library
    assert headers["webhook-id"] == f"msg_{subscription.deliveries.get().pk}"
    assert "X-Portal-Signature" not in headers and len(headers["webhook-signature"].split()) == 1


def test_rotation_returns_the_new_secret_once_and_both_sign_during_the_grace(api_world, sent, settings):
    settings.WEBHOOK_SECRET_GRACE = 3600
    client = key_client(api_world.machine_key)
    created = client.post(
        URL, {"name": "银行", "url": "https://bank.example.com/hook", "enterprise": api_world.a.pk}, **JSON
    ).json()
    old = created["secret"]
    rotated = client.post(f"{URL}{created['id']}/rotate-secret/")
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old
    expires = dt.datetime.fromisoformat(rotated.json()["previous_secret_expires_at"])
    assert dt.timedelta(minutes=59) < expires - timezone.now() <= dt.timedelta(hours=1)
    shown = client.get(f"{URL}{created['id']}/").content.decode() + client.get(URL).content.decode()
    assert (
        new not in shown and old not in shown and "secret" not in client.get(f"{URL}{created['id']}/").json()
    )

    subscription = WebhookSubscription.objects.get(pk=created["id"])
    deliver_one(subscription, api_world.a)
    request = sent[-1]
    assert len(request["headers"]["webhook-signature"].split()) == 2
    webhook_signing.verify(new, request["headers"], request["body"])  # a receiver already switched
    webhook_signing.verify(old, request["headers"], request["body"])  # one not yet switched
    reference_verify(new, request["headers"], request["body"])
    reference_verify(old, request["headers"], request["body"])

    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    deliver_one(subscription, api_world.a)
    request = sent[-1]
    assert len(request["headers"]["webhook-signature"].split()) == 1
    webhook_signing.verify(new, request["headers"], request["body"])
    with pytest.raises(webhook_signing.InvalidSignature):
        webhook_signing.verify(old, request["headers"], request["body"])
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        reference_verify(old, request["headers"], request["body"])


def test_a_retried_rotation_with_an_idempotency_key_rotates_once(api_world):
    client = key_client(api_world.machine_key)
    created = client.post(URL, {"name": "银行", "url": "https://bank.example.com/hook"}, **JSON).json()
    first = client.post(f"{URL}{created['id']}/rotate-secret/", {}, **JSON, HTTP_IDEMPOTENCY_KEY="rotate-1")
    again = client.post(f"{URL}{created['id']}/rotate-secret/", {}, **JSON, HTTP_IDEMPOTENCY_KEY="rotate-1")
    assert first.status_code == again.status_code == 200
    assert first.json()["secret"] == again.json()["secret"]
    stored = WebhookSubscription.objects.get(pk=created["id"])
    assert stored.secret == first.json()["secret"] and stored.previous_secret == created["secret"]


def test_rotation_needs_manage_webhooks_and_a_visible_subscription(api_world):
    theirs = notifications.subscribe_webhook(
        name="乙", url="https://b.example.com/h", enterprise_id=api_world.b.pk
    )
    before = theirs.secret
    assert_problem(key_client(api_world.key_a).post(f"{URL}{theirs.pk}/rotate-secret/"), 404, "not_found")
    read_only = key_client(new_key(Scope.READ_MATCHES)[1])
    assert read_only.post(f"{URL}{theirs.pk}/rotate-secret/").status_code == 403
    assert WebhookSubscription.objects.get(pk=theirs.pk).secret == before
