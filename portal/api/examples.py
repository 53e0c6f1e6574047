"""Example payloads shown in the OpenAPI documentation (taken from real replies on the loaded policies)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

DOCUMENT_TITLE = "闵行区关于大力推进新型工业化高质量发展的若干政策意见"
CLAUSE_7 = (
    "给予高端先进制造业项目购租工业厂房补贴。统筹招商引资拓增量，深化重点产业链招商。对于重点产业领域新引进的优质"
    "制造业项目，新购置自用工业厂房面积超过2000平方米（含）以上的，新租赁自用工业厂房且租赁面积超过5000平方米（含）"
    "以上的，经认定，给予上限1000万元的补贴。"
)
LEASE_KEY = "mh-2024-new-industrialization/7/new-factory-lease"
AREA_QUOTE = "新租赁自用工业厂房且租赁面积超过5000平方米（含）以上"

DOCUMENT = {
    "id": 1,
    "key": "mh-2024-new-industrialization",
    "title": DOCUMENT_TITLE,
    "issuer": "闵行区人民政府",
    "level": "district",
    "level_label": "区级",
    "number": "闵府规发〔2024〕1号",
    "source_file": "000_a58dafab45e73810.txt",
    "published_on": "2024-03-07",
    "effective_from": "2024-04-01",
    "effective_to": "2029-03-31",
    "status": "in_force",
    "status_label": "现行有效",
    "validity": {"as_of": "2025-06-01", "in_force": True, "reason": "in_force"},
    "clause_count": 24,
    "benefit_count": 29,
    "jurisdiction": "310112",
    "applicability": {
        "any": [
            {
                "fact": "registered_region",
                "op": "within",
                "value": "310112",
                "clause": "附则",
                "quote": "闵行区",
            },
            {
                "fact": "operating_region",
                "op": "within",
                "value": "310112",
                "clause": "附则",
                "quote": "闵行区",
            },
        ]
    },
    "supersedes": [],
}
CLAUSE = {
    "id": 7,
    "document": "mh-2024-new-industrialization",
    "heading": {"number": "二", "title": "保障优质项目空间资源"},
    "number": "7",
    "order": 7,
    "kind": "subsidy",
    "kind_label": "资金补贴",
    "title": "给予高端先进制造业项目购租工业厂房补贴",
    "text": CLAUSE_7,
    "figures_not_benefits": [{"phrase": "5000平方米", "why": "新租赁厂房面积门槛，已作为条件"}],
    "benefits": [{"id": 4, "key": "new-factory-lease", "name": "新租赁自用工业厂房补贴", "kind": "lump_sum"}],
}
AREA_CONDITION = {"fact": "new_factory_lease_area_m2", "op": "gte", "value": 5000, "quote": AREA_QUOTE}
BENEFIT = {
    "id": 4,
    "global_key": LEASE_KEY,
    "document": "mh-2024-new-industrialization",
    "document_title": DOCUMENT_TITLE,
    "clause": 7,
    "clause_number": "7",
    "key": "new-factory-lease",
    "name": "新租赁自用工业厂房补贴",
    "kind": "lump_sum",
    "kind_label": "定额/上限资助",
    "cap": "10000000.00",
    "cap_wan": "1000.00 万元",
    "amount": None,
    "amount_wan": None,
    "ratio": None,
    "base_fact": "",
    "instalments": None,
    "recurrence": "one_time",
    "requires_recognition": True,
    "recognition_phrase": "经认定",
    "amount_quote": "给予上限1000万元的补贴",
    "stacking_group": "mh2024-c7-factory",
    "valid_from": None,
    "valid_to": None,
    "condition": {"all": [AREA_CONDITION]},
    "requirements": [{**AREA_CONDITION, "text": "新租赁自用工业厂房面积 ≥ 5000 平方米"}],
    "fact_codes": ["new_factory_lease_area_m2"],
    "version": 1,
    "validity": {"as_of": "2025-06-01", "in_force": True, "reason": "in_force"},
    "amount_rule": {},
    "amount_terms": [],
    "per_item": "",
    "exclusion_groups": [],
}
FACT = {
    "code": "new_factory_lease_area_m2",
    "type": "decimal",
    "unit": "平方米",
    "label_zh": "新租赁自用工业厂房面积",
    "label_en": "Newly leased self-use factory area",
    "description": "",
    "choices": [],
    "derived": "builtin",
}
ENTERPRISE = {
    "id": 42,
    "name": "上海闵行示例精密制造有限公司",
    "credit_code": "91310112MA1GBUG23E",
    "district": "闵行区",
    "town": "莘庄工业区",
    "address": "",
    "registered_on": "2015-03-01",
    "legal_form": "llc",
    "industry_code": "3511",
    "industry_tracks": ["high_end_equipment"],
    "industry_subtracks": [],
    "scale": "small",
    "is_foreign_invested": None,
    "above_scale": True,
    "above_scale_since": 2019,
    "listing_exchange": "",
    "listed_on": None,
    "recognitions_declared": True,
    "projects_declared": True,
    "source": "staff",
    "version": 3,
    "created_at": "2025-05-20T10:00:00+08:00",
    "updated_at": "2025-06-01T09:00:00+08:00",
}
BENEFIT_REF = {
    "id": 4,
    "global_key": LEASE_KEY,
    "name": "新租赁自用工业厂房补贴",
    "kind": "lump_sum",
    "document_title": DOCUMENT_TITLE,
    "clause_number": "7",
}
CITATION = {
    "document_key": "mh-2024-new-industrialization",
    "document_title": DOCUMENT_TITLE,
    "clause_number": "7",
    "quote": AREA_QUOTE,
}
MATCH = {
    "id": 812,
    "enterprise": 42,
    "benefit": BENEFIT_REF,
    "status": "pending_recognition",
    "status_label": "待认定",
    "score": 90,
    "amount": "10000000.00",
    "amount_wan": "1000.00 万元",
    "amount_basis": "up_to_cap",
    "leaf_outcomes": "v",
    "reasons": [
        {
            "fact": "new_factory_lease_area_m2",
            "requirement": "新租赁自用工业厂房面积 ≥ 5000 平方米",
            "outcome": "met",
            "citation": CITATION,
        }
    ],
    "benefit_version": 1,
    "engine_version": "1",
    "as_of": "2025-06-01",
    "evaluated_at": "2025-06-01T09:30:00+08:00",
}
EXPLAINED_REASON = {
    **MATCH["reasons"][0],
    "value": "6000.00",
    "value_text": "6000 平方米",
    "source": "self_declared",
    "source_text": "企业自报",
}
MATCH_DETAIL = {**MATCH, "reasons": [EXPLAINED_REASON], "up_to_date": True, "missing_facts": []}
CHANGE = {
    "id": 90211,
    "enterprise": 42,
    "benefit": {"id": 4, "global_key": LEASE_KEY},
    "old_status": "needs_info",
    "new_status": "pending_recognition",
    "old_amount": "10000000.00",
    "old_amount_wan": "1000.00 万元",
    "new_amount": "10000000.00",
    "new_amount_wan": "1000.00 万元",
    "cause": "enterprise_data",
    "as_of": "2025-06-01",
    "created_at": "2025-06-01T09:30:00+08:00",
}
SNAPSHOT_ITEM = {
    **CHANGE,
    "id": None,
    "old_status": None,
    "old_amount": None,
    "old_amount_wan": None,
    "cause": "snapshot",
    "created_at": "2025-06-01T02:00:00+08:00",
}
SELF_CHECK_RESULT = {
    "as_of": "2025-06-01",
    "total": "0.00",
    "total_wan": "0 万元",
    "computed_total": "0.00",
    "ceiling_total": "10000000.00",
    "high_total": "0.00",
    "total_is_lower_bound": False,
    "counts": {
        "eligible": 0,
        "pending_recognition": 1,
        "needs_info": 40,
        "not_eligible": 3,
        "not_in_force": 0,
    },
    "verdicts": [
        {
            "benefit": BENEFIT_REF,
            "status": "pending_recognition",
            "status_label": "待认定",
            "score": 90,
            "amount": "10000000.00",
            "amount_wan": "1000.00 万元",
            "amount_basis": "up_to_cap",
            "per_instalment": None,
            "reasons": [{**EXPLAINED_REASON, "source": "", "source_text": ""}],
            "missing_facts": [],
        }
    ],
    "missing_facts": [
        {
            "code": "rent_total",
            "label": "租房总额",
            "could_unlock": "5000000.00",
            "could_unlock_wan": "500.00 万元",
            "benefits": ["mh-2024-new-industrialization/8/high-growth-rent"],
        }
    ],
    "open_questions": ["rent_total"],
}
APPLICATION = {
    "id": 7,
    "reference": "SB000007",
    "enterprise": 42,
    "benefit": BENEFIT_REF,
    "state": "submitted",
    "state_label": "已提交",
    "requested_amount": "5000000.00",
    "requested_amount_wan": "500.00 万元",
    "approved_amount": None,
    "approved_amount_wan": None,
    "project_summary": "新租赁莘庄工业区厂房 6000 平方米。",
    "contact_name": "张三",
    "contact_phone": "021-12345678",
    "information_request": "",
    "resubmission_note": "",
    "decision_reason": "",
    "reviewer": None,
    "version": 2,
    "allowed_actions": ["assign", "start_review", "withdraw"],
    "created_at": "2025-06-02T10:00:00+08:00",
    "updated_at": "2025-06-02T10:05:00+08:00",
    "submitted_at": "2025-06-02T10:05:00+08:00",
    "last_submitted_at": "2025-06-02T10:05:00+08:00",
    "decided_at": None,
    "item": None,
}
APPLICATION_DETAIL = {
    **APPLICATION,
    "explanation_snapshot": {"status": "pending_recognition", "amount": "10000000.00", "reasons": []},
    "events": [
        {"action": "create", "from_state": "", "to_state": "draft", "comment": "", "amount": "5000000.00",
         "at": "2025-06-02T10:00:00+08:00"},
        {"action": "submit", "from_state": "draft", "to_state": "submitted", "comment": "", "amount": "5000000.00",
         "at": "2025-06-02T10:05:00+08:00"},
    ],
}  # fmt: skip

WEBHOOK = {
    "id": 3,
    "name": "某银行授信系统",
    "url": "https://bank.example.com/hooks/policy",
    "enterprise": 42,
    "created_at": "2025-06-01T09:00:00+08:00",
}
WEBHOOK_CREATED = {**WEBHOOK, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
WEBHOOK_ROTATED = {
    **WEBHOOK,
    "secret": "whsec_q8Yx1kH0m4TZbq2dX9c3eQv7WnR5sJpL",
    "previous_secret_expires_at": "2026-03-02T10:15:00+08:00",
}
WEBHOOK_DELIVERY = {
    "id": 5120,
    "event": "match.changed",
    "change_count": 1,
    "change_ids": [CHANGE["id"]],
    "state": "succeeded",
    "attempts": 1,
    "last_status_code": 200,
    "last_error": "",
    "created_at": "2025-06-01T09:30:03+08:00",
    "last_attempt_at": "2025-06-01T09:30:03+08:00",
    "delivered_at": "2025-06-01T09:30:03+08:00",
}


def reply(name: str, value: dict, status: str = "200") -> OpenApiExample:
    return OpenApiExample(name, value=value, response_only=True, status_codes=[status])
