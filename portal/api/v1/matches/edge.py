"""The API edge cache: a machine client's repeated GET of one enterprise's match list, answered
before Django.

Banks and park operators poll `GET /api/v1/matches/?enterprise=N` with their API key. When the view
builds such a page for a machine key (JSON, read consistently: see `v1/matches/views.py`), this WSGI
layer keeps what Django sent — status line, headers, body — in the process's memory, under
everything in the request the reply depends on (the Authorization header as sent, path and query,
Accept, Accept-Language, host and scheme, the rendering code and time zone), with the
`ContentGeneration` counters read *before* Django read anything: the enterprise's results, the
results table, the policy data and the key. An identical request is then answered here, Django
untouched, while those counters are unchanged: one small PostgreSQL query and one Redis round trip
(the rate limit). The writer bumps a counter in the transaction of any write that could change the
page (policies/generations.py: a re-evaluation of the enterprise by matching's storage, a benefit or
fact edited by the policy services, the enterprise deleted; the key revoked, limited or re-rated, by
a trigger on portal's own key tables), so the next request goes to Django, which builds the page and it is kept again. A
counter read before the rows can only be older than them: the worst a race does is keep a page that
is never served. Validity never depends on the memory being shared: each process keeps its own
(`API_EDGE_CACHE_MB`, least recently used pages go first), and a page another process built is, on
a miss here, Django's cached body (`v1/matches/views.py`).

What the edge does not decide: who may see what. It only replays a reply Django gave to the very
same Authorization header (a wrong secret is another key of the store: a miss, and Django's 401),
for a key whose counter has not moved since. Replies count in the key's rate limit like any other
(throttling.count_request); a key over its limit goes to Django, which answers 429 without counting
the request twice. Use of a key is recorded once a minute per process, as the API does. Each reply
is logged on `portal.requests` like every request (with "edge" at the end).

On with PostgreSQL (the key triggers) and a Redis cache (the shared rate counters); `API_EDGE_CACHE=false`
turns it off. SQLite, a memory cache, sessions (a Cookie header), other URLs and methods: Django.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError, connection
from django.utils import timezone
from redis.exceptions import RedisError

from policies import generations
from portal.api import services, throttling
from portal.api.conditional import matches_etag
from portal.api.v1.matches.etag import rendering_version  # the page's code and translations

logger = logging.getLogger("portal.requests")

PATH = "/api/v1/matches/"
SCHEME = "Api-Key "
FILL = "portal.edge.fill"  # WSGI environ: what the view needs to mark its reply as storable
# A 304 carries the 200's headers but those of its content (RFC 9110 15.4.5), as Django sends it.
NOT_IN_304 = frozenset({"content-type", "content-length", "link"})
_VERSION = "edge-1"


@dataclass(frozen=True)
class Lookup:
    cache_key: str
    scopes: tuple[str, ...]  # the counters the reply depends on, in a fixed order


@dataclass(frozen=True)
class Fill:
    """Handed to Django in the environ: the reply may be stored under these counters."""

    lookup: Lookup
    generations: tuple[int, ...]


@dataclass(frozen=True)
class Entry:
    generations: tuple[int, ...]
    key_id: int
    rate_limit: str
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def etag(self) -> str | None:
        return next((value for name, value in self.headers if name.lower() == "etag"), None)


def enabled() -> bool:
    return (
        settings.API_EDGE_CACHE
        and connection.vendor == "postgresql"
        and isinstance(caches["default"], RedisCache)
    )


def lookup_for(environ: dict) -> Lookup | None:
    """The cache key and counters of a request the edge may answer, or None (Django answers)."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("PATH_INFO") != PATH or not enabled():
        return None
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith(SCHEME) or "HTTP_COOKIE" in environ:
        return None
    prefix, separator, secret = authorization[len(SCHEME) :].partition(services.KEY_SEPARATOR)
    if not separator or not prefix or not secret:
        return None
    query = environ.get("QUERY_STRING", "")
    enterprise = parse_qs(query, keep_blank_values=True).get("enterprise", [])
    if len(enterprise) != 1 or not enterprise[0].isascii() or not enterprise[0].isdigit():
        return None
    parts = (
        _VERSION,
        rendering_version(),
        settings.TIME_ZONE,
        authorization,
        environ.get("SCRIPT_NAME", ""),
        environ["PATH_INFO"],
        query,
        environ.get("HTTP_ACCEPT", ""),
        environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        environ.get("HTTP_HOST", ""),
        environ.get("SERVER_NAME", ""),
        environ.get("SERVER_PORT", ""),
        environ.get("wsgi.url_scheme", ""),
        environ.get("HTTP_X_FORWARDED_PROTO", ""),  # these two, where settings trust a proxy
        environ.get("HTTP_X_FORWARDED_HOST", ""),
    )
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    scopes = (f"results:{int(enterprise[0])}", "results", "policy", f"key:{prefix}")
    return Lookup(cache_key=f"api:edge:{digest}", scopes=scopes)


