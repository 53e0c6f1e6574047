# ruff: noqa: F811 - fixtures imported from test_selfcheck are named as test arguments
"""The self-check says what each question is about (issue 12): the enterprise's own technology-upgrade
questions and those of one technology-upgrade project (item kind tech_upgrade_project) read alike, so a
step that asks about an item puts each group under its heading — 企业整体情况, or the item kind's
name with 按单个项目填写 — in Chinese and in English."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.utils import translation

from policies.models import FactDefinition
from portal.selfcheck import ANSWERS_SESSION_KEY, question_groups
from portal.tests.test_selfcheck import IN_MINHANG, policies, policies_loaded  # noqa: F401  (fixtures)

ENTERPRISE_UPGRADE = {"tech_upgrade_level", "tech_upgrade_total_investment", "tech_upgrade_debt_financed"}
PROJECT_UPGRADE = {
    "tech_project_level",
    "tech_project_new_equipment_investment",
    "tech_project_municipal_funding",
}


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def sections(html: str) -> dict[str, tuple[str, set[str]]]:
    """group id → (its heading, the questions under it)."""
    found = {}
    for group, body in re.findall(
        r'<section class="sc-group" id="group-([\w-]+)"[^>]*>(.*?)</section>', html, re.S
    ):
        heading = re.search(r'<h3 class="sc-group-title"[^>]*>(.*?)</h3>', body)
        found[group] = (heading.group(1) if heading else "", set(re.findall(r'id="q-(\w+)"', body)))
    return found


def projects_page(client):
    session = client.session
    session[ANSWERS_SESSION_KEY] = dict(IN_MINHANG)
    session.save()
    return client.get("/self-check/step/projects/").content.decode()


def test_enterprise_and_project_questions_are_under_their_own_headings(policies, client):
    groups = sections(projects_page(client))
    heading, enterprise = groups["enterprise"]
    assert heading == "企业整体情况"
    assert ENTERPRISE_UPGRADE & enterprise and not PROJECT_UPGRADE & enterprise
    heading, project = groups["tech_upgrade_project"]
    assert heading == "技术改造项目（每个单独计算，就其中一个填写）"
    assert project == PROJECT_UPGRADE
    # every question sits under the group of what it is about, each once
    kinds = dict(FactDefinition.objects.values_list("code", "item_kind"))
    for group, (_heading, codes) in groups.items():
        assert {kinds[code] or "enterprise" for code in codes} == {group}
    asked = [code for _heading, codes in groups.values() for code in codes]
    assert len(asked) == len(set(asked))


def test_the_headings_read_in_english(policies, client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    groups = sections(projects_page(client))
    assert groups["enterprise"][0] == "The enterprise as a whole"
    assert groups["tech_upgrade_project"][0] == (
        "Technology-upgrade project (each counted on its own: answer for one)"
    )


def test_a_step_about_the_enterprise_alone_has_no_headings(policies, client):
    session = client.session
    session[ANSWERS_SESSION_KEY] = dict(IN_MINHANG)
    session.save()
    html = client.get("/self-check/step/basic/").content.decode()
    groups = sections(html)
    assert list(groups) == ["enterprise"] and groups["enterprise"][0] == ""
    assert "企业整体情况" not in html


def test_question_groups_keep_the_steps_order(policies):
    catalog = {fact.code: fact for fact in FactDefinition.objects.all()}
    questions = [
        catalog[code]
        for code in ("tech_project_level", "tech_upgrade_level", "tech_project_municipal_funding")
    ]
    groups = question_groups(questions)
    assert [(group.kind, group.codes) for group in groups] == [
        ("", ("tech_upgrade_level",)),
        ("tech_upgrade_project", ("tech_project_level", "tech_project_municipal_funding")),
    ]
