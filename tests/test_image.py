"""The image's start command, outside Docker: production settings (DEBUG off, manifest static files),
collectstatic as the Dockerfile runs it, gunicorn on a free port; pages and static files answer 200.

Docker does not run on these machines; this runs the same commands the Dockerfile does, against this
test's database (policy 000 loaded) and broker URL."""

import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.support import PYTHON, ROOT, database_url_for, free_port, production_env, wait_for

pytestmark = pytest.mark.slow


def dockerfile_cmd() -> list[str]:
    lines = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")]
    assert len(lines) == 1, "one CMD: the image's start command"
    return json.loads(lines[0][4:])


def fetch(url: str, host: str) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace"), dict(error.headers)


@pytest.fixture
def image_env(transactional_db, tmp_path):
    from django.db import connection

    from policies.loader import load_files
    from policies.tests.helpers import catalog_paths_for_000, policy_fixture

    _, errors = load_files([*catalog_paths_for_000(), policy_fixture("000")])
    assert not errors
    env = production_env(
        DATABASE_URL=database_url_for(connection.settings_dict),
        CELERY_BROKER_URL=os.environ.get("TEST_BROKER_URL", "redis://127.0.0.1:6379/14"),
        ALLOWED_HOSTS="portal.example.cn",
        STATIC_ROOT=str(tmp_path / "static"),
        CONN_MAX_AGE="0",
        WEB_CONCURRENCY="1",
        PATH=f"{os.path.dirname(PYTHON)}:{os.environ['PATH']}",  # gunicorn of this virtualenv
    )
    return env


def test_the_start_command_serves_pages_and_static_files_with_debug_off(image_env, tmp_path):
    collect = subprocess.run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=image_env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert collect.returncode == 0, collect.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists(), "the manifest the pages need"

    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        dockerfile_cmd(),
        cwd=ROOT,
        env={**image_env, "BIND": f"127.0.0.1:{port}"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    host = "portal.example.cn"
    try:

        def live():
            try:
                return fetch(f"{base}/livez", host)[0] == 200
            except OSError:
                return server.poll() is not None  # stop waiting when it died

        wait_for(live, timeout=60, what="gunicorn to answer /livez")
        assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()

        status, home, headers = fetch(f"{base}/", host)
        assert status == 200, home[-2000:]
        assert "政策匹配平台" in home
        assert "Strict-Transport-Security" in headers
        status, page, _ = fetch(f"{base}/policies/mh-2024-new-industrialization/", host)
        assert status == 200
        assert "给予高端先进制造业项目购租工业厂房补贴" in page
        stylesheet = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', home)
        assert stylesheet, "the page links the hashed (manifest) name of its stylesheet"
        status, css, css_headers = fetch(base + stylesheet[1], host)
        assert status == 200 and css.strip()
        assert "max-age=315360000" in css_headers.get("Cache-Control", "")  # whitenoise: immutable name

        status, missing, _ = fetch(f"{base}/no-such-page/", host)
        assert status == 404
        assert "URLconf" not in missing and "Traceback" not in missing  # DEBUG is off
        assert fetch(f"{base}/", "evil.example")[0] == 400  # a forged Host header
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
        log.close()
