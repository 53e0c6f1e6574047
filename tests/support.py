"""Helpers shared by tests that start processes (workers, servers)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# What portal/settings.py reads that a test process has set for itself (portal/settings_test.py).
PORTAL_SETTINGS = {
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "DEBUG",
    "PORTAL_DEV",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "TASKS_IN_PROCESS",
    "STATIC_ROOT",
    "CACHE_URL",
}
TEST_SECRET_KEY = "tests-only-" + "c" * 50


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment for a child process: ours minus the portal's settings, plus overrides.
    Without overrides a child gets production settings and refuses to start (fail closed)."""
    env = {k: v for k, v in os.environ.items() if k not in PORTAL_SETTINGS}
    env.update(overrides)
    return env


def embedded_env(**overrides: str) -> dict[str, str]:
    """A child in the embedded development mode (what `make run` sets)."""
    return clean_env(PORTAL_DEV="1", **overrides)


def production_env(**overrides: str) -> dict[str, str]:
    """A child under production settings with a tests-only secret; the caller names its resources."""
    return clean_env(
        **{
            "DEBUG": "false",
            "SECRET_KEY": TEST_SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            **overrides,
        }
    )


def database_url_for(settings_dict: dict) -> str:
    """A DATABASE_URL naming the database the test process is connected to (the test database)."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


class Worker:
    """A real `celery worker` subprocess on the Redis broker, on a queue of its own."""

    def __init__(self, *, broker_url: str, database_url: str, queue: str, extra_env: dict | None = None):
        self.broker_url = broker_url
        self.database_url = database_url
        self.queue = queue
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "test-artifacts" / f"worker-{queue}.log"

    def start(self) -> "Worker":
        self.log_path.parent.mkdir(exist_ok=True)
        env = production_env(
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=self.broker_url,
            CELERY_QUEUE=self.queue,
            CONN_MAX_AGE="0",
            WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",  # the tests' webhook receivers
            PYTHONUNBUFFERED="1",  # so a failing test shows the worker log so far
            **self.extra_env,
        )
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
