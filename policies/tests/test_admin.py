"""Staff admin: side-by-side original text, inline condition errors, versions, history, a new document by hand."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from policies.admin import wan_text
from policies.models import Benefit, Clause, FactDefinition, PolicyDocument
from policies.selectors import benefits_with_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("policy-admin", "a@example.cn", "pw-for-tests-only")
    client.force_login(user)
    return user


def benefit_post_data(benefit: Benefit, **changes) -> dict:
    data = {
        "clause": benefit.clause_id, "key": benefit.key, "name": benefit.name, "kind": benefit.kind,
        "cap": wan_text(benefit.cap) if benefit.cap is not None else "",  # typed in 万元
        "amount": wan_text(benefit.amount) if benefit.amount is not None else "", "ratio": benefit.ratio or "",
        "base_fact": benefit.base_fact, "instalments": benefit.instalments or "", "recurrence": benefit.recurrence,
        "recognition_phrase": benefit.recognition_phrase, "amount_quote": benefit.amount_quote,
        "stacking_group": benefit.stacking_group, "valid_from": "", "valid_to": "",
        "condition": json.dumps(benefit.condition, ensure_ascii=False) if benefit.condition else "",
    }  # fmt: skip
    if benefit.requires_recognition:
        data["requires_recognition"] = "on"
    data.update(changes)
    return data


def test_clause_page_shows_original_text_beside_its_benefits(doc_000, staff, client):
    clause = Clause.objects.get(document__key="mh-2024-new-industrialization", number="11")
    page = client.get(f"/admin/policies/clause/{clause.pk}/change/").content.decode()
    assert 'class="policy-side-by-side"' in page and "条款原文" in page
    assert "对首次升规纳统的工业企业，经认定给予上限15万元的资助" in page
    assert page.count('name="benefits-') > 4 * 10  # the four benefits of clause 11 as inline forms
    assert "newly_above_scale" in page  # the condition JSON, readable


def test_invalid_condition_is_shown_inline_and_nothing_is_saved(doc_000, staff, client):
    benefit = Benefit.objects.get(clause__number="7", key="new-factory-lease")
    bad = {
        "all": [{"fact": "lease_area_typo", "op": "gte", "value": 5000, "quote": "租赁面积超过5000平方米"}]
    }
    response = client.post(
        f"/admin/policies/benefit/{benefit.pk}/change/",
        benefit_post_data(benefit, condition=json.dumps(bad, ensure_ascii=False)),
    )
    assert response.status_code == 200  # the form again, with errors
    errors = response.context["adminform"].form.errors
    assert "condition" in errors and "lease_area_typo" in " ".join(errors["condition"])
    assert "未知事实 lease_area_typo" in response.content.decode()
    assert Benefit.objects.get(pk=benefit.pk).condition == benefit.condition

    response = client.post(
        f"/admin/policies/benefit/{benefit.pk}/change/", benefit_post_data(benefit, condition="{not json")
    )
    assert response.status_code == 200 and "condition" in response.context["adminform"].form.errors


def test_saving_in_admin_bumps_version_and_records_who(doc_000, staff, client):
    benefit = Benefit.objects.get(clause__number="7", key="new-factory-lease")
    response = client.post(
        f"/admin/policies/benefit/{benefit.pk}/change/",
        benefit_post_data(benefit, name="新租赁厂房补贴（改）"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    benefit.refresh_from_db()
    assert (benefit.name, benefit.version) == ("新租赁厂房补贴（改）", 2)
    latest = benefit.history.first()
    assert (latest.history_user, latest.history_change_reason) == (staff, "admin")
    history_page = client.get(f"/admin/policies/benefit/{benefit.pk}/history/").content.decode()
    # who changed it, and the name before and after
    assert "policy-admin" in history_page and "新租赁自用工业厂房补贴" in history_page
    assert "新租赁厂房补贴（改）" in history_page

    # saving the same values again is not a change: no version, no history row
    rows = benefit.history.count()
    client.post(f"/admin/policies/benefit/{benefit.pk}/change/", benefit_post_data(benefit))
    benefit.refresh_from_db()
    assert (benefit.version, benefit.history.count()) == (2, rows)


def test_benefit_page_shows_the_clause_text_beside_the_form(doc_000, staff, client):
    benefit = Benefit.objects.get(clause__number="10", key="municipal-tech-upgrade-matching")
    page = client.get(f"/admin/policies/benefit/{benefit.pk}/change/").content.decode()
    assert 'class="policy-side-by-side"' in page
    assert "按照扶持资金给予 1:0.5 配套，上限 1000 万元" in page


def test_staff_add_a_stored_fact_and_a_new_document_with_no_code(catalog_loaded, staff, client):
    response = client.post(
        "/admin/policies/factdefinition/add/",
        {"code": "robot_count", "type": "int", "unit": "台", "label_zh": "工业机器人保有量", "label_en": "Robots",
         "description": "", "choices": "", "derived": "stored", "source_file": ""},
    )  # fmt: skip
    assert response.status_code == 302
    assert FactDefinition.objects.get(code="robot_count").history.first().history_user == staff

    inline = {
        "headings-TOTAL_FORMS": "0", "headings-INITIAL_FORMS": "0", "headings-MIN_NUM_FORMS": "0",
        "headings-MAX_NUM_FORMS": "1000",
        "clauses-TOTAL_FORMS": "1", "clauses-INITIAL_FORMS": "0", "clauses-MIN_NUM_FORMS": "0",
        "clauses-MAX_NUM_FORMS": "1000",
        "clauses-0-number": "1", "clauses-0-order": "1", "clauses-0-kind": "subsidy", "clauses-0-title": "机器人补贴",
        "clauses-0-text": "对工业机器人保有量不少于10台的企业，给予上限50万元的补贴。",
    }  # fmt: skip
    response = client.post(
        "/admin/policies/policydocument/add/",
        {"key": "test-robots", "title": "测试机器人政策", "issuer": "测试区", "level": "district", "number": "",
         "source_file": "robots.txt", "published_on": "", "effective_from": "2030-01-01", "effective_to": "",
         "status": "in_force", "preamble": "", "notes": "", **inline},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    clause = Clause.objects.get(document__key="test-robots", number="1")

    condition = {
        "all": [{"fact": "robot_count", "op": "gte", "value": 10, "quote": "工业机器人保有量不少于10台"}]
    }
    response = client.post(
        "/admin/policies/benefit/add/",
        {"clause": clause.pk, "key": "robots", "name": "机器人补贴", "kind": "lump_sum", "cap": "50",
         "amount": "", "ratio": "", "base_fact": "", "instalments": "", "recurrence": "one_time",
         "recognition_phrase": "", "amount_quote": "给予上限50万元的补贴", "stacking_group": "", "valid_from": "",
         "valid_to": "", "condition": json.dumps(condition, ensure_ascii=False)},
    )  # fmt: skip
    assert response.status_code == 302
    benefit = benefits_with_context().get(clause__document__key="test-robots", key="robots")
    assert (benefit.cap, benefit.fact_codes, benefit.version) == (Decimal("500000"), ["robot_count"], 1)
    assert PolicyDocument.objects.get(key="test-robots").history.first().history_user == staff
    # and the public page shows it like the others
    page = client.get("/policies/test-robots/").content.decode()
    assert "工业机器人保有量 ≥ 10 台" in page and "上限 50 万元" in page


def test_a_fact_read_by_conditions_cannot_be_deleted_or_retyped(doc_000, staff, client):
    fact = FactDefinition.objects.get(code="new_factory_lease_area_m2")
    assert client.get(f"/admin/policies/factdefinition/{fact.pk}/delete/").status_code == 403
    response = client.post(
        f"/admin/policies/factdefinition/{fact.pk}/change/",
        {"type": "bool", "unit": "", "label_zh": fact.label_zh, "label_en": fact.label_en, "description": "",
         "choices": "", "derived": fact.derived, "source_file": fact.source_file},
    )  # fmt: skip
    assert response.status_code == 200
    assert "new-factory-lease" in response.content.decode()
    assert FactDefinition.objects.get(pk=fact.pk).type == "decimal"
