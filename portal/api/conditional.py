"""ETag and conditional GET: a client that sends back the ETag it has gets 304 and no body.

By default the tag is a hash of the rendered body, so it changes exactly when what the client would
receive changes (results, language, page) and needs no bookkeeping in the matching app. A view that
can name everything its body is made of without building it (the match list: a digest of the stored
rows of the page, see `v1/matches/views.py`) sets the ETag itself and answers 304 after one query.
"""

from __future__ import annotations

import hashlib

from django.http import HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

VARY = ("Accept", "Accept-Language", "Authorization", "Cookie")


def matches_etag(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2)."""
    tags = parse_etags(header)
    return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)


def etag_of(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return f'"{hashlib.sha256(data).hexdigest()[:32]}"'


def is_not_modified(request, etag: str) -> bool:
    return matches_etag(request.headers.get("If-None-Match", ""), etag)


def tag(response, etag: str):
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, VARY)
    return response


def not_modified(etag: str) -> HttpResponseNotModified:
    return tag(HttpResponseNotModified(), etag)


class ConditionalGetMixin:
    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD"):
            return response
        if response.status_code == 304 and response.has_header("ETag"):  # answered by the view
            return tag(response, response["ETag"])  # DRF's headers replaced Vary
        if response.status_code != 200:
            return response
        etag = response.get("ETag")
        if etag is None:  # the view could not name its content: the hash of what it renders
            response.render()
            etag = etag_of(response.content)
        tag(response, etag)
        if is_not_modified(request, etag):
            return not_modified(etag)
        return response
