"""Validator counters of cached replies (`ContentGeneration`): bumped by the services that write
the data, in the writing transaction; read by HTTP validators (the match list's ETag, the API key cache).

Scopes: `results:<enterprise id>` (its match results: matching.storage; the enterprise deleted:
enterprises.changes), `results` (every enterprise's results at once), `policy` (documents, clauses,
benefits, the fact catalog: policies.changes), `key:<prefix>` (an API key: a trigger on portal's own
portal_apikey tables, so that a revocation by raw SQL counts too). The table lives here, in the
lowest app that writes it, so that every writer bumps it without importing an app above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import connection

from policies.models import ContentGeneration

TABLE = ContentGeneration._meta.db_table
BATCH = 1000


def bump(scopes: Iterable[str]) -> None:
    """Add one to each scope's counter (created at 1). Inserted in scope order, so that two
    transactions never wait for each other's counters in opposite orders."""
    ordered = sorted(set(scopes))
    with connection.cursor() as cursor:
        for start in range(0, len(ordered), BATCH):
            part = ordered[start : start + BATCH]
            cursor.execute(
                f"INSERT INTO {TABLE} (scope, value) VALUES {', '.join(['(%s, 1)'] * len(part))} "
                f"ON CONFLICT (scope) DO UPDATE SET value = {TABLE}.value + 1",
                part,
            )


def bump_results(enterprise_ids: Iterable[int]) -> None:
    bump(f"results:{int(pk)}" for pk in enterprise_ids)


def read(scopes: Sequence[str]) -> tuple[int, ...]:
    """The counters of `scopes`, in their order (0 for one never bumped)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT scope, value FROM {TABLE} WHERE scope IN ({', '.join(['%s'] * len(scopes))})",
            list(scopes),
        )
        values = dict(cursor.fetchall())
    return tuple(values.get(scope, 0) for scope in scopes)