def read_generations(lookup: Lookup) -> tuple[int, ...]:
    return generations.read(lookup.scopes)


class Store:
    """Pages kept by this process, at most `limit` bytes of bodies; the least recently used go first."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # gthread workers share the store

    @property
    def limit(self) -> int:
        return settings.API_EDGE_CACHE_MB * 1024 * 1024

    def get(self, cache_key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(cache_key)
            if entry is not None:
                self._entries.move_to_end(cache_key)
            return entry

    def put(self, cache_key: str, entry: Entry) -> None:
        with self._lock:
            previous = self._entries.pop(cache_key, None)
            if previous is not None:
                self._bytes -= len(previous.body)
            if len(entry.body) > self.limit:
                return
            self._entries[cache_key] = entry
            self._bytes += len(entry.body)
            while self._bytes > self.limit:
                _key, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.body)

    def __len__(self) -> int:
        return len(self._entries)


def mark_storable(request, *, key_id: int, rate_limit: str, response) -> None:
    """Called by the view on a page it built consistently for a machine key."""
    fill = request.META.get(FILL)
    if fill is not None:
        response.edge_store = (fill, key_id, rate_limit)


def _not_modified(entry: Entry, environ: dict) -> bool:
    etag = entry.etag
    return bool(etag) and matches_etag(environ.get("HTTP_IF_NONE_MATCH", ""), etag)


class EdgeCache:
    """WSGI middleware around Django's application (portal/wsgi.py)."""

    def __init__(self, application) -> None:
        self.application = application
        self.store = Store()
        self._touched: dict[int, float] = {}

    def __call__(self, environ, start_response):
        started = time.monotonic()
        lookup = lookup_for(environ)
        if lookup is None:
            return self.application(environ, start_response)
        try:
            generations = read_generations(lookup)
            entry = self.store.get(lookup.cache_key)
            if entry is not None and entry.generations == generations:
                reply = self._reply(entry, environ, start_response, started)
                if reply is not None:
                    return reply
        except DatabaseError:
            connection.close()  # Django's request handling reconnects
            return self.application(environ, start_response)
        except RedisError:  # the rate counters: Django's own throttle will say what it can
            logger.warning("edge cache: Redis unavailable for %s", PATH, exc_info=True)
            return self.application(environ, start_response)
        environ[FILL] = Fill(lookup, generations)
        return self._through_django(environ, start_response)

    def _reply(self, entry: Entry, environ, start_response, started: float):
        limit, duration = throttling.key_rate(entry.rate_limit)
        count, left = throttling.count_request(throttling.key_ident(entry.key_id), duration)
        if count > limit:
            environ[throttling.EDGE_COUNTED] = (count, left)
            return None  # Django answers 429
        self._touch(entry.key_id)
        if _not_modified(entry, environ):
            status, headers, body = "304 Not Modified", _without_content(entry.headers), b""
        else:
            status, headers, body = entry.status, entry.headers, entry.body
        start_response(status, list(headers))
        logger.info("GET %s %s %.1fms edge", PATH, status[:3], (time.monotonic() - started) * 1000)
        return [body]

    def _through_django(self, environ, start_response):
        sent: list = []

        def capture(status, headers, exc_info=None):
            sent[:] = [status, list(headers)]
            return start_response(status, headers, exc_info)

        response = self.application(environ, capture)
        marked = getattr(response, "edge_store", None)
        storable = marked is not None and sent and sent[0].startswith("200 ") and not response.streaming
        if storable and not any(name.lower() == "set-cookie" for name, _value in sent[1]):
            fill, key_id, rate_limit = marked
            entry = Entry(fill.generations, key_id, rate_limit, sent[0], list(sent[1]), response.content)
            self.store.put(fill.lookup.cache_key, entry)
        return response

    def _touch(self, key_id: int) -> None:
        """Record the key's use at most once per LAST_USED_RESOLUTION and process, as the API does."""
        now = time.monotonic()
        resolution = services.LAST_USED_RESOLUTION.total_seconds()
        if now - self._touched.get(key_id, -resolution) >= resolution:
            services.record_use(key_id=key_id, at=timezone.now())
            self._touched[key_id] = now


def _without_content(headers) -> list[tuple[str, str]]:
    kept = [(name, value) for name, value in headers if name.lower() not in NOT_IN_304]
    return [*kept, ("Content-Length", "0")]
