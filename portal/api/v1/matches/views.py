"""Match results and the change feed (scope read_matches), limited to the enterprises the caller sees.

A list row carries the stored verdict and its reasons rebuilt from the stored outcome of each
condition (cheap: no facts are read); the detail explains the result from the enterprise's facts,
adding each value and where it came from. Both answer conditional GETs (ETag / If-None-Match).
What the rows look like is output.py; the list's ETag is etag.py; the snapshot's SQL snapshot_sql.py.
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from matching import selectors as matching_selectors
from matching.models import MatchChange, MatchResult, OutOfScopeResult
from policies import selectors as policy_selectors
from portal.api import examples
from portal.api import selectors as api_selectors
from portal.api.base import ReadOnlyApiViewSet, bilingual
from portal.api.conditional import ConditionalGetMixin, is_not_modified, not_modified, tag
from portal.api.pagination import FeedPagination
from portal.api.v1.matches.etag import BODY_CACHE_SECONDS, body_cache_key, list_etag
from portal.api.v1.matches.filters import ChangeFilter, MatchResultFilter
from portal.api.v1.matches.output import (
    CHANGE_COLUMNS,
    LIST_COLUMNS,
    SNAPSHOT_COLUMNS,
    ChangeSerializer,
    MatchResultDetailSerializer,
    MatchResultSerializer,
    RowBuilder,
)
from portal.api.v1.matches.snapshot_sql import snapshot_items, snapshot_sql_pieces
from portal.models import Scope

TAG = "匹配 Matches"
# Changes younger than this are held back, so that rows of transactions still committing (with
# lower ids) are never skipped by a client that stored the cursor after a higher id.
FEED_SETTLE = dt.timedelta(seconds=2)

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=bilingual("上次得到的 ETag；未变化时返回 304。", "The ETag you have; 304 when unchanged."),
)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="匹配结果 Match results",
        description=(
            "只含在评估日有效的扶持项目。按企业、项目、结论、最低金额、变化时间筛选；游标分页；"
            "带 If-None-Match 可得 304。政策适用范围（如注册地）之外的企业，结论为不符合条件，"
            "理由只列适用范围的条件，排在其余结果之后。"
            "Only benefits in force on the evaluation date. Filter by enterprise, benefit, status, minimum "
            "amount, changed since; cursor pages; send If-None-Match for a 304. Where the document does not "
            "apply to the enterprise (e.g. another district), the result is not eligible with the "
            "applicability's conditions as its only reasons; such results come after the others."
        ),
        parameters=[IF_NONE_MATCH],
        examples=[examples.reply("厂房租赁补贴 Factory lease", examples.MATCH)],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一条匹配结果及理由 One result, explained",
        description=(
            "每项条件附企业的值、来源和原文出处。Each condition with the enterprise's value, its source and citation."
        ),
        parameters=[IF_NONE_MATCH],
        examples=[examples.reply("厂房租赁补贴 Factory lease", examples.MATCH_DETAIL)],
    ),
)
class MatchResultViewSet(ConditionalGetMixin, ReadOnlyApiViewSet):
    scopes = (Scope.READ_MATCHES,)
    filterset_class = MatchResultFilter

    def get_queryset(self):
        return self.access.restrict(MatchResult.objects.select_related("benefit__clause__document"))

    def out_of_scope(self, request) -> QuerySet[OutOfScopeResult]:
        """The out-of-scope results (matching.models.OutOfScope) under the same filters: after the
        stored rows in every list, in (enterprise, benefit) order."""
        results = self.access.restrict(OutOfScopeResult.objects.select_related("benefit__clause__document"))
        return MatchResultFilter(request.query_params, queryset=results, request=request).qs

    def get_object(self):
        lookup = self.kwargs.get(self.lookup_field, "")
        where = (
            matching_selectors.out_of_scope_result(int(lookup))
            if lookup.isascii() and lookup.isdigit()
            else None
        )
        if where is None:
            return super().get_object()
        result = get_object_or_404(self.out_of_scope(self.request).filter(where))
        self.check_object_permissions(self.request, result)
        return result

    def get_serializer_class(self):
        return MatchResultDetailSerializer if self.action == "retrieve" else MatchResultSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "catalog": policy_selectors.catalog()}

    def list(self, request, *args, **kwargs):
        # Only the columns a row shows: a clause's text and a document's other fields are long.
        out_of_scope = self.out_of_scope(request).only(*LIST_COLUMNS)
        window = self.paginator.window(
            self.filter_queryset(self.get_queryset()),
            request,
            then=lambda after: matching_selectors.out_of_scope_after(out_of_scope, after),
        )
        etag = self._page_etag(request)
        if etag is not None:
            # One query names what the page is made of: a syncing client's unchanged page is a 304
            # without a row read, and another request's a cached body.
            if is_not_modified(request, etag):
                return not_modified(etag)
            body = cache.get(body_cache_key(self.access, etag))
            if body is not None:
                return tag(HttpResponse(body, content_type=JSONRenderer.media_type), etag)
        page = self.paginator.paginate_window(window.only(*LIST_COLUMNS))
        rows = RowBuilder(policy_selectors.catalog())
        rows.add_benefits(result.benefit for result in page)
        response = self.get_paginated_response([rows.match(result) for result in page])
        if etag is None:
            return response  # tagged by a hash of the body (the mixin)
        # The counters were read before the rows: a write committed in between makes the body newer
        # than its tag, never older (the next request reads the new counters and misses).
        body = request.accepted_renderer.render(
            response.data, request.accepted_media_type, self.get_renderer_context()
        )
        cache.set(body_cache_key(self.access, etag), body, BODY_CACHE_SECONDS)
        return tag(HttpResponse(body, content_type=JSONRenderer.media_type), etag)

    def _page_etag(self, request) -> str | None:
        """The change-record ETag of a JSON page of one enterprise's results (its visibility checked by
        the filter already), or None: the browsable page (it shows who is signed in), a page of several
        enterprises, or no change record kept (SQLite)."""
        enterprise = request.query_params.get("enterprise", "")
        if type(request.accepted_renderer) is not JSONRenderer or not api_selectors.change_record_kept():
            return None
        if not (enterprise.isascii() and enterprise.isdigit()):
            return None
        key = self.access.key
        return list_etag(request, enterprise_id=int(enterprise), key_prefix=key.prefix if key else None)

    def retrieve(self, request, *args, **kwargs):
        result = self.get_object()
        context = {**self.get_serializer_context(), "verdict": matching_selectors.explain_match(result)}
        return Response(MatchResultDetailSerializer(result, context=context).data)


@extend_schema_view(
    list=extend_schema(
        tags=[TAG],
        summary="变化订阅 Change feed",
        description=(
            "结论或金额的每次变化，按记录顺序。增量同步：保存返回的 next_cursor，下次带 ?cursor= 只取新变化"
            "（最后一页也返回 next_cursor）。最近 2 秒内的变化稍后才出现，以保证不遗漏。"
            "首次同步用 ?snapshot=true：先给出当前的全部结果（每个企业×项目一条，cause 为 snapshot），"
            "跟随 next 直到为 null，保存最后的 next_cursor，之后只取快照开始以来的变化（可能重复给出快照中"
            "已含的变化，按企业和项目覆盖即可）。"
            "Every change of a result's status or amount, in recorded order. To sync incrementally store "
            "next_cursor and pass it as ?cursor= next time (it is given on the last page too). Changes "
            "appear 2 s after they are recorded so that none is skipped. "
            "For the first sync use ?snapshot=true: every current result first (one per enterprise and "
            "benefit, cause snapshot); follow next until it is null and store the last next_cursor, which "
            "continues with the changes since the snapshot began (a change the snapshot already showed may "
            "come again: upsert by enterprise and benefit)."
        ),
        examples=[
            examples.reply("补充信息后变为待认定 Now pending recognition", examples.CHANGE),
            examples.reply("快照中的当前结果 A current result in a snapshot", examples.SNAPSHOT_ITEM),
        ],
    ),
    retrieve=extend_schema(
        tags=[TAG],
        summary="一条变化 One change",
        description="原结论和金额、新结论和金额、原因。Old and new status and amount, and the cause.",
        examples=[examples.reply("补充信息后变为待认定 Now pending recognition", examples.CHANGE)],
    ),
)
class ChangeViewSet(ReadOnlyApiViewSet):
    scopes = (Scope.READ_MATCHES,)
    serializer_class = ChangeSerializer
    filterset_class = ChangeFilter
    pagination_class = FeedPagination

    def settled_before(self) -> dt.datetime:
        return timezone.now() - FEED_SETTLE

    def get_queryset(self):
        settled = MatchChange.objects.filter(created_at__lte=self.settled_before())
        return self.access.restrict(settled.select_related("benefit__clause__document"))

    def list(self, request, *args, **kwargs):
        token = request.query_params.get(self.paginator.cursor_query_param)
        snapshot = self.paginator.snapshot_position(token) if token else None
        changes = self.filter_queryset(self.get_queryset())  # validates every parameter
        if snapshot is not None or request.query_params.get("snapshot", "").lower() in ("true", "1"):
            return self._snapshot(request, snapshot)
        page = self.paginator.paginate_queryset(changes.values_list(*CHANGE_COLUMNS), request, view=self)
        rows = RowBuilder(catalog=None)
        rows.load_benefits(row[2] for row in page)
        return self.paginator.get_paginated_response([rows.change(row) for row in page])

    def _snapshot(self, request, position: tuple[int, int] | None) -> Response:
        if "since" in request.query_params:
            raise ValidationError({"since": [_("快照给出当前的全部结果，不能与 since 同用。")]})
        if position is None:  # the feed's position when the snapshot begins: it continues from there
            mark = (
                MatchChange.objects.filter(created_at__lte=self.settled_before())
                .order_by("-pk")
                .values_list("pk", flat=True)
                .first()
            )
            position = (mark or 0, 0)
        results = self.access.restrict(MatchResult.objects.all())
        out_of_scope = self.access.restrict(OutOfScopeResult.objects.all())  # after the stored rows
        # The parameters were checked by filter_queryset (an invisible enterprise is a 404 already).
        form = ChangeFilter(request.query_params, queryset=MatchChange.objects.none(), request=request).form
        form.is_valid()
        for name, column in (("enterprise", "enterprise_id"), ("benefit", "benefit_id")):
            if form.cleaned_data.get(name) is not None:
                results = results.filter(**{column: int(form.cleaned_data[name])})
                out_of_scope = out_of_scope.filter(**{column: int(form.cleaned_data[name])})
        rows = RowBuilder(catalog=None)
        if connection.vendor == "postgresql":
            # PostgreSQL writes each item's text but the benefit (see snapshot_sql_pieces).
            page = self.paginator.paginate_snapshot(
                snapshot_sql_pieces(results),
                request,
                mark=position[0],
                after=position[1],
                then=lambda after: snapshot_sql_pieces(
                    matching_selectors.out_of_scope_after(out_of_scope, after)
                ),
            )
            items = snapshot_items(page, rows)
        else:
            page = self.paginator.paginate_snapshot(
                results.values_list(*SNAPSHOT_COLUMNS),
                request,
                mark=position[0],
                after=position[1],
                then=lambda after: matching_selectors.out_of_scope_after(out_of_scope, after).values_list(
                    *SNAPSHOT_COLUMNS
                ),
            )
            rows.load_benefits(row[2] for row in page)
            items = [rows.snapshot_json(row) for row in page]
        return self.paginator.get_paginated_json_response(items)
