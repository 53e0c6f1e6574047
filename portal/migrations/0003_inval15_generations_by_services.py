"""The validator counters move to policies (policies/generations.py), bumped by the services that
write the data; the triggers 0002 installed on other apps' tables go (matching_matchresult,
enterprises_enterprise, policies_*). The triggers on portal's own key tables stay (a key revoked by
raw SQL still counts on the next request) and now bump the counters in their new table."""

from django.db import migrations

OLD, NEW = "portal_contentgeneration", "policies_contentgeneration"
POLICY_TABLES = ("policies_policydocument", "policies_clause", "policies_benefit", "policies_factdefinition")
KEY_ROWS = "{rows} JOIN portal_apikey ON portal_apikey.id = {rows}.apikey_id"


def _bump(table: str, scopes: str) -> str:
    return (
        f"INSERT INTO {table} (scope, value) SELECT scope, 1 FROM ({scopes}) AS bumped(scope) ORDER BY scope "
        f"ON CONFLICT (scope) DO UPDATE SET value = {table}.value + 1;"
    )


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND $$;"
    )


def _key_functions(table: str) -> list[str]:
    return [
        _function("portal_bump_key", _bump(table, "VALUES ('key:' || OLD.prefix)")),
        _function(
            "portal_bump_key_enterprises_new",
            _bump(table, f"SELECT DISTINCT 'key:' || prefix FROM {KEY_ROWS.format(rows='new_rows')}"),
        ),
        _function(
            "portal_bump_key_enterprises_old",
            _bump(table, f"SELECT DISTINCT 'key:' || prefix FROM {KEY_ROWS.format(rows='old_rows')}"),
        ),
    ]


FORWARD = [
    *(
        f"DROP TRIGGER IF EXISTS portal_generation_{event} ON matching_matchresult;"
        for event in ("insert", "update", "delete", "truncate")
    ),
    "DROP TRIGGER IF EXISTS portal_generation_delete ON enterprises_enterprise;",
    *(f"DROP TRIGGER IF EXISTS portal_generation ON {table};" for table in POLICY_TABLES),
    *(
        f"DROP FUNCTION IF EXISTS {name}();"
        for name in (
            "portal_bump_results_new",
            "portal_bump_results_old",
            "portal_bump_results_all",
            "portal_bump_enterprise_deleted",
            "portal_bump_policy",
        )
    ),
    # the counters go on from where they were: a page kept under an old value is never served again
    f"INSERT INTO {NEW} (scope, value) SELECT scope, value FROM {OLD} "
    f"ON CONFLICT (scope) DO UPDATE SET value = {NEW}.value + excluded.value;",
    *_key_functions(NEW),
]


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: 0002 installed no triggers
    for statement in FORWARD:
        schema_editor.execute(statement)


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    import importlib

    previous = importlib.import_module("portal.migrations.0002_content_generations")
    schema_editor.execute(f"INSERT INTO {OLD} (scope, value) SELECT scope, value FROM {NEW};")
    for statement in previous.FORWARD:
        if statement.startswith("CREATE TRIGGER") and " ON portal_apikey" in statement:
            continue  # still there
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0002_content_generations"),
        ("policies", "0011_inval15_change_records"),
        ("matching", "0008_inval15_change_records_moved"),
    ]

    operations = [
        migrations.RunPython(_forward, _backward),
        migrations.DeleteModel(name="ContentGeneration"),
    ]
