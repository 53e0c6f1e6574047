"""Health of the parts the portal depends on: database, broker, workers."""

from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.celery import app


def database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means "down"
        return "down"
    return "ok"


def broker_status() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not used"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:  # noqa: BLE001
        return "down"
    return "ok"


def worker_status(broker: str) -> tuple[str, int]:
    """('ok', n) when n workers answer a ping; 'not used' in the embedded default."""
    if broker == "not used":
        return "not used", 0
    if broker != "ok":
        return "unknown", 0
    try:
        replies = app.control.ping(timeout=1.0) or []
    except Exception:  # noqa: BLE001
        return "down", 0
    return ("ok" if replies else "down"), len(replies)


# The worker heartbeat (matching.tick, every minute from beat) older than this: background work stalls.
HEARTBEAT_STALE_SECONDS = 300


def heartbeat_age() -> int | None:
    """Seconds since a worker last ran the periodic tick; None when none ever has (or no database)."""
    from matching.models import WorkerHeartbeat

    try:
        beat_at = WorkerHeartbeat.objects.filter(name="worker").values_list("beat_at", flat=True).first()
    except Exception:  # noqa: BLE001 - the database check reports the cause
        return None
    return None if beat_at is None else max(0, round((timezone.now() - beat_at).total_seconds()))


def readiness() -> dict:
    """What a web process needs to serve requests: the database, and the broker when one is configured."""
    database = database_status()
    broker = broker_status()
    ready = database == "ok" and broker in {"ok", "not used"}
    return {"database": database, "broker": broker, "status": "ok" if ready else "down"}


def health() -> tuple[dict, bool]:
    database = database_status()
    broker = broker_status()
    worker, worker_count = worker_status(broker)
    report = {
        "database": database,
        "broker": broker,
        "worker": worker,
        "workers": worker_count,
        "mode": "embedded" if broker == "not used" else "distributed",
    }
    healthy = database == "ok" and broker in {"ok", "not used"} and worker in {"ok", "not used"}
    if broker != "not used":  # the embedded mode has no worker and no beat
        age = heartbeat_age()
        report["worker_heartbeat_age_s"] = age
        if age is not None and age > HEARTBEAT_STALE_SECONDS:
            healthy = False
    report["status"] = "ok" if healthy else "degraded"
    return report, healthy
