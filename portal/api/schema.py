"""drf-spectacular hooks and extensions: only /api/v1/ in the schema, the problem+json errors on every
operation, and strict request bodies."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension

from portal.api.errors import PROBLEM_CONTENT_TYPE

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 问题详情：所有错误的统一格式。Problem details: the one error format.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {
            "type": "string",
            "description": "问题类型 URI。Problem type URI.",
            "example": "urn:policy-portal:problem:validation",
        },
        "title": {
            "type": "string",
            "description": "简短标题（中文，或按 Accept-Language）。Short title.",
            "example": "请求数据有误",
        },
        "status": {"type": "integer", "description": "HTTP 状态码。HTTP status.", "example": 400},
        "detail": {
            "type": "string",
            "description": "具体说明。What went wrong.",
            "example": "未知事实：foo。",
        },
        "code": {
            "type": "string",
            "description": "机器可读的代码。Machine-readable code.",
            "example": "validation",
        },
        "instance": {
            "type": "string",
            "description": "请求路径。Request path.",
            "example": "/api/v1/self-check/",
        },
        "errors": {
            "type": "object",
            "description": "逐字段的错误。Messages per field.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "example": {"facts.foo": ["未知事实：foo。"]},
        },
    },
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# Status -> (when it applies, description).
PROBLEMS = {
    "400": ("input", "请求参数或数据有误 Invalid parameters or body"),
    "401": ("always", "未认证 Not authenticated"),
    "403": ("always", "没有权限或密钥缺少权限范围 Forbidden, or the key lacks the scope"),
    "404": ("always", "未找到或无权查看 Not found, or not yours to see"),
    "406": ("always", "无法提供所要求的格式 Not acceptable"),
    "409": ("write", "与当前数据冲突 Conflict (stale version, duplicate)"),
    "413": ("body", "请求体过大 Payload too large"),
    "415": ("body", "不支持的请求格式 Unsupported media type"),
    "422": ("body", "幂等键已用于不同请求 Idempotency-Key reused for another request"),
    "429": ("always", "请求过于频繁 Too many requests"),
}


def only_api_v1(endpoints, **kwargs):
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            has_body = "requestBody" in operation
            applies = {
                "always": True,
                "input": has_body or bool(operation.get("parameters")),
                "body": has_body,
                "write": method in ("post", "patch", "put", "delete"),
            }
            responses = operation.setdefault("responses", {})
            for status, (when, description) in PROBLEMS.items():
                declared = responses.get(status)
                if declared is None and not applies[when]:
                    continue
                responses[status] = {
                    "description": (declared or {}).get("description") or description,
                    "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}},
                }
            if any(p.get("name") == "If-None-Match" for p in operation.get("parameters", [])):
                responses["304"] = {"description": "未变化 Not modified (ETag matched)"}
    return result


class StrictSerializerSchema(OpenApiSerializerExtension):
    """Request bodies of strict serializers say what the server enforces: no other properties
    (StrictSerializerMixin refuses unknown fields), read-only fields allowed and ignored."""

    target_class = "portal.api.serializers.StrictSerializerMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            properties = schema.setdefault("properties", {})
            for name, field in self.target.fields.items():
                if field.read_only and name not in properties:
                    properties[name] = {"description": "只读，忽略。Read-only, ignored."}
            schema["additionalProperties"] = False
        return schema
