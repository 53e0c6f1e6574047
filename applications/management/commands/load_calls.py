"""`manage.py load_calls [paths...] [--demo]`: validate and upsert the application calls (申报通知)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from applications.calls_loader import default_paths, load_files
from policies.loader import expand, write_reports


class Command(BaseCommand):
    help = (
        "Validate and upsert application calls (default: fixtures/calls/*.yaml; --demo adds "
        "fixtures/demo/calls*.yaml). Each file loads all-or-nothing; a second run reports everything unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", type=Path, help="YAML files or folders")
        parser.add_argument("--demo", action="store_true", help="also load the demo calls (fictional)")

    def handle(self, *args, **options):
        paths = expand(options["paths"]) if options["paths"] else default_paths(demo=options["demo"])
        if not paths:
            raise CommandError("no call files found")
        write_reports(self, *load_files(paths))
