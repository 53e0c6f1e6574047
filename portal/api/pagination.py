"""Cursor (keyset) pagination over the primary key, oldest first: the same for every list.

The cursor is an opaque token naming the last row returned; `next_cursor` is always given once a
page has rows, even on the last page, so a client can store it and later fetch only what is new
(the change feed is read this way). Pages cost the same however deep the cursor is.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

CURSOR_VERSION = "k1"
SNAPSHOT_VERSION = "s1"  # s1:<feed position when the snapshot began>:<last result id>


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_VERSION}:{position}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        version, _colon, position = text.partition(":")
        if version != CURSOR_VERSION or not (position.isascii() and position.isdigit()):
            raise ValueError(text)
        return int(position)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValidationError({"cursor": [_("无效的游标：请使用上一页返回的 next_cursor。")]}) from None


def encode_snapshot_cursor(mark: int, after: int) -> str:
    return base64.urlsafe_b64encode(f"{SNAPSHOT_VERSION}:{mark}:{after}".encode()).decode().rstrip("=")


def _position(row) -> int:
    """The key of a row: a model instance, or a values_list row whose first column is the key."""
    return row[0] if isinstance(row, tuple) else row.pk


# The rows after a position (None: from the start), in position order, not yet read.
Continuation = Callable[[int | None], QuerySet]


def _continued(rows: list, then: Continuation | None, after: int | None, limit: int) -> list:
    """`rows` (at most `limit`), topped up from `then` past the last of them when they fall short."""
    if then is None or len(rows) >= limit:
        return rows
    start = _position(rows[-1]) if rows else after
    return rows + list(then(start)[: limit - len(rows)])


class KeysetPagination(BasePagination):
    page_size = 100
    max_page_size = 1000
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset, request, view=None):
        return self.paginate_window(self.window(queryset, request))

    def window(self, queryset, request, *, then: Continuation | None = None):
        """The rows a page is cut from (one more than the page, to know whether another follows), not
        yet read. `then`: the rows that follow all of `queryset`'s, given the position to start after
        (their pks are positions above every pk of `queryset`; matching's out-of-scope results)."""
        self.request = request
        size = self._page_size(request)
        token = request.query_params.get(self.cursor_query_param)
        after = decode_cursor(token) if token else None
        self._size, self._after, self._then = size, after, then
        queryset = queryset.order_by("pk")
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        return queryset[: size + 1]

    def paginate_window(self, window) -> list:
        size, after = self._size, self._after
        rows = _continued(list(window), self._then, after, size + 1)
        self.has_more = len(rows) > size
        rows = rows[:size]
        self.position = _position(rows[-1]) if rows else after
        self.next_token = None
        return rows

    def snapshot_position(self, token: str) -> tuple[int, int] | None:
        """(feed mark, last result id) of a snapshot cursor; None for an ordinary cursor."""
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except (ValueError, UnicodeDecodeError, binascii.Error):
            text = ""
        version, _colon, rest = text.partition(":")
        if version != SNAPSHOT_VERSION:
            decode_cursor(token)  # an ordinary cursor, or a 400 for an invalid one
            return None
        mark, _colon, after = rest.partition(":")
        if not (mark.isascii() and mark.isdigit() and after.isascii() and after.isdigit()):
            decode_cursor("")  # the same 400
        return int(mark), int(after)

    def paginate_snapshot(
        self, queryset, request, *, mark: int, after: int, then: Continuation | None = None
    ) -> list:
        """A page of current results after result `after` (`then` as in `window`); the last page hands
        over to the feed at `mark`."""
        self.request = request
        size = self._page_size(request)
        rows = _continued(
            list(queryset.filter(pk__gt=after).order_by("pk")[: size + 1]), then, after, size + 1
        )
        self.has_more = len(rows) > size
        rows = rows[:size]
        self.position = mark
        self.next_token = encode_snapshot_cursor(mark, _position(rows[-1])) if self.has_more else None
        return rows

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("应为 1 到 %(max)s 之间的整数。") % {"max": self.max_page_size}
                    ]
                }
            )
        return int(raw)

    def get_paginated_response(self, data):
        cursor = encode_cursor(self.position) if self.position is not None else None
        if getattr(self, "next_token", None):
            cursor = self.next_token  # within a snapshot
        next_url = None
        if self.has_more:
            next_url = replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)
        # The next page in a Link header too (RFC 8288): a syncing client can ask for it before
        # parsing this one's body.
        headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
        return Response(
            {"next": next_url, "next_cursor": cursor, "has_more": self.has_more, "results": data},
            headers=headers,
        )

    def get_paginated_json_response(self, items: list[str]) -> HttpResponse:
        """The same page as get_paginated_response, for rows already encoded as JSON text."""
        empty = self.get_paginated_response([])
        envelope = dict(empty.data)
        del envelope["results"]
        head = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        body = f'{head[:-1]},"results":[{",".join(items)}]}}'
        response = HttpResponse(body.encode(), content_type="application/json")
        if empty.has_header("Link"):
            response["Link"] = empty["Link"]
        return response

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "next_cursor", "has_more", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "example": None,
                    "description": "下一页的完整地址；没有更多数据时为 null。URL of the next page, null on the last.",
                },
                "next_cursor": {
                    "type": "string",
                    "nullable": True,
                    "example": "azE6MTIz",
                    "description": (
                        "保存此游标，下次用 ?cursor= 只取之后的新数据（最后一页也会给出）。"
                        "Store it and pass ?cursor= later to fetch only newer rows (given on the last page too)."
                    ),
                },
                "has_more": {
                    "type": "boolean",
                    "example": False,
                    "description": "是否还有下一页。Whether another page follows.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "in": "query",
                "required": False,
                "description": "上一页返回的 next_cursor。The next_cursor of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "in": "query",
                "required": False,
                "description": f"每页条数（默认 {self.page_size}，最多 {self.max_page_size}）。"
                f"Rows per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
        ]


class FeedPagination(KeysetPagination):
    """The change feed: rows are small and a client syncs everything, so pages may be larger."""

    max_page_size = 10_000
