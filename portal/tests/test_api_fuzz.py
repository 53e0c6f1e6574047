# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""schemathesis against the live schema (/api/schema/ served by the WSGI app): for every operation a bounded,
deterministic set of generated requests (valid and invalid), none of which may get a server error or a
response the schema does not describe (status code, content type, body, headers)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.tests.api_support import api_data, api_world, fresh_throttle_counts  # noqa: F401 - fixtures
from portal.wsgi import application

# schemathesis gives every operation's item one node id, of which pytest-xdist would run one item:
# this module runs in the suite's serial pass (scripts/run_tests.sh)
pytestmark = pytest.mark.serial

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# 405s for undeclared methods are asserted in test_api_contract; skipping them here halves the run.
schema.config.phases.coverage.unexpected_methods = set()
# No 5xx; status, content type, body and headers as the schema says; invalid input refused with a 4xx.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


@pytest.fixture
def one_connection():
    """The WSGI handler closes "old" connections around each request; here that connection holds the
    test's transaction, so keep it open (as Django's own test client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_and_never_fails(case, api_world, one_connection):
    case.call_and_validate(headers={"Authorization": f"Api-Key {api_world.machine_key}"}, checks=CHECKS)
