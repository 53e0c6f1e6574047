"""`manage.py check_fidelity`: compare the loaded policy data with the source texts in ../shared/seeds/."""

from django.core.management.base import BaseCommand, CommandError

from policies.fidelity import document_problems, seed_files, seeds_dir
from policies.models import PolicyDocument


class Command(BaseCommand):
    help = "Check that every seed text is encoded: numbering, verbatim clause texts, every amount phrase."

    def handle(self, *args, **options):
        folder = seeds_dir()
        if not folder.is_dir():
            raise CommandError(f"seeds folder {folder} not found")
        failures = 0
        for seed in seed_files(folder):
            documents = list(PolicyDocument.objects.filter(source_file=seed.name))
            if not documents:
                self.stdout.write(self.style.ERROR(f"{seed.name}: not encoded (no document names it)"))
                failures += 1
            for document in documents:
                clauses = list(document.clauses.prefetch_related("benefits").order_by("order"))
                problems = document_problems(seed.name, seed.read_text(encoding="utf-8"), clauses)
                status = (
                    self.style.SUCCESS("ok")
                    if not problems
                    else self.style.ERROR(f"{len(problems)} problem(s)")
                )
                self.stdout.write(f"{seed.name} → {document.key}: {len(clauses)} clauses, {status}")
                for problem in problems:
                    self.stdout.write(f"  {problem}")
                failures += len(problems)
        if failures:
            raise CommandError(f"{failures} fidelity problem(s)")
