"""Enterprise import benchmark: `python bench/enterprise_import.py --rows 10000` (prints figures; not a test).

On the database of DATABASE_URL: migrate and load the policies, build an import file of N rows from
generated enterprises (generated in a transaction that is rolled back, then exported with the export
format), and time the dry run (preview_import) and the committed import (apply_import) creating N
enterprises, then the same file again (every row an update that changes nothing), then a file in
which every row changes (town and output value): N enterprises updated.

An import is timed in two parts: its transaction (validation and writes), then the commit, which in
the embedded mode (no CELERY_BROKER_URL, as here) also runs the re-evaluation of the marked
enterprises in-process (matching's drain; with a broker a worker does it). Queries are those of the
import's transaction; "marks" the ones of them that write the change records (enterprises/changes.py: one
upsert per source and batch). The database is left with the N enterprises; run it on a scratch database.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Rollback(Exception):
    pass


class _Queries:
    """Counts the queries run on a connection (all of them, and those writing re-evaluation marks)."""

    def __init__(self) -> None:
        self.total = self.marks = 0

    def __call__(self, execute, sql, params, many, context):
        self.total += 1
        self.marks += "enterprises_enterprisechange" in sql
        return execute(sql, params, many, context)


def _changed(content: bytes, filename: str) -> bytes:
    """The same file with every row changed: another town, output value + 1 yuan."""
    from enterprises import profile_files

    table = profile_files.read_table(content, filename)
    header = [str(cell) for cell in table[0]]
    town, output = header.index("街镇"), header.index("工业总产值（元）")
    for row in table[1:]:
        row += [None] * (len(header) - len(row))  # a sheet may leave trailing empty cells out
        row[town] = "基准测试镇"
        value = row[output]
        row[output] = str(Decimal(str(value)) + 1) if value not in (None, "") else "1"
    if filename.endswith(".xlsx"):
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("企业")
        for row in table:
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    text = io.StringIO()
    csv.writer(text).writerows(table)
    return text.getvalue().encode("utf-8-sig")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_DEV", "1")  # the benchmark process itself: embedded settings, its own URLs
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from enterprises import profile_files
    from enterprises.generator import generate
    from enterprises.models import Enterprise

    call_command("migrate", verbosity=0)
    call_command("load_policies", verbosity=0)
    if Enterprise.objects.exists():
        sys.exit("the database already has enterprises: use a scratch database")
    year = 2025
    content = b""
    try:
        with transaction.atomic():
            generate(args.rows, seed=args.seed, with_history=False)
            enterprises = Enterprise.objects.order_by("pk")
            exporter = profile_files.export_xlsx if args.format == "xlsx" else profile_files.export_csv
            content = exporter(enterprises, year=year)
            raise _Rollback
    except _Rollback:
        pass
    filename = f"bench.{args.format}"
    changed = _changed(content, filename)
    print(f"{args.rows} rows, {args.format}, {len(content) / 1e6:.1f} MB, {connection.vendor}")
    for label, step in [
        ("dry run, all new", lambda: profile_files.preview_import(content, filename)),
        ("import, all new (create)", lambda: profile_files.apply_import(content, filename, actor=None)),
        ("dry run, all existing", lambda: profile_files.preview_import(content, filename)),
        ("import, all existing (update)", lambda: profile_files.apply_import(content, filename, actor=None)),
        ("import, every row changed", lambda: profile_files.apply_import(changed, filename, actor=None)),
    ]:
        queries = _Queries()
        started = time.monotonic()
        with transaction.atomic(), connection.execute_wrapper(queries):
            preview = step()
            written = time.monotonic()
        committed = time.monotonic()
        print(
            f"{label:30s} {committed - started:7.1f} s   (transaction {written - started:5.1f} s, "
            f"commit and in-process re-evaluation {committed - written:5.1f} s)   "
            f"queries {queries.total} (marks {queries.marks})   ok={preview.ok} errors={preview.error_count}"
        )
        if not preview.ok:
            print("  first errors:", [r.errors for r in preview.rows if r.errors][:3], preview.errors[:3])


if __name__ == "__main__":
    main()
