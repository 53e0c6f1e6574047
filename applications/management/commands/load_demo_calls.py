"""`manage.py load_demo_calls`: the fictional demo calls (fixtures/demo/calls*.yaml), for `make run`."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from applications.calls_loader import fixtures_root


class Command(BaseCommand):
    help = "Load the demo calls (fictional, marked demo: true) so the demo shows open application windows."

    def handle(self, *args, **options):
        paths = [str(path) for path in sorted((fixtures_root() / "demo").glob("calls*.yaml"))]
        call_command("load_calls", *paths, stdout=self.stdout, stderr=self.stderr)
