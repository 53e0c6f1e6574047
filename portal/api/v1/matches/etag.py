"""The match list's ETag, and the version of the code that renders it (also the edge cache's, edge.py).

A page of the list is a function of: the stored columns of its rows (those shown, and those of
their benefit, clause and document), the fact catalog (labels and units in the reasons), the
language, time zone, media type and URL (the `next` link), and the code that renders it. The
ETag is a hash of all of these, read by one query over the page's rows and one over the catalog —
not of the body, which costs far more to build than to send.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import sys
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone, translation

import policies.rules
from policies.models import FactDefinition
from portal.api import pagination
from portal.api.conditional import etag_of
from portal.api.v1.matches import output, snapshot_sql

DIGEST_COLUMNS = (
    "pk", "enterprise_id", "benefit_id", "status", "score", "amount", "amount_basis", "leaf_outcomes",
    "benefit_version", "engine_version", "as_of", "evaluated_at", "benefit__key", "benefit__name",
    "benefit__kind", "benefit__version", "condition_text", "benefit__clause__number",
    "benefit__clause__document__key", "benefit__clause__document__title", "benefit__clause__document__applicability",
)  # fmt: skip
BODY_CACHE_SECONDS = 600
# The modules that write a page; rendering_version adds every project module whose names they use
# (the status labels of matching/models.py, the API's money fields, …) and the rule language's
# package, which words the conditions.
RENDERING_MODULES = (output, snapshot_sql, pagination)


def digest_rows(window: QuerySet) -> QuerySet:
    # JSON read as text: decoding every condition would cost more than the rest of the query.
    return window.annotate(condition_text=Cast("benefit__condition", TextField())).values_list(
        *DIGEST_COLUMNS
    )


def catalog_digest_rows() -> QuerySet:
    """What the reasons' wording reads of each fact (policies.rules: label, type, unit, choice labels)."""
    return (
        FactDefinition.objects.annotate(choices_text=Cast("choices", TextField()))
        .order_by("pk")
        .values_list("pk", "code", "type", "unit", "label_zh", "label_en", "choices_text")
    )


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


def list_etag(request, window: QuerySet) -> str:
    """Two queries: the page's rows (one more than the page, as the page reads them) and the catalog."""
    state = (
        rendering_version(),
        request.accepted_media_type,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        request.build_absolute_uri(),
        list(catalog_digest_rows()),
        list(digest_rows(window)),
    )
    return etag_of(repr(state))


def body_cache_key(access, etag: str) -> str:
    """Per caller as well: a body is never served to another key or user, even one seeing the same rows."""
    return f"api:v1:matches:{access.client_id}:{etag}"
