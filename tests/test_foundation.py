"""The foundation: health endpoint, configuration errors, deploy checks, a real Celery worker."""

import os
import subprocess
import urllib.request

import pytest
import yaml

from matching.models import JobRun
from tests.support import PYTHON, ROOT, clean_env, embedded_env, free_port, wait_for

# Start-up checks only parse these URLs and never connect; they still name this run's resources,
# never the real `portal` database or Redis db 0.
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60 + "-production-secret-for-tests",
    "ALLOWED_HOSTS": "portal.example.cn",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_tests"),
    "CELERY_BROKER_URL": os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/14"),
}


def manage(*args: str, env: dict[str, str], timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.django_db
def test_healthz_embedded_default_reports_worker_not_used(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "not used",
        "worker": "not used",
        "workers": 0,
        "mode": "embedded",
        "status": "ok",
    }


@pytest.mark.django_db
def test_healthz_says_broker_down_with_503(client, settings):
    from portal.celery import app

    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.CELERY_BROKER_URL = dead
    app.conf.broker_url = dead
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = None
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_with_broker_up_but_no_worker_is_503(client, settings, broker_url):
    from portal.celery import app

    # A Redis database no test worker listens on: workers of other tests (or other runs) can't answer.
    empty_vhost = broker_url.rsplit("/", 1)[0] + "/13"
    settings.CELERY_BROKER_URL = empty_vhost
    app.conf.broker_url = empty_vhost
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = None
    body = response.json()
    assert (response.status_code, body["broker"], body["worker"]) == (503, "ok", "down")


@pytest.mark.parametrize(
    ("missing", "variable"),
    [
        ("SECRET_KEY", "SECRET_KEY"),
        ("DATABASE_URL", "DATABASE_URL"),
        ("CELERY_BROKER_URL", "CELERY_BROKER_URL"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS"),
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing, variable):
    env = clean_env(**{k: v for k, v in PRODUCTION_ENV.items() if k != missing})
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"Configuration error: {variable}" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("DATABASE_URL", "postgres://"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
    ],
)
def test_malformed_urls_give_a_clear_error(variable, value):
    env = clean_env(**{**PRODUCTION_ENV, variable: value})
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"Configuration error: {variable}" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=clean_env(**PRODUCTION_ENV))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.celery_worker
def test_real_worker_process_executes_a_task_on_redis(celery_worker_factory, producer):
    worker = celery_worker_factory()
    producer.send_task("matching.ping", kwargs={"source": "pytest"}, queue=worker.queue)
    job = wait_for(
        lambda: JobRun.objects.filter(kind="ping", worker__endswith=":pytest").first(),
        timeout=90,
        what=f"the worker to record a ping job; worker log:\n{worker.log()}",
    )
    assert job.status == JobRun.Status.SUCCEEDED
    assert job.finished_at is not None


def test_docker_compose_describes_the_production_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"migrate", "web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat", "postgres", "redis"):
        assert "healthcheck" in services[name], f"{name} has no healthcheck"
    # migrations and policy loading run once, in the one-off service the others wait for
    assert services["migrate"]["command"] == ["bin/migrate"] and services["migrate"]["restart"] == "no"
    assert "setup_portal" in (ROOT / "bin" / "migrate").read_text()
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert "migrate" not in " ".join(services[name]["command"])
    assert services["web"]["command"] == ["bin/start-web"]
    assert "exec gunicorn portal.wsgi:application" in (ROOT / "bin" / "start-web").read_text()
    assert "celery -A portal worker" in " ".join(services["worker"]["command"])
    assert "celery -A portal beat" in " ".join(services["beat"]["command"])
    # liveness, not readiness, for the web container; the worker pings its own node; beat its heartbeat
    assert "/livez" in " ".join(services["web"]["healthcheck"]["test"])
    assert "-d celery@$$HOSTNAME" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "celery@%h" in services["worker"]["command"]
    assert "check_beat" in services["beat"]["healthcheck"]["test"]
    for name in ("migrate", "web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["CELERY_BROKER_URL"].startswith("redis://")
        assert environment["DEBUG"] == "false"
    assert (ROOT / "portal" / "wsgi.py").exists() and (ROOT / "portal" / "celery.py").exists()
    assert "postgres-data" in compose["volumes"]
    assert (ROOT / compose["services"]["web"]["build"]["dockerfile"]).exists()


def test_the_image_leaves_secrets_and_local_state_out():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".venv", ".git", "db.sqlite3", "media", "staticfiles"} <= ignored
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") == 2, "a build stage and a slim runtime stage"
    assert "USER portal" in dockerfile
    assert "DEBUG=true" not in dockerfile
    collect = dockerfile.index("collectstatic")
    assert dockerfile.rfind("DEBUG=false", 0, collect) != -1, "static files collected under production"
    assert "compilemessages" in dockerfile


