"""Security headers and cookies under production settings (the test process runs them), and pages
that satisfy the Content-Security-Policy: no inline script, no event-handler attribute, no
javascript: URL, scripts only from this site."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def test_every_page_carries_the_security_headers(client):
    response = client.get("/", secure=True)
    csp = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ):
        assert directive in csp, csp
    assert "unsafe-eval" not in csp and "script-src 'self' 'unsafe-inline'" not in csp
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(client):
    get_user_model().objects.create_user("cookie-user", password="a-long-password-2026")
    login = client.get("/accounts/login/", secure=True)
    csrf = login.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    response = client.post(
        "/accounts/login/", {"username": "cookie-user", "password": "a-long-password-2026"}, secure=True
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


class InlineCode(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "script":
            src = values.get("src")
            if src is None:
                self._in_inline_script = True
            elif src.startswith(("http:", "https:", "//")):
                self.problems.append(f"<script src={src}> from another site")

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.problems.append(f"inline <script>: {data.strip()[:60]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


PUBLIC_PAGES = [
    "/",
    "/policies/",
    "/self-check/",
    "/accounts/login/",
    "/accounts/password_reset/",
    "/api/docs/",
    "/api/redoc/",
]
STAFF_PAGES = [
    "/admin/",
    "/admin/policies/benefit/",
    "/admin/policies/benefit/add/",
    "/enterprises/",
    "/applications/review/",
    "/matches/jobs/",
]


@pytest.mark.parametrize(
    ("who", "path"), [("anonymous", p) for p in PUBLIC_PAGES] + [("staff", p) for p in STAFF_PAGES]
)
def test_pages_satisfy_the_policy(who, path):
    client = Client()
    if who == "staff":
        client.force_login(get_user_model().objects.create_superuser("csp-admin", "a@example.cn", "x"))
    response = client.get(path, follow=True)
    assert response.status_code == 200, path
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert not parser.problems, (path, parser.problems)


def test_the_swagger_ui_script_is_a_file_of_this_site(client):
    page = client.get("/api/docs/").content.decode()
    assert "/api/docs/?script=" in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
