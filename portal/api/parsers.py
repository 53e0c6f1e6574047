"""JSON bodies no larger than DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads the stream itself, so Django's
own check never runs for JSON): a larger body is a 413 problem, never a memory spike."""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework.parsers import JSONParser

from portal.api.errors import payload_too_large


def max_body_bytes() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        if limit is not None:
            request = (parser_context or {}).get("request")
            declared = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
            if declared.isdigit() and int(declared) > limit:
                raise payload_too_large()
            body = stream.read(limit + 1)  # the declared length may be absent or wrong
            if len(body) > limit:
                raise payload_too_large()
            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)
