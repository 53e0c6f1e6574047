"""Shared helpers of the background re-evaluation tests (in-process and with a real worker)."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from decimal import Decimal

from django.test import override_settings

from enterprises import services as enterprise_services
from enterprises.models import Enterprise, Project
from policies.models import Benefit

AS_OF = dt.date(2025, 6, 1)
LEASE_KEY = "mh-2024-new-industrialization/7/new-factory-lease"
LEASE_CAP = Decimal("10000000.00")


def benefit(global_key: str) -> Benefit:
    document, clause, key = global_key.split("/")
    return Benefit.objects.select_related("clause__document").get(
        clause__document__key=document, clause__number=clause, key=key
    )


def new_lessee(number: int, area: str = "6000", year: int = 2024) -> Enterprise:
    """An enterprise in 闵行 leasing a new self-used factory of `area` m² in `year`, through the
    services (so that it is marked for evaluation as a real edit would)."""
    from enterprises.validators import complete_credit_code

    enterprise = enterprise_services.create_enterprise(
        data={
            "name": f"测试租赁企业{number}",
            "credit_code": complete_credit_code(f"91310112MA1{number:05d}"),
            "district": "闵行区",
            "registered_on": dt.date(2015, 3, 1),
            "legal_form": Enterprise.LegalForm.LLC,
            "industry_code": "3511",
            "scale": Enterprise.Scale.SMALL,
            "projects_declared": True,
            "recognitions_declared": True,
        }
    )
    add_lease(enterprise.pk, area, year)
    return enterprise


def add_lease(enterprise_id: int, area: str, year: int = 2024) -> Project:
    return enterprise_services.add_project(
        enterprise_id=enterprise_id,
        kind=Project.Kind.FACTORY_LEASE,
        year=year,
        values={
            "area_m2": Decimal(area),
            "rent_total": Decimal("10000000"),
            "is_new": True,
            "self_use": True,
            "key_industry_new_project": True,
        },
    )


class Receiver:
    """A tiny HTTP server on 127.0.0.1 recording POSTs; answers `failures` times with 500 first."""

    def __init__(self, failures: int = 0):
        self.requests: list[dict] = []
        self.failures = failures
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "at": time.monotonic()}
                )
                failing = len(receiver.requests) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        # webhooks refuse loopback addresses (matching/outbound.py) unless allowed on purpose
        self._allowed = override_settings(WEBHOOK_ALLOWED_NETWORKS=["127.0.0.1/32"])
        self._allowed.enable()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._allowed.disable()
        self.server.shutdown()
        self.server.server_close()

    def payloads(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]
