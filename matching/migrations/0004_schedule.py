"""The periodic jobs, as django-celery-beat rows (the configured DatabaseScheduler reads them):
staff see and can pause them in the admin, and every environment gets the same schedule."""

from django.db import migrations
from django.utils import timezone

DAILY = "matching: daily calendar re-evaluation (00:05 Asia/Shanghai)"
TICK = "matching: heartbeat and sweep (every minute)"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    MatchChange = apps.get_model("matching", "MatchChange")

    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="5", hour="0", day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Shanghai"
    )
    PeriodicTask.objects.update_or_create(
        name=DAILY, defaults={"task": "matching.daily_calendar", "crontab": crontab, "interval": None}
    )
    minute, _ = IntervalSchedule.objects.get_or_create(every=60, period="seconds")
    PeriodicTask.objects.update_or_create(
        name=TICK, defaults={"task": "matching.tick", "interval": minute, "crontab": None}
    )
    # tell running beat processes the schedule changed
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})
    # changes recorded before the feed existed are history, not news
    MatchChange.objects.update(dispatched=True)


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[DAILY, TICK]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0003_background_jobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
