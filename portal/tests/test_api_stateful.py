# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""schemathesis's stateful phase against the live schema: sequences of calls chained by the links it
infers from the schema (create an enterprise → read it → patch it; list → detail; subscribe a webhook →
read → delete; list applications → act on one), run with a full-scope machine key and with an
enterprise's own key. No step may get a server error or a response the schema does not describe."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from portal.tests.api_support import api_data, api_world, fresh_throttle_counts  # noqa: F401 - fixtures
from portal.tests.test_api_fuzz import CHECKS, one_connection  # noqa: F401 - fixture
from portal.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# A cursor is an opaque token: any string fits the schema, only ones the server issued are accepted.
# ignored_auth counts the session cookie it generates for the schema's second scheme (cookieAuth) as the
# request's credentials although the valid key is sent too; refusal without or with a bad key is proven
# route by route in tests/test_route_sweep.py and test_api_contract.
schema.config.checks.update(excluded_check_names=["positive_data_acceptance", "ignored_auth"])

RUN = settings(
    max_examples=12,
    stateful_step_count=6,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def workflow_with(key: str, calls: list[tuple[str, int]]):
    # declared as the run's explicit credentials, so the auth checks probe without them and with bad ones
    schema.config.update(headers={"Authorization": f"Api-Key {key}"})
    links = schema.as_state_machine()

    class Workflow(links):
        def after_call(self, response, case):
            super().after_call(response, case)
            calls.append((f"{case.method} {case.path}", response.status_code))

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # the library's checks (incl. the stateful ones: use after free, resource availability) plus ours
            super().validate_response(response, case, additional_checks=CHECKS, **kwargs)

    return Workflow


@pytest.mark.parametrize("who", ["machine", "enterprise"])
def test_linked_call_sequences_never_fail(who, api_world, one_connection):
    key = api_world.machine_key if who == "machine" else api_world.key_a
    calls: list[tuple[str, int]] = []
    workflow_with(key, calls).run(settings=RUN)
    assert all(status < 500 for _, status in calls)
    print(
        f"stateful ({who}): {len(calls)} calls over {len({op for op, _ in calls})} operations, 0 server errors"
    )
    # sequences really ran: several operations, and links followed from a created or listed object
    assert len({operation for operation, _ in calls}) >= 5, calls
    # (a success: any 2xx — a DELETE through a link answers 204 — or a 304 to a revalidation)
    assert any((200 <= status < 300 or status == 304) and "{" in operation for operation, status in calls), (
        calls
    )
