"""`manage.py load_policies [paths...]`: validate and upsert the fact catalog and the policy fixtures."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from policies.loader import default_paths, expand, load_files, write_reports


class Command(BaseCommand):
    help = (
        "Validate and upsert fixtures (default: fixtures/facts/*.yaml, then fixtures/policies/*.yaml). "
        "Each file loads all-or-nothing; a second run reports everything unchanged."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="*", type=Path, help="YAML files or folders (default: all fixtures)"
        )

    def handle(self, *args, **options):
        paths = expand(options["paths"]) if options["paths"] else default_paths()
        if not paths:
            raise CommandError("no fixture files found")
        write_reports(self, *load_files(paths))
