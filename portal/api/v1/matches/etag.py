"""The match list's ETag, and the version of the code that renders it.

A page of one enterprise's results (`?enterprise=N`) is a function of: its stored rows (and those of
their benefit, clause and document), the fact catalog (labels and units in the reasons), the
language, time zone, media type and URL (the `next` link), and the code that renders it. The rows
and the policy data are named by the change record — the `ContentGeneration` counters
`results:<enterprise>`, `results`, `policy` and the caller's `key:<prefix>`, bumped in the transaction
of every write to them (portal.models.ContentGeneration) — read in one query; the rest is in the
request and in `rendering_version`. No row and no body is read or hashed to answer a 304. A page of
several enterprises has no such counter: the default ETag (a hash of the body, conditional.py).
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation

import policies.rules
from portal.api import pagination, selectors
from portal.api.conditional import etag_of
from portal.api.v1.matches import output, snapshot_sql

BODY_CACHE_SECONDS = 600
# The modules that write a page; rendering_version adds every project module whose names they use
# (the status labels of matching/models.py, the API's money fields, …) and the rule language's
# package, which words the conditions.
RENDERING_MODULES = (output, snapshot_sql, pagination)


def rendering_files() -> list[Path]:
    """Every file of this package, of the rule language, and each project module a rendering module
    takes a name from, derived from the modules' names (no list to keep), and the translations."""
    root = Path(settings.BASE_DIR).resolve()
    files = set(Path(__file__).resolve().parent.glob("*.py"))
    files |= set(Path(policies.rules.__file__).resolve().parent.glob("*.py"))
    for module in RENDERING_MODULES:
        files.add(Path(module.__file__).resolve())
        for value in vars(module).values():
            source = inspect.getmodule(value)
            path = getattr(source, "__file__", None)
            if source is None or path is None or source.__name__ in sys.builtin_module_names:
                continue
            path = Path(path).resolve()
            if path.is_relative_to(root) and ".venv" not in path.parts and "site-packages" not in path.parts:
                files.add(path)
    code = sorted(files)
    return (
        code
        + sorted(root.glob("locale/*/LC_MESSAGES/*.mo"))
        + sorted(root.glob("*/locale/*/LC_MESSAGES/*.mo"))
    )


@functools.cache
def rendering_version() -> str:
    """The code and translations that turn rows into a page: a new release may render differently."""
    root = Path(settings.BASE_DIR).resolve()
    digest = hashlib.sha256()
    for path in rendering_files():
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def page_scopes(enterprise_id: int, key_prefix: str | None) -> tuple[str, ...]:
    """The counters a page of one enterprise's results is made of (the key's: its scopes, rate and
    enterprises; visibility itself is checked on every request before the ETag is read)."""
    scopes = (f"results:{enterprise_id}", "results", "policy")
    return (*scopes, f"key:{key_prefix}") if key_prefix else scopes


def list_etag(request, *, enterprise_id: int, key_prefix: str | None) -> str:
    """One query: the change record's counters of the page, with what the request and the code add."""
    scopes = page_scopes(enterprise_id, key_prefix)
    state = (
        rendering_version(),
        request.accepted_media_type,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        request.build_absolute_uri(),
        scopes,
        selectors.content_generations(scopes),
    )
    return etag_of(repr(state))


def body_cache_key(access, etag: str) -> str:
    """Per caller as well: a body is never served to another key or user, even one seeing the same rows."""
    return f"api:v1:matches:{access.client_id}:{etag}"
