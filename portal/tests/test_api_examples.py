"""The examples in the OpenAPI document match what the serializers really return: every response
example validates against its operation's response schema, with every field present and no field
the serializer does not have (a renamed field or a made-up enum value fails here)."""

from __future__ import annotations

import pytest
import yaml
from jsonschema import Draft202012Validator

from matching.models import MatchChange

METHODS = ("get", "post", "patch", "put", "delete")


@pytest.fixture(scope="module")
def openapi(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def strict(node, components: dict, seen: tuple[str, ...] = ()):
    """OpenAPI 3.0 schema -> JSON Schema: $refs inlined, `nullable` as a null alternative, objects
    closed (no unknown keys) and complete (every declared property present, as a reply has them)."""
    if isinstance(node, list):
        return [strict(item, components, seen) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        assert name not in seen, f"recursive schema {name}"
        return strict(components[name], components, (*seen, name))
    converted = {
        key: strict(value, components, seen)
        for key, value in node.items()
        if key not in ("nullable", "example", "readOnly", "writeOnly", "format", "description")
    }
    if "properties" in node:
        converted["properties"] = {
            name: strict(value, components, seen) for name, value in node["properties"].items()
        }
        converted.setdefault("additionalProperties", False)
        converted["required"] = sorted(node["properties"])
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def response_examples(openapi: dict):
    for path, item in openapi["paths"].items():
        for method in METHODS:
            operation = item.get(method)
            if not operation:
                continue
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    for name, example in media.get("examples", {}).items():
                        yield f"{method.upper()} {path} {status} {name}", media["schema"], example["value"]


def test_every_response_example_is_what_the_serializer_returns(openapi):
    components = openapi["components"]["schemas"]
    checked = 0
    for name, schema, value in response_examples(openapi):
        validator = Draft202012Validator(strict(schema, components))
        errors = sorted(validator.iter_errors(value), key=lambda error: list(error.absolute_path))
        assert not errors, f"{name}: " + "; ".join(
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in errors[:5]
        )
        checked += 1
    assert checked >= 20, checked  # the examples were found (lists are wrapped in their cursor page)


def test_the_change_example_uses_a_real_cause():
    from portal.api import examples

    assert examples.CHANGE["cause"] in MatchChange.Cause.values


def test_the_checker_catches_an_unknown_or_missing_field(openapi):
    components = openapi["components"]["schemas"]
    from portal.api import examples

    validator = Draft202012Validator(strict({"$ref": "#/components/schemas/Change"}, components))
    assert validator.is_valid(examples.CHANGE)
    assert not validator.is_valid({**examples.CHANGE, "made_up": 1})
    assert not validator.is_valid({k: v for k, v in examples.CHANGE.items() if k != "cause"})
    assert not validator.is_valid({**examples.CHANGE, "new_status": "approved"})  # not a MatchStatus
