"""Example payloads shown in the OpenAPI documentation: data in examples.yaml (real replies on the
loaded policies), named here for the views' `extend_schema(examples=...)`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from drf_spectacular.utils import OpenApiExample

_EXAMPLES: dict[str, Any] = yaml.safe_load(
    (Path(__file__).with_name("examples.yaml")).read_text(encoding="utf-8")
)

DOCUMENT = _EXAMPLES["document"]
CLAUSE = _EXAMPLES["clause"]
AREA_CONDITION = _EXAMPLES["area_condition"]
BENEFIT = _EXAMPLES["benefit"]
FACT = _EXAMPLES["fact"]
ENTERPRISE = _EXAMPLES["enterprise"]
BENEFIT_REF = _EXAMPLES["benefit_ref"]
CITATION = _EXAMPLES["citation"]
MATCH = _EXAMPLES["match"]
EXPLAINED_REASON = _EXAMPLES["explained_reason"]
MATCH_DETAIL = _EXAMPLES["match_detail"]
CHANGE = _EXAMPLES["change"]
SNAPSHOT_ITEM = _EXAMPLES["snapshot_item"]
SELF_CHECK_RESULT = _EXAMPLES["self_check_result"]
APPLICATION = _EXAMPLES["application"]
APPLICATION_DETAIL = _EXAMPLES["application_detail"]
WEBHOOK = _EXAMPLES["webhook"]
WEBHOOK_CREATED = _EXAMPLES["webhook_created"]
WEBHOOK_ROTATED = _EXAMPLES["webhook_rotated"]
WEBHOOK_DELIVERY = _EXAMPLES["webhook_delivery"]
CALL = _EXAMPLES["call"]
ENTERPRISE_REQUEST = _EXAMPLES["enterprise_request"]
CONFIRMATION = _EXAMPLES["confirmation"]
CONFIRMED = _EXAMPLES["confirmed"]
ATTACHMENT = _EXAMPLES["attachment"]
CHECKLIST = _EXAMPLES["checklist"]
PAYOUTS = _EXAMPLES["payouts"]
ITEM = _EXAMPLES["item"]
ITEM_CREATE = _EXAMPLES["item_create"]
SELF_CHECK_REQUEST = _EXAMPLES["self_check_request"]
WEBHOOK_CREATE = _EXAMPLES["webhook_create"]


def reply(name: str, value: dict, status: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status])
