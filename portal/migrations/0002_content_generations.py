"""ContentGeneration and the PostgreSQL triggers that bump it (see portal.models.ContentGeneration).

Statement-level triggers with transition tables: one bump per statement and enterprise, however many
rows a bulk write touches (a transition table may serve one event only, hence a trigger per event).
Bumps are inserted in scope order, so two transactions never wait for each other's counters in
opposite orders.
"""

from django.db import migrations, models

TABLE = "portal_contentgeneration"
BUMP = (
    f"INSERT INTO {TABLE} (scope, value) SELECT scope, 1 FROM ({{scopes}}) AS bumped(scope) ORDER BY scope "
    f"ON CONFLICT (scope) DO UPDATE SET value = {TABLE}.value + 1"
)
# a key's counter is named by its public prefix: the edge knows it from the header, before any lookup
KEY_ROWS = "{rows} JOIN portal_apikey ON portal_apikey.id = {rows}.apikey_id"
POLICY_TABLES = ("policies_policydocument", "policies_clause", "policies_benefit", "policies_factdefinition")


def _function(name: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{body}\nRETURN NULL;\nEND $$;"
    )


def _bump_of(rows: str, scope_sql: str) -> str:
    return BUMP.format(scopes=f"SELECT DISTINCT {scope_sql} FROM {rows}") + ";"


FORWARD = [
    # match results: the enterprises whose rows a statement wrote or deleted
    _function("portal_bump_results_new", _bump_of("new_rows", "'results:' || enterprise_id")),
    _function("portal_bump_results_old", _bump_of("old_rows", "'results:' || enterprise_id")),
    _function("portal_bump_results_all", BUMP.format(scopes="VALUES ('results')") + ";"),
    *(
        f"CREATE TRIGGER portal_generation_{event.lower()} AFTER {event} ON matching_matchresult "
        f"REFERENCING {rows.split('_')[0].upper()} TABLE AS {rows} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION portal_bump_results_{rows.split('_')[0]}();"
        for event, rows in (("INSERT", "new_rows"), ("UPDATE", "new_rows"), ("DELETE", "old_rows"))
    ),
    "CREATE TRIGGER portal_generation_truncate AFTER TRUNCATE ON matching_matchresult "
    "FOR EACH STATEMENT EXECUTE FUNCTION portal_bump_results_all();",
    # an enterprise deleted (with no results there would be no other bump): its page becomes a 404
    _function("portal_bump_enterprise_deleted", _bump_of("old_rows", "'results:' || id")),
    "CREATE TRIGGER portal_generation_delete AFTER DELETE ON enterprises_enterprise "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_bump_enterprise_deleted();",
    # policy data and the fact catalog: the benefit, clause and document fields and the wording rows show
    _function("portal_bump_policy", BUMP.format(scopes="VALUES ('policy')") + ";"),
    *(
        f"CREATE TRIGGER portal_generation AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION portal_bump_policy();"
        for table in POLICY_TABLES
    ),
    # API keys: what decides whether and how a key may read (not last_used_at, written once a minute)
    _function("portal_bump_key", BUMP.format(scopes="VALUES ('key:' || OLD.prefix)") + ";"),
    "CREATE TRIGGER portal_generation AFTER UPDATE ON portal_apikey FOR EACH ROW WHEN ("
    "(OLD.prefix, OLD.secret_hash, OLD.scopes, OLD.user_id, OLD.rate_limit, OLD.revoked_at) IS DISTINCT FROM "
    "(NEW.prefix, NEW.secret_hash, NEW.scopes, NEW.user_id, NEW.rate_limit, NEW.revoked_at)) "
    "EXECUTE FUNCTION portal_bump_key();",
    "CREATE TRIGGER portal_generation_delete AFTER DELETE ON portal_apikey FOR EACH ROW "
    "EXECUTE FUNCTION portal_bump_key();",
    _function("portal_bump_key_enterprises_new", _bump_of(KEY_ROWS.format(rows="new_rows"), "'key:' || prefix")),
    _function("portal_bump_key_enterprises_old", _bump_of(KEY_ROWS.format(rows="old_rows"), "'key:' || prefix")),
    "CREATE TRIGGER portal_generation_insert AFTER INSERT ON portal_apikey_enterprises "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_bump_key_enterprises_new();",
    "CREATE TRIGGER portal_generation_delete AFTER DELETE ON portal_apikey_enterprises "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION portal_bump_key_enterprises_old();",
]

BACKWARD = [
    *(
        f"DROP TRIGGER IF EXISTS portal_generation_{event} ON matching_matchresult;"
        for event in ("insert", "update", "delete", "truncate")
    ),
    "DROP TRIGGER IF EXISTS portal_generation_delete ON enterprises_enterprise;",
    *(f"DROP TRIGGER IF EXISTS portal_generation ON {table};" for table in POLICY_TABLES),
    "DROP TRIGGER IF EXISTS portal_generation ON portal_apikey;",
    "DROP TRIGGER IF EXISTS portal_generation_delete ON portal_apikey;",
    "DROP TRIGGER IF EXISTS portal_generation_insert ON portal_apikey_enterprises;",
    "DROP TRIGGER IF EXISTS portal_generation_delete ON portal_apikey_enterprises;",
    *(
        f"DROP FUNCTION IF EXISTS {name}();"
        for name in (
            "portal_bump_results_new", "portal_bump_results_old", "portal_bump_results_all",
            "portal_bump_enterprise_deleted", "portal_bump_policy", "portal_bump_key",
            "portal_bump_key_enterprises_new", "portal_bump_key_enterprises_old",
        )
    ),  # fmt: skip
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return  # SQLite: no triggers, the edge cache is off
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("matching", "0004_schedule"),
        ("policies", "0003_clause_text_trigram"),
        ("enterprises", "0003_import_job"),
    ]

    operations = [
        migrations.CreateModel(
            name="ContentGeneration",
            fields=[
                ("scope", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("value", models.BigIntegerField(default=0)),
            ],
            options={"verbose_name": "缓存版本计数", "verbose_name_plural": "缓存版本计数"},
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
