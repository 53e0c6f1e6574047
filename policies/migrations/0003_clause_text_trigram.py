"""pg_trgm and a trigram index on clause text, for the policy-library search on PostgreSQL.

PostgreSQL's text-search parsers do not segment Chinese (a run of hanzi becomes one token), so the
library search matches substrings, and falls back to trigram similarity when nothing matches exactly.
A GIN trigram index serves both (ILIKE '%…%' and word_similarity). On other databases (SQLite) this
migration does nothing and the search uses icontains alone. When the extension cannot be created (no
privilege), the migration warns and goes on: the search then runs without the index and without
similarity (policies.selectors.trigram_available() tells which).
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)
INDEX_NAME = "policies_clause_text_trgm"


def create_trigram_index(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    try:
        # A savepoint: a refusal must not abort the migration's transaction.
        with transaction.atomic(using=connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        logger.warning(
            "pg_trgm is not available (%s): the policy search runs without trigram similarity", exc
        )
        return
    table = schema_editor.quote_name(apps.get_model("policies", "Clause")._meta.db_table)
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {INDEX_NAME} ON {table} USING gin (text gin_trgm_ops)")


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other objects of the database may rely on it.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("policies", "0002_policy_documents")]

    operations = [migrations.RunPython(create_trigram_index, drop_trigram_index, elidable=False)]
