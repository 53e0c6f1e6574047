"""The JSON Schema of the condition language: the committed file is the generated one, and it admits
every condition of the fixtures while refusing shapes the language refuses."""

from pathlib import Path

import jsonschema
import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from policies.rules import jsonable
from policies.rules.schema import condition_schema, condition_schema_text

ROOT = Path(settings.BASE_DIR)
COMMITTED = ROOT / "fixtures" / "policies" / "condition.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(condition_schema())


def test_the_committed_schema_is_the_generated_one():
    assert COMMITTED.read_text(encoding="utf-8") == condition_schema_text(), (
        "run manage.py export_rule_schema and commit fixtures/policies/condition.schema.json"
    )
    jsonschema.Draft202012Validator.check_schema(condition_schema())


def test_export_rule_schema_writes_the_file_and_check_compares(tmp_path):
    target = tmp_path / "condition.schema.json"
    with pytest.raises(CommandError):
        call_command("export_rule_schema", "--check", "--output", str(target))
    call_command("export_rule_schema", "--output", str(target))
    assert target.read_text(encoding="utf-8") == condition_schema_text()
    call_command("export_rule_schema", "--check", "--output", str(target))
    target.write_text("{}", encoding="utf-8")
    with pytest.raises(CommandError, match="not the current schema"):
        call_command("export_rule_schema", "--check", "--output", str(target))


def fixture_conditions():
    for path in sorted((ROOT / "fixtures" / "policies").glob("*.yaml")):
        for clause in yaml.safe_load(path.read_text(encoding="utf-8"))["clauses"]:
            for benefit in clause.get("benefits") or []:
                yield f"{path.name} {clause['number']} {benefit['key']}", jsonable(benefit.get("condition"))


def test_every_fixture_condition_is_admitted():
    conditions = list(fixture_conditions())
    assert len(conditions) > 100
    for where, condition in conditions:
        errors = [error.message for error in VALIDATOR.iter_errors(condition)]
        assert not errors, (where, errors)


@pytest.mark.parametrize(
    "tree",
    [
        {"all": []},
        {"fact": "a", "op": "gte", "value": 1},
        {"fact": "a", "op": "gte", "value": 1, "quote": " "},
        {"fact": "a", "op": "like", "value": 1, "quote": "q"},
        {"fact": "a", "op": "exists", "value": "yes", "quote": "q"},
        {"fact": "a", "op": "in", "value": [], "quote": "q"},
        {"fact": "a", "op": "between", "value": [1], "quote": "q"},
        {"fact": "a", "op": "within", "value": ["310000"], "quote": "q"},
        {"fact": "a", "op": "eq", "value": 1, "quote": "q", "clause": ""},
        {"fact": "a", "op": "eq", "value": 1, "quote": "q", "extra": 1},
        {"all": [{"fact": "a", "op": "eq", "value": 1, "quote": "q"}], "any": []},
    ],
)
def test_shapes_the_language_refuses_are_refused_by_the_schema(tree):
    assert not VALIDATOR.is_valid(tree)


CAP_GROUP = jsonschema.Draft202012Validator(
    {"$ref": "#/$defs/CapGroup", "$defs": condition_schema()["$defs"]}
)


def test_every_fixture_cap_group_is_admitted_and_bad_ones_are_refused():
    groups = [
        jsonable(group)
        for path in sorted((ROOT / "fixtures" / "policies").glob("*.yaml"))
        for group in yaml.safe_load(path.read_text(encoding="utf-8")).get("cap_groups") or []
    ]
    assert groups, "some fixture declares a cap group"
    for group in groups:
        group["limit"] = float(group["limit"])
        assert not list(CAP_GROUP.iter_errors(group)), group
    good = groups[0]
    for bad in (
        {**good, "limit": 0},
        {**good, "period": "month"},
        {**good, "quote": ""},
        {**good, "extra": 1},
    ):
        assert list(CAP_GROUP.iter_errors(bad)), bad