def test_settings_fail_closed_without_environment():
    """No variable at all: production settings, which refuse to start (no debug, no dev secret key)."""
    result = manage("check", env=clean_env())
    assert result.returncode != 0
    assert "Configuration error: SECRET_KEY" in result.stderr


def test_embedded_mode_is_asked_for_explicitly(tmp_path):
    result = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG, settings.EMBEDDED)",
        env=embedded_env(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["True", "True"]


def test_the_test_process_runs_production_settings(settings):
    assert settings.DEBUG is False and settings.EMBEDDED is False and settings.PRODUCTION is True
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SECRET_KEY.startswith("tests-only-")


def test_livez_answers_without_the_database(client, settings):
    # no django_db mark: any database query in this view would fail the test
    response = client.get("/livez")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_needs_database_and_broker_but_not_workers(client, settings, broker_url):
    from portal.celery import app

    empty_vhost = broker_url.rsplit("/", 1)[0] + "/13"  # no worker listens here
    settings.CELERY_BROKER_URL = empty_vhost
    app.conf.broker_url = empty_vhost
    try:
        ready = client.get("/readyz")
        dead = f"redis://127.0.0.1:{free_port()}/0"
        settings.CELERY_BROKER_URL = dead
        app.conf.broker_url = dead
        down = client.get("/readyz")
    finally:
        app.conf.broker_url = None
    assert (ready.status_code, ready.json()) == (200, {"database": "ok", "broker": "ok", "status": "ok"})
    assert down.status_code == 503 and down.json()["broker"] == "down"


@pytest.mark.django_db
def test_check_beat_fails_when_the_tick_is_stale_and_passes_when_fresh():
    import datetime as dt

    from django.core.management import CommandError, call_command
    from django.utils import timezone
    from django_celery_beat.models import PeriodicTask

    tick = PeriodicTask.objects.get(task="matching.tick")
    tick.last_run_at = timezone.now() - dt.timedelta(seconds=600)
    tick.save()
    with pytest.raises(CommandError, match="600 s ago"):
        call_command("check_beat", max_age=180)
    PeriodicTask.objects.filter(pk=tick.pk).update(last_run_at=None)
    with pytest.raises(CommandError, match="never"):
        call_command("check_beat")
    PeriodicTask.objects.filter(pk=tick.pk).update(last_run_at=timezone.now())
    call_command("check_beat", max_age=180)  # no error


@pytest.mark.slow
def test_sqlite_embedded_default_sets_up_and_serves(tmp_path):
    """What a newcomer runs first: SQLite, in-process tasks, fixtures loaded, home page served."""
    env = embedded_env(DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    setup = manage("setup_portal", env=env, timeout=600)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "admin" in setup.stdout and "reviewer" in setup.stdout
    again = manage("setup_portal", env=env, timeout=600)  # idempotent
    assert again.returncode == 0, again.stderr
    port = free_port()
    server = subprocess.Popen(
        [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def fetch(path):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                    return response.status, response.read().decode()
            except OSError:
                return None

        status, body = wait_for(lambda: fetch("/"), timeout=60, what="runserver")
        assert status == 200 and "政策匹配平台" in body
        status, body = fetch("/healthz")
        assert status == 200 and '"worker": "not used"' in body
    finally:
        server.terminate()
        server.wait(timeout=30)
