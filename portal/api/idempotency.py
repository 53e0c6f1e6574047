"""The Idempotency-Key header on POSTs that create things.

The first successful reply to (client, key) is stored with a hash of the request for 24 hours, in
the same transaction as the thing it created. A repeat with the same request gets that reply again
(header `Idempotent-Replayed: true`) and creates nothing; the same key with a different request is a
422 problem. Two concurrent requests with one key: the second waits on the unique row, then replays.
Failed requests store nothing, so a corrected request may reuse the key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from portal.api import selectors, services
from portal.api.access import access_for
from portal.api.errors import Unprocessable
from portal.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "可选：同一个键 24 小时内重发同一请求，只创建一次并返回首次的响应；同一个键配不同请求返回 422。"
        "Optional: repeating a request with the same key within 24 h creates nothing new and returns the "
        "first reply; the same key with another request is a 422."
    ),
)
REPLAYED_HEADER = "Idempotent-Replayed"


def request_hash(request) -> str:
    body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _valid_key(raw: str) -> str:
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationError({HEADER: [_("幂等键应为 1 到 %(n)s 个可打印字符。") % {"n": MAX_KEY_LENGTH}]})
    return key


def idempotent(request, produce: Callable[[], Response]) -> Response:
    """The response of `produce()` (a view's create), honouring the Idempotency-Key header."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return produce()
    key = _valid_key(raw)
    client = access_for(request).client_id
    fingerprint = request_hash(request)
    stored = selectors.idempotent_reply(client=client, key=key)
    if stored is not None:
        return _replay(stored, fingerprint)
    try:
        with transaction.atomic():
            response = produce()
            if 200 <= response.status_code < 300:
                services.store_idempotent_reply(
                    client=client,
                    key=key,
                    request_hash=fingerprint,
                    status=response.status_code,
                    body=json.loads(JSONRenderer().render(response.data)),
                    location=response.get("Location", ""),
                )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        stored = selectors.idempotent_reply(client=client, key=key)
        if stored is None:
            raise
        return _replay(stored, fingerprint)
    return response


def _replay(stored: IdempotencyRecord, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        raise Unprocessable(
            _("该幂等键已用于另一个不同的请求；新的请求请使用新的幂等键。"), code="idempotency_key_reused"
        )
    headers = {REPLAYED_HEADER: "true"}
    if stored.response_location:
        headers["Location"] = stored.response_location
    return Response(stored.response_body, status=stored.response_status, headers=headers)
