"""`manage.py export_rule_schema`: write the JSON Schema of the condition language for editors
(fixtures/policies/condition.schema.json; `--check` only compares, for CI)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from policies.rules.schema import condition_schema_text

SCHEMA_PATH = Path("fixtures") / "policies" / "condition.schema.json"


class Command(BaseCommand):
    help = "Write the JSON Schema of the condition language to fixtures/policies/condition.schema.json."

    def add_arguments(self, parser):
        parser.add_argument("--output", help=f"where to write it (default: {SCHEMA_PATH})")
        parser.add_argument("--check", action="store_true", help="fail if the file differs; write nothing")

    def handle(self, *args, **options):
        path = Path(options["output"] or Path(settings.BASE_DIR) / SCHEMA_PATH)
        text = condition_schema_text()
        if options["check"]:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} is not the current schema: run manage.py export_rule_schema")
            self.stdout.write(f"{path}: up to date")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"{path}: written")
