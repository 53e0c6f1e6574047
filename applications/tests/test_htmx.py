"""HTMX on the review queue: an HTMX request gets the queue region alone, a normal request (and HTMX
restoring a page from history) the whole page; responses vary on HX-Request; POSTs need the CSRF
token that base.html puts in hx-headers."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from applications.tests.test_pages_staff import listed, queue, reviewer_client  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": "http://testserver/applications/review/"}


def test_an_htmx_filter_request_gets_the_region_only(world, queue, reviewer_client):  # noqa: F811
    response = reviewer_client.get(reverse("applications:review_queue"), {"state": "under_review"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert listed(response) == {queue["d"].pk}
    assert "<html" not in html and "<header" not in html  # no page around it
    assert 'id="review-queue"' in html and 'id="queue-filter"' in html
    assert f'id="queue-row-{queue["d"].pk}"' in html and f'id="queue-row-{queue["a"].pk}"' not in html
    # the screen-reader status outside the region is updated out of band
    assert re.search(r'<p id="queue-status"[^>]*hx-swap-oob="true"', html)
    assert "HX-Request" in response["Vary"]


def test_a_normal_request_gets_the_whole_page_with_the_same_rows(world, queue, reviewer_client):  # noqa: F811
    response = reviewer_client.get(reverse("applications:review_queue"), {"state": "under_review"})
    html = response.content.decode()
    assert listed(response) == {queue["d"].pk}
    assert html.lstrip().startswith("<!doctype html>") and '<div id="queue-region"' in html
    assert "hx-swap-oob" not in html
    assert "HX-Request" in response["Vary"]
    # without JavaScript the filters are a plain GET form and the tabs plain links
    assert re.search(r'<form method="get" id="queue-filter"', html)
    assert 'href="?state=under_review"' in html


def test_restoring_history_gets_the_whole_page(world, queue, reviewer_client):  # noqa: F811
    response = reviewer_client.get(
        reverse("applications:review_queue"),
        {"state": "submitted"},
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
        **HTMX,
    )
    assert "<!doctype html>" in response.content.decode()


def test_htmx_is_served_locally_and_posts_carry_the_csrf_token(world, queue):  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.reviewer)
    html = client.get(reverse("applications:review_queue")).content.decode()
    script = re.search(r'<script src="([^"]+)" defer></script>', html)
    assert script and script.group(1).startswith("/static/") and "htmx" in script.group(1)
    headers = json.loads(re.search(r"<body hx-headers='([^']+)'>", html).group(1))
    b = queue["b"]
    url = reverse("applications:assign", args=[b.pk])
    data = {"reviewer": world.second_reviewer.pk, "version": b.version}
    assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 403  # no token: refused
    response = client.post(url, data, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=headers["X-CSRFToken"])
    assert response.status_code == 302
