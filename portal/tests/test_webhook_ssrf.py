# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""Webhooks cannot be aimed at internal addresses: refused at subscribe time (API) and again at
connect time (delivery), for literal addresses of every class and for names resolving to them."""

from __future__ import annotations

import http.client
import http.server
import threading

import pytest

from matching import notifications, outbound
from matching.models import WebhookDelivery, WebhookSubscription
from portal.tests.api_support import (  # noqa: F401 - fixtures
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
)

URL = "/api/v1/webhooks/"
JSON = {"content_type": "application/json"}

REFUSED = [
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback"),
    ("[::1]", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("[fd00::1]", "private"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("[fe80::1]", "link-local"),
    ("224.0.0.1", "multicast"),
    ("[ff02::1]", "multicast"),
    ("240.0.0.1", "reserved"),
    ("0.0.0.0", "unspecified"),
    ("100.64.0.1", "not global"),  # carrier-grade NAT
    ("[::ffff:127.0.0.1]", "loopback"),  # IPv4-mapped IPv6
]


@pytest.fixture
def dns(monkeypatch):
    """Plays the DNS: names map to the addresses a test gives; the system resolver is never asked."""
    answers: dict[str, list[str]] = {}

    def resolve(host, port):
        if host not in answers:
            raise OSError(f"no such host {host}")
        return answers[host]

    monkeypatch.setattr(outbound, "resolve", resolve)
    return answers


@pytest.mark.parametrize(("host", "reason"), REFUSED)
def test_every_internal_address_class_is_refused(dns, host, reason, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with pytest.raises(outbound.UnsafeDestination, match=reason):
        outbound.check_destination(f"http://{host}:8080/hook")


def test_a_public_address_and_a_name_resolving_to_one_pass(dns):
    dns["hooks.bank.example"] = ["203.0.113.7", "2001:db8::7"]  # documentation ranges are not global…
    with pytest.raises(outbound.UnsafeDestination):
        outbound.check_destination("https://hooks.bank.example/x")
    dns["hooks.bank.example"] = ["8.8.8.8", "2606:4700:4700::1111"]  # … these are
    destination = outbound.check_destination("https://hooks.bank.example/x?y=1")
    assert destination.addresses == ("8.8.8.8", "2606:4700:4700::1111")
    assert (destination.host, destination.port, destination.target) == ("hooks.bank.example", 443, "/x?y=1")


@pytest.mark.parametrize("answer", [["10.1.2.3"], ["8.8.8.8", "192.168.0.10"], ["169.254.169.254"]])
def test_a_name_resolving_to_a_private_address_is_refused(dns, answer):
    dns["evil.example"] = answer
    with pytest.raises(outbound.UnsafeDestination):
        outbound.check_destination("https://evil.example/hook")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/admin/",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://rebind.example/hook",  # resolves to 127.0.0.1
        "http://user:pw@8.8.8.8/",  # credentials in the URL
        "ftp://8.8.8.8/",
    ],
)
def test_the_api_refuses_internal_destinations_with_a_400_and_stores_nothing(api_world, dns, url):
    dns["rebind.example"] = ["127.0.0.1"]
    response = key_client(api_world.machine_key).post(
        URL, {"name": "x", "url": url, "enterprise": None}, **JSON
    )
    body = assert_problem(response, 400, field="url")
    assert "url" in body["errors"]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.django_db
def test_admin_validation_refuses_them_too(dns):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        notifications.subscribe_webhook(name="x", url="http://192.168.1.1/hook")
    assert "url" in raised.value.message_dict
    assert not WebhookSubscription.objects.exists()


class Listener:
    """A receiver on 127.0.0.1 that records every request and answers with `status`."""

    def __init__(self, status: int = 204, location: str | None = None, body: bytes = b""):
        self.requests: list[dict] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                listener.requests.append({"path": self.path, "host": self.headers["Host"]})
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST  # noqa: N815 - a followed redirect would arrive as GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def pending_delivery(url: str) -> WebhookDelivery:
    subscription = WebhookSubscription.objects.create(name="x", url=url, secret="s" * 32)
    return WebhookDelivery.objects.create(
        subscription=subscription, event="match.changed", payload={"changes": []}
    )


@pytest.mark.django_db
def test_dns_rebinding_after_subscribing_is_refused_at_connect_time(dns, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    with Listener() as listener:
        dns["rebind.example"] = ["8.8.8.8"]  # public when subscribing …
        subscription = notifications.subscribe_webhook(
            name="x", url=f"http://rebind.example:{listener.port}/h"
        )
        delivery = WebhookDelivery.objects.create(
            subscription=subscription, event="match.changed", payload={"changes": []}
        )
        dns["rebind.example"] = ["127.0.0.1"]  # … loopback when delivering
        attempt = notifications.deliver_webhook(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert not attempt.delivered and listener.requests == []
    assert delivery.last_error.startswith("refused:") and "loopback" in delivery.last_error
    assert delivery.attempts == 1 and delivery.last_status_code is None


@pytest.mark.django_db
def test_delivery_connects_to_the_checked_address_not_a_second_lookup(dns, settings):
    """The name resolves only through the checked answer (the system resolver does not know it): the
    request reaches that address, with the URL's host in the Host header."""
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]  # an operator's internal receiver, on purpose
    with Listener() as listener:
        dns["receiver.internal.test"] = ["127.0.0.1"]
        delivery = pending_delivery(f"http://receiver.internal.test:{listener.port}/hook?k=1")
        attempt = notifications.deliver_webhook(delivery_id=delivery.pk)
    assert attempt.delivered
    assert listener.requests == [{"path": "/hook?k=1", "host": f"receiver.internal.test:{listener.port}"}]


@pytest.mark.django_db
def test_a_redirect_is_not_followed(dns, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with (
        Listener() as target,
        Listener(status=307, location=f"http://127.0.0.1:{target.port}/in") as redirecting,
    ):
        delivery = pending_delivery(f"http://127.0.0.1:{redirecting.port}/hook")
        attempt = notifications.deliver_webhook(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert not attempt.delivered and delivery.last_status_code == 307 and delivery.last_error == "HTTP 307"
    assert len(redirecting.requests) == 1 and target.requests == []


@pytest.mark.django_db
def test_only_a_bounded_part_of_the_reply_is_read(dns, settings, monkeypatch):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    read = []
    real_read1 = http.client.HTTPResponse.read1

    def counting_read1(self, n=-1):
        chunk = real_read1(self, n)
        read.append(len(chunk))
        return chunk

    monkeypatch.setattr(http.client.HTTPResponse, "read1", counting_read1)
    with Listener(status=200, body=b"x" * 1_000_000) as big:
        delivery = pending_delivery(f"http://127.0.0.1:{big.port}/hook")
        assert notifications.deliver_webhook(delivery_id=delivery.pk).delivered
    assert 0 < sum(read) <= outbound.MAX_RESPONSE_BYTES
