"""The OpenAPI document: valid, every operation described with examples, bilingual field help, the
problem format on every error; Swagger UI and Redoc served."""

from __future__ import annotations

import re

import pytest
import yaml
from drf_spectacular.validation import validate_schema

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
METHODS = ("get", "post", "patch", "put", "delete")


@pytest.fixture(scope="module")
def openapi(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def operations(openapi: dict):
    for path, item in openapi["paths"].items():
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method]


def test_the_schema_is_valid_openapi_and_covers_every_endpoint(openapi):
    validate_schema(openapi)
    paths = set(openapi["paths"])
    for path in (
        "/api/v1/documents/", "/api/v1/documents/{key}/", "/api/v1/clauses/", "/api/v1/benefits/",
        "/api/v1/facts/", "/api/v1/facts/{code}/", "/api/v1/enterprises/", "/api/v1/enterprises/{id}/",
        "/api/v1/matches/", "/api/v1/matches/{id}/", "/api/v1/changes/", "/api/v1/self-check/",
        "/api/v1/applications/", "/api/v1/applications/{id}/submit/", "/api/v1/applications/{id}/approve/",
        "/api/v1/webhooks/", "/api/v1/webhooks/{id}/", "/api/v1/webhooks/{id}/deliveries/",
        "/api/v1/webhooks/{id}/rotate-secret/",
    ):  # fmt: skip
        assert path in paths, path
    assert all(path.startswith("/api/v1/") for path in paths)
    assert openapi["components"]["securitySchemes"]["ApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": openapi["components"]["securitySchemes"]["ApiKey"]["description"],
    }


def test_webhook_signing_is_documented_as_standard_webhooks_with_rotation(openapi):
    """The secret's help and the rotation say the scheme (issue 16, Build 2); the old header is gone."""
    created = openapi["components"]["schemas"]["WebhookCreated"]["properties"]["secret"]["description"]
    for text in (
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "v1,",
        "whsec_",
        "Standard Webhooks",
    ):
        assert text in created, text
    rotate = openapi["paths"]["/api/v1/webhooks/{id}/rotate-secret/"]["post"]
    assert "manage_webhooks" in rotate["description"] and "200" in rotate["responses"]
    rotated = rotate["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert {"secret", "previous_secret_expires_at"} <= set(
        openapi["components"]["schemas"][rotated]["properties"]
    )
    assert "X-Portal-Signature" not in yaml.safe_dump(openapi)


def test_every_operation_has_a_bilingual_summary_a_description_and_examples(openapi):
    for name, operation in operations(openapi):
        assert CJK.search(operation["summary"]) and LATIN_WORD.search(operation["summary"]), name
        assert CJK.search(operation["description"]) and LATIN_WORD.search(operation["description"]), name
        examples = [
            example
            for part in [operation.get("requestBody", {}), *operation["responses"].values()]
            for media in part.get("content", {}).values()
            for example in media.get("examples", {}).values()
        ]
        bodiless = "requestBody" not in operation and "content" not in operation["responses"].get(
            "204", {"content": 1}
        )
        assert examples or bodiless, f"{name} has no example"


def test_every_operation_documents_its_errors_in_the_problem_format(openapi):
    problem = {"$ref": "#/components/schemas/Problem"}
    for name, operation in operations(openapi):
        responses = operation["responses"]
        for status in ("401", "403", "404", "429"):
            assert responses[status]["content"]["application/problem+json"]["schema"] == problem, (
                name,
                status,
            )
        if "requestBody" in operation:
            for status in ("400", "413", "415"):
                assert status in responses, (name, status)
    problem_fields = openapi["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem_fields)


def test_fields_carry_help_in_chinese_and_english(openapi):
    schemas = openapi["components"]["schemas"]
    for component, field in (
        ("Enterprise", "credit_code"),
        ("Enterprise", "version"),
        ("Benefit", "cap"),
        ("Benefit", "cap_wan"),
        ("MatchResult", "amount"),
        ("MatchResult", "reasons"),
        ("SelfCheckRequest", "facts"),
        ("Change", "cause"),
        ("WebhookCreated", "secret"),
        ("WebhookCreateRequest", "enterprise"),
        ("WebhookDelivery", "state"),
    ):
        help_text = schemas[component]["properties"][field]["description"]
        assert CJK.search(help_text) and LATIN_WORD.search(help_text), (component, field, help_text)


def test_money_is_a_string_of_yuan_in_the_schema(openapi):
    cap = openapi["components"]["schemas"]["Benefit"]["properties"]["cap"]
    assert cap["type"] == "string" and cap["format"] == "decimal" and cap.get("nullable")


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_are_served(client, path, django_db_blocker):
    with django_db_blocker.unblock():
        response = client.get(path)
    assert response.status_code == 200
    if path == "/api/docs/":  # Swagger UI's start-up script is a file of its own (no inline script)
        with django_db_blocker.unblock():
            response = client.get("/api/docs/?script=")
        assert response.status_code == 200
    assert b"/api/schema/" in response.content


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_documentation_pages_load_nothing_from_outside(client, path, django_db_blocker):
    """No CDN, no web fonts: the pages work on a closed network (issue 14, step 12)."""
    with django_db_blocker.unblock():
        html = client.get(path).content.decode()
    outside = re.findall(r'(?:src|href)=["\'](?:https?:)?//[^"\']+', html)
    assert outside == [] and "fonts.googleapis.com" not in html
