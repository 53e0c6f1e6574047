"""Enterprise import benchmark: `python bench/enterprise_import.py --rows 10000` (prints figures; not a test).

On the database of DATABASE_URL: migrate and load the policies, build an import file of N rows from
generated enterprises (generated in a transaction that is rolled back, then exported with the export
format), and time the dry run (preview_import) and the committed import (apply_import) creating N
enterprises, then the same file again (every row an update). The database is left with the N
enterprises; run it on a scratch database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from enterprises import transfer
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
            exporter = transfer.export_xlsx if args.format == "xlsx" else transfer.export_csv
            content = exporter(enterprises, year=year)
            raise _Rollback
    except _Rollback:
        pass
    filename = f"bench.{args.format}"
    print(f"{args.rows} rows, {args.format}, {len(content) / 1e6:.1f} MB, {connection.vendor}")
    for label, step in [
        ("dry run, all new", lambda: transfer.preview_import(content, filename)),
        ("import, all new (create)", lambda: transfer.apply_import(content, filename, actor=None)),
        ("dry run, all existing", lambda: transfer.preview_import(content, filename)),
        ("import, all existing (update)", lambda: transfer.apply_import(content, filename, actor=None)),
    ]:
        started = time.monotonic()
        preview = step()
        elapsed = time.monotonic() - started
        print(f"{label:32s} {elapsed:8.1f} s   ok={preview.ok} errors={preview.error_count}")
        if not preview.ok:
            print("  first errors:", [r.errors for r in preview.rows if r.errors][:3], preview.errors[:3])


if __name__ == "__main__":
    main()
