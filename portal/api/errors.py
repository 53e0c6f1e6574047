"""One error format for the whole API: RFC 9457 problem details (application/problem+json).

    {"type": "urn:policy-portal:problem:validation", "title": "请求数据有误", "status": 400,
     "detail": "…", "code": "invalid", "instance": "/api/v1/…", "errors": {"field": ["…"]}}

Titles and messages are in Chinese; `Accept-Language: en` gives English. Every exception raised in
an API view goes through `problem_exception_handler`, including unexpected ones (a logged 500), and
unknown paths under /api/ answer 404 in the same format (`not_found_view`).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

logger = logging.getLogger("portal.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:policy-portal:problem:"
NON_FIELD_KEY = api_settings.NON_FIELD_ERRORS_KEY

TITLES = {
    400: gettext_lazy("请求数据有误"),
    401: gettext_lazy("需要身份认证"),
    403: gettext_lazy("没有权限"),
    404: gettext_lazy("未找到"),
    405: gettext_lazy("不支持该请求方法"),
    406: gettext_lazy("无法提供所要求的格式"),
    409: gettext_lazy("与当前数据冲突"),
    413: gettext_lazy("请求体过大"),
    415: gettext_lazy("不支持的请求格式"),
    422: gettext_lazy("无法处理该请求"),
    429: gettext_lazy("请求过于频繁"),
    500: gettext_lazy("服务器内部错误"),
}


# Codes of the services' ValidationErrors that mean "the data is not in a state for this" (409), not
# "your input is wrong" (400): a stale version, a double submission, a transition not allowed now.
CONFLICT_CODES = {
    "stale": "stale_version",
    "duplicate": "duplicate",
    "invalid_transition": "invalid_transition",
    "not_in_force": "not_in_force",
}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("请求体超过允许的大小。")
    default_code = "payload_too_large"


def payload_too_large() -> PayloadTooLarge:
    return PayloadTooLarge(_("请求体不能超过 %(n)s 字节。") % {"n": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("数据已被修改，请重新读取后再提交。")
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = gettext_lazy("无法处理该请求。")
    default_code = "unprocessable"


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as {"field.sub[0]": ["message"]}; errors of the whole body under
    "non_field_errors"."""
    flat: dict[str, list[str]] = {}

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                name = NON_FIELD_KEY if name == NON_FIELD_ERRORS else str(name)
                if name == NON_FIELD_KEY:
                    walk(child, path)  # errors of the object itself stay on its path
                else:
                    walk(child, f"{path}.{name}" if path else name)
        elif isinstance(node, list) and any(isinstance(item, (dict, list)) for item in node):
            for index, child in enumerate(node):
                walk(child, f"{path}[{index}]")
        elif isinstance(node, list):
            flat.setdefault(path or NON_FIELD_KEY, []).extend(str(item) for item in node)
        elif node not in (None, ""):
            flat.setdefault(path or NON_FIELD_KEY, []).append(str(node))

    walk(detail, prefix)
    return flat


def problem(
    status_code: int,
    *,
    code: str,
    detail: str = "",
    errors: dict[str, list[str]] | None = None,
    instance: str = "",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": str(TITLES.get(status_code, TITLES[500 if status_code >= 500 else 400])),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body


def _as_api_exception(exc: Exception) -> exceptions.APIException | None:
    """Django's exceptions in DRF's terms; None for the unexpected."""
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound(_("未找到该资源，或您无权查看。"))
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return payload_too_large()
    if isinstance(exc, DjangoValidationError):
        conflict = CONFLICT_CODES.get(getattr(exc, "code", None))
        if conflict is not None:
            return Conflict(exc.messages[0], code=conflict)
        detail = exc.message_dict if hasattr(exc, "error_dict") else {NON_FIELD_KEY: exc.messages}
        return exceptions.ValidationError(detail)
    return None


def problem_exception_handler(exc: Exception, context: dict) -> Response:
    request = context.get("request")
    api_exc = _as_api_exception(exc)
    headers: dict[str, str] = {}
    if api_exc is None:
        logger.exception("unhandled error in %s", getattr(request, "path", "?"), exc_info=exc)
        body = problem(500, code="server_error", detail=_("请稍后重试；问题已记录。"))
        status_code = 500
    else:
        status_code = api_exc.status_code
        if getattr(api_exc, "auth_header", None):
            headers["WWW-Authenticate"] = api_exc.auth_header
        if getattr(api_exc, "wait", None):
            headers["Retry-After"] = f"{int(api_exc.wait)}"
        body = _body_for(api_exc)
    if request is not None:
        body["instance"] = request.path
    set_rollback()
    response = Response(body, status=status_code, headers=headers)
    if not isinstance(getattr(request, "accepted_renderer", None), BrowsableAPIRenderer):
        response.content_type = PROBLEM_CONTENT_TYPE
    return response


def _body_for(exc: exceptions.APIException) -> dict[str, Any]:
    codes = exc.get_codes()
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        messages = [message for field_messages in errors.values() for message in field_messages]
        detail = (
            messages[0]
            if len(messages) == 1
            else _("请检查 errors 中列出的 %(n)s 处问题。") % {"n": len(messages)}
        )
        return problem(exc.status_code, code="validation", detail=detail, errors=errors)
    code = codes if isinstance(codes, str) else exc.default_code
    return problem(exc.status_code, code=code, detail=str(exc.detail))


@csrf_exempt  # it changes nothing, and a POST to a mistyped path should get its 404, not a CSRF page
def not_found_view(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any path under /api/ that names no endpoint."""
    detail = _("没有这个 API 地址。")
    if not request.path.endswith("/"):
        detail = _("没有这个 API 地址（地址应以“/”结尾）。")
    body = problem(404, code="not_found", detail=detail, instance=request.path)
    return JsonResponse(
        body, status=404, content_type=PROBLEM_CONTENT_TYPE, json_dumps_params={"ensure_ascii": False}
    )
