"""`manage.py load_calls [paths...] [--demo]`: validate and upsert the application calls (申报通知)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from applications.calls_loader import default_paths, load_files
from policies.loader import display_name, expand


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
        reports, errors = load_files(paths)
        for report in reports:
            self.stdout.write(f"{display_name(report.path)} → {report.subject}")
            for what, tally in report.tallies.items():
                self.stdout.write(f"  {what}: {tally}")
            for warning in report.warnings:
                self.stderr.write(self.style.WARNING(f"  warning: {warning}"))
        if errors:
            lines = [message for error in errors for message in error.messages]
            failed = ", ".join(display_name(error.path) for error in errors)
            raise CommandError(
                f"{len(errors)} file(s) not loaded, nothing of them written ({failed}):\n" + "\n".join(lines)
            )
        self.stdout.write(self.style.SUCCESS(f"{len(reports)} file(s) loaded"))
