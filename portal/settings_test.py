"""Settings of the test process: production's (DEBUG off, secure cookies, HSTS, manifest-free static
files aside) with what a test run supplies itself.

Values a run does not give come from here, never from a developer's .env: a tests-only secret key,
the test client's host names, tasks in-process (tests that need the broker start real workers on
TEST_BROKER_URL). Children a test starts (workers, servers, manage.py) get their settings from
tests/support.py, not from this module.
"""

import os

_DEFAULTS = {
    "DEBUG": "false",
    "SECRET_KEY": "tests-only-" + "k" * 50,
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_tests",  # pytest-django uses test_<name>
    "TASKS_IN_PROCESS": "true",
}
for _name, _value in _DEFAULTS.items():
    os.environ.setdefault(_name, _value)

from portal.settings import *  # noqa: E402,F403
from portal.settings import STORAGES  # noqa: E402

# The test client speaks plain HTTP: production's redirect to HTTPS would answer every request 301.
# Everything else of production stays (Secure cookies, HSTS header on HTTPS requests, CSP, ...).
SECURE_SSL_REDIRECT = False
# No collectstatic before tests: {% static %} resolves without the manifest. The manifest storage
# itself is tested by tests/test_image.py against the image's start command.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
