# ruff: noqa: F811 - fixtures imported from api_support are named as test arguments
"""The API refuses hostile bodies and parameters with a 4xx problem before any work: JSON nested deep
(a RecursionError in the parser before), bodies over the limit, non-ASCII digits."""

import pytest

from portal.tests.api_support import (  # noqa: F401 - fixtures
    api_data,
    api_world,
    assert_problem,
    fresh_throttle_counts,
    key_client,
)

pytestmark = pytest.mark.django_db
JSON = "application/json"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/api/v1/self-check/", "/api/v1/webhooks/", "/api/v1/enterprises/"])
@pytest.mark.parametrize("body", [nested(1000), '{"a":' * 1000 + "1" + "}" * 1000, nested(100_000)])
def test_deep_json_is_a_400_not_a_500(api_world, path, body):
    response = key_client(api_world.machine_key).post(path, body, content_type=JSON)
    assert_problem(response, 400)


def test_a_body_over_the_limit_is_a_413(api_world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = key_client(api_world.machine_key).post(
        "/api/v1/self-check/", '{"answers": {"x": "' + "a" * 2000 + '"}}', content_type=JSON
    )
    assert_problem(response, 413, "payload_too_large")


def test_the_depth_scan_ignores_brackets_in_strings():
    from portal.api.parsers import MAX_JSON_DEPTH, nesting_depth_exceeds

    assert not nesting_depth_exceeds(('{"a": "' + "[" * 500 + '"}').encode(), MAX_JSON_DEPTH)
    assert not nesting_depth_exceeds(('["\\"' + "[" * 500 + '"]').encode(), MAX_JSON_DEPTH)  # escaped quote
    assert nesting_depth_exceeds(nested(MAX_JSON_DEPTH + 1).encode(), MAX_JSON_DEPTH)
    assert not nesting_depth_exceeds(nested(MAX_JSON_DEPTH).encode(), MAX_JSON_DEPTH)


@pytest.mark.parametrize("params", [{"page_size": "²"}, {"page_size": "0"}, {"cursor": "²"}])
def test_non_ascii_digits_in_parameters_are_a_400(api_world, params):
    response = key_client(api_world.machine_key).get("/api/v1/enterprises/", params)
    assert_problem(response, 400)
