"""Beat's healthcheck: the minute tick was sent recently (django-celery-beat saves last_run_at after
every task it sends, CELERY_BEAT_SYNC_EVERY = 1). A hung or crashed beat stops updating it."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

TICK_TASK = "matching.tick"
DEFAULT_MAX_AGE = 180  # seconds: three missed ticks of a one-minute schedule


class Command(BaseCommand):
    help = "Exit 0 when beat sent the minute tick within --max-age seconds, 1 otherwise."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=DEFAULT_MAX_AGE)

    def handle(self, *args, max_age: int, **options):
        last = (
            PeriodicTask.objects.filter(task=TICK_TASK, enabled=True)
            .values_list("last_run_at", flat=True)
            .first()
        )
        if last is None:
            raise CommandError(f"beat has never sent {TICK_TASK} (or it is disabled)")
        age = (timezone.now() - last).total_seconds()
        if age > max_age:
            raise CommandError(f"beat last sent {TICK_TASK} {age:.0f} s ago (limit {max_age} s)")
        self.stdout.write(f"beat ok: {TICK_TASK} sent {age:.0f} s ago")
