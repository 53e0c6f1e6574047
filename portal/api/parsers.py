"""JSON bodies no larger than DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads the stream itself, so Django's
own check never runs for JSON): a larger body is a 413 problem, never a memory spike. Nesting deeper
than MAX_JSON_DEPTH is a 400 found by a linear scan before the parser runs (Python's json recurses:
1,000 levels would be a RecursionError, i.e. a 500)."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from portal.api.errors import payload_too_large

MAX_JSON_DEPTH = 32  # the deepest body the API accepts (condition trees in requests are far shallower)


def max_body_bytes() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def nesting_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether arrays/objects in `body` nest deeper than `limit` (brackets inside strings don't count)."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def declared_length(request) -> int | None:
    value = request.META.get("CONTENT_LENGTH", "") if request is not None else ""
    return int(value) if value.isascii() and value.isdigit() else None  # "²".isdigit() is True


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        if limit is not None:
            declared = declared_length(request)
            if declared is not None and declared > limit:
                raise payload_too_large()
        body = stream.read(limit + 1) if limit is not None else stream.read()  # the length may be wrong
        if limit is not None and len(body) > limit:
            raise payload_too_large()
        if nesting_depth_exceeds(body, MAX_JSON_DEPTH):
            raise ParseError(_("JSON 嵌套不能超过 %(n)s 层。") % {"n": MAX_JSON_DEPTH}, code="too_deep")
        return super().parse(io.BytesIO(body), media_type, parser_context)
