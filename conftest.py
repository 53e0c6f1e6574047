import os
import signal
import uuid

import pytest

from tests.support import Worker, database_url_for

# the guard of the parallel pass (scripts/run_tests.sh); pytester: tests of the suite's own machinery
pytest_plugins = ["tests.xdist_guard", "pytester"]


@pytest.fixture
def broker_url() -> str:
    url = os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/14")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:  # the suite requires Redis: fail, don't skip
        pytest.fail(f"Redis broker {url} is not reachable ({exc}); run `make services`")
    return url


@pytest.fixture
def celery_worker_factory(broker_url, transactional_db):
    """Start real worker processes connected to the test database; all are killed afterwards."""
    from django.db import connection

    workers: list[Worker] = []
    queue = f"test-{uuid.uuid4().hex[:8]}"

    def start(**extra_env: str) -> Worker:
        worker = Worker(
            broker_url=broker_url,
            database_url=database_url_for(connection.settings_dict),
            queue=queue,
            extra_env=extra_env,
        ).start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill(signal.SIGTERM)


@pytest.fixture
def producer(broker_url):
    """A Celery client that sends to the Redis broker (the test process itself runs tasks eagerly)."""
    from celery import Celery

    app = Celery("test-producer", broker=broker_url, set_as_current=False)
    app.conf.broker_connection_retry_on_startup = True
    yield app
    app.close()


@pytest.fixture(autouse=True)
def _chinese_by_default():
    """Every test starts in the default language; a test that switches to English can't leak it."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.deactivate()
