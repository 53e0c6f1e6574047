"""`manage.py check_fidelity`: compare the policy fixtures (or the loaded database) with their source texts.

Each fixture's `document.source_file` is looked up in ../shared/seeds, then ../shared/corpus. Every seed text
must be encoded by a fixture; a corpus text without one is listed as not encoded yet. Prints, per document,
ok or failed with its problems, and every waiver (figures_not_benefits, dates read from words) with its reason.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError
from pydantic import ValidationError as SchemaError

from policies.fidelity import (
    corpus_dir,
    document_problems,
    fidelity_spec,
    fixture_clauses,
    load_catalog,
    seed_files,
    seeds_dir,
    source_path,
    waivers,
)
from policies.loader import PolicyFileSpec, display_name, expand, fixtures_dir


class Command(BaseCommand):
    help = "Check that every source text is encoded faithfully: numbering, verbatim clauses, amounts, conditions."

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="*", type=Path, help="policy fixture files or folders (default: all)"
        )
        parser.add_argument("--facts", type=Path, help="fact catalog folder (default: fixtures/facts)")
        parser.add_argument(
            "--regions", type=Path, help="region tree folder (default: regions next to the fact catalog)"
        )
        parser.add_argument(
            "--database", action="store_true", help="check the loaded documents instead of the files' data"
        )

    def handle(self, *args, **options):
        files = expand(options["paths"] or [fixtures_dir() / "policies"])
        catalog = load_catalog(options["facts"] or fixtures_dir() / "facts", options["regions"])
        failures, encoded = 0, set()
        for path in files:
            name = display_name(path)
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                PolicyFileSpec.model_validate(data)
            except (OSError, yaml.YAMLError, SchemaError) as exc:
                self.stdout.write(self.style.ERROR(f"{name}: failed: not a valid policy file"))
                self.stdout.write(f"  {str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}")
                failures += 1
                continue
            document, clauses = data["document"], fixture_clauses(data)
            spec = fidelity_spec(data.get("fidelity"))
            source_file = document["source_file"]
            encoded.add(source_file)
            source = source_path(source_file)
            if source is None:
                self.stdout.write(self.style.ERROR(f"{name}: failed: {source_file} is in no source folder"))
                failures += 1
                continue
            if options["database"]:
                document, clauses = self._loaded(document["key"])
                if document is None:
                    self.stdout.write(
                        self.style.ERROR(f"{name}: failed: {data['document']['key']} is not loaded")
                    )
                    failures += 1
                    continue
            problems = document_problems(document, clauses, source.read_text(encoding="utf-8"), spec, catalog)
            status = (
                self.style.SUCCESS("ok")
                if not problems
                else self.style.ERROR(f"failed, {len(problems)} problem(s)")
            )
            self.stdout.write(f"{source_file} → {data['document']['key']}: {len(clauses)} clauses, {status}")
            for problem in problems:
                self.stdout.write(f"  {problem}")
            for waiver in waivers(clauses, spec):
                self.stdout.write(f"  waived: {waiver}")
            failures += bool(problems)
        if not options["paths"]:
            for seed in seed_files(seeds_dir()):
                if seed.name not in encoded:
                    self.stdout.write(
                        self.style.ERROR(f"{seed.name}: failed: not encoded (no fixture names it)")
                    )
                    failures += 1
            for text in seed_files(corpus_dir()):
                if text.name not in encoded:
                    self.stdout.write(self.style.WARNING(f"{text.name}: not encoded yet (corpus)"))
        if failures:
            raise CommandError(f"{failures} document(s) failed the fidelity check")

    @staticmethod
    def _loaded(key: str):
        from policies.models import PolicyDocument

        document = PolicyDocument.objects.filter(key=key).first()
        if document is None:
            return None, []
        return document, list(document.clauses.prefetch_related("benefits").order_by("order"))
