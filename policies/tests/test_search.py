"""The policy-library search: terms, filters, ranking, highlighting; PostgreSQL and the SQLite fallback."""

import datetime
import re

import pytest
from django.db import connection

from policies import selectors
from policies.models import Benefit, Clause, PolicyDocument
from policies.selectors import ClauseFilters, search_clauses, search_clauses_fallback
from policies.tests.factories import ClauseFactory, PolicyDocumentFactory
from policies.views import highlight

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2025, 6, 1)


@pytest.fixture
def library(all_fixtures_loaded, db):
    reports, errors = all_fixtures_loaded
    assert not errors, [error.messages for error in errors]
    return reports


def keys(search) -> list[str]:
    return [f"{clause.document.key}/{clause.number}" for clause in search.clauses]


def text_of(response) -> str:
    html = re.sub(r"<style>.*?</style>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_terms_are_split_on_spaces_and_punctuation():
    assert selectors.split_terms(" 厂房，5000  租赁、厂房 ") == ("厂房", "5000", "租赁")
    assert selectors.split_terms("") == ()
    assert selectors.character_pairs(("上市奖励", "税")) == ["上市", "市奖", "奖励", "税"]


def test_every_term_must_occur_and_most_occurrences_rank_first(library):
    both = search_clauses("厂房 5000", today=TODAY)
    assert keys(both) == ["mh-2024-new-industrialization/7"] and not both.fuzzy
    factories = search_clauses("厂房", today=TODAY)
    assert factories.total > 3
    occurrences = [clause.text.count("厂房") for clause in factories.clauses]
    assert occurrences == sorted(occurrences, reverse=True)
    assert all("厂房" in clause.text or "厂房" in clause.title for clause in factories.clauses)


def test_benefit_names_and_titles_are_searched_too(library):
    clause = Clause.objects.get(document__key="mh-2024-new-industrialization", number="7")
    name = clause.benefits.first().name  # "新购置自用工业厂房补贴" is not written so in the text
    assert name not in clause.text
    assert "mh-2024-new-industrialization/7" in keys(search_clauses(name, today=TODAY))


def test_fallback_is_the_sqlite_path_and_agrees_on_exact_queries(library):
    for query in ("小巨人", "厂房 5000", "专精特新", "EDA"):
        exact = search_clauses(query, today=TODAY)
        fallback = search_clauses_fallback(query, today=TODAY)
        assert keys(fallback) == keys(exact) and fallback.total == exact.total > 0
    fallback = search_clauses_fallback("上市奖励", today=TODAY)  # no clause contains the phrase itself
    assert fallback.total == 0 and not fallback.fuzzy


def test_fuzzy_results_only_on_postgresql_with_trigrams(library):
    """On PostgreSQL (pg_trgm from migration 0003) a query no clause contains finds similar clauses;
    anywhere else the same search is the plain fallback and finds nothing."""
    near = search_clauses("上市奖励", today=TODAY)
    far = search_clauses("火星移民补贴", today=TODAY)
    if connection.vendor == "postgresql":
        assert selectors.trigram_available()
        assert near.fuzzy and "mh-2018-manufacturing-plan/四(五)" in keys(near)
        assert all("上市" in clause.text and "奖励" in clause.text for clause in near.clauses)
        assert far.fuzzy and far.total == 0  # only 补贴 in common: not similar enough
    else:
        assert not selectors.trigram_available()
        assert near.total == far.total == 0 and not near.fuzzy


def test_trigram_index_exists_on_postgresql(library):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'policies_clause_text_trgm'")
            assert "gin_trgm_ops" in cursor.fetchone()[0]
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'policies_clause_text_trgm'")
            assert cursor.fetchone() is None


@pytest.mark.parametrize("day", [
    datetime.date(2018, 1, 1), datetime.date(2024, 3, 31), datetime.date(2024, 4, 1), TODAY,
    datetime.date(2025, 12, 31), datetime.date(2029, 3, 31), datetime.date(2029, 4, 1),
])  # fmt: skip
def test_status_filter_agrees_with_validity_on(library, day):
    PolicyDocumentFactory(key="expired-no-end", status="expired", effective_from=None, effective_to=None)
    PolicyDocumentFactory(key="not-yet", status="in_force", effective_from=datetime.date(2030, 1, 1))
    expected = {reason: set() for reason in selectors.VALIDITY_REASONS}
    for document in PolicyDocument.objects.all():
        expected[document.validity_on(day)[1]].add(document.key)
    for reason, wanted in expected.items():
        found = set(
            PolicyDocument.objects.filter(selectors.validity_q(reason, day)).values_list("key", flat=True)
        )
        assert found == wanted, reason


def test_filters_by_level_status_kind_and_industry(library):
    municipal = search_clauses("", filters=ClauseFilters(level="municipal"), today=TODAY)
    assert municipal.total and {c.document.level for c in municipal.clauses} == {"municipal"}
    drafts = search_clauses("补贴", filters=ClauseFilters(status="draft"), today=TODAY)
    assert drafts.total and {c.document.key for c in drafts.clauses} == {"mh-2024-industry-quality-draft"}
    rent = search_clauses("", filters=ClauseFilters(kind="rent", status="in_force"), today=TODAY)
    assert "mh-2024-new-industrialization/8" in keys(rent)
    assert all(c.benefits.filter(kind=Benefit.Kind.RENT).exists() for c in rent.clauses)
    assert all(c.document.validity_on(TODAY)[0] for c in rent.clauses)
    biomedicine = search_clauses("", filters=ClauseFilters(industry="biomedicine"), limit=500, today=TODAY)
    assert biomedicine.total and all("生物医药" in c.text for c in biomedicine.clauses)
    assert biomedicine.total == Clause.objects.filter(text__contains="生物医药").count()
    # a label naming two things matches either (新赛道和未来产业)
    future = search_clauses("", filters=ClauseFilters(industry="new_tracks_future"), limit=500, today=TODAY)
    assert future.total and all("新赛道" in c.text or "未来产业" in c.text for c in future.clauses)


def test_industry_filter_finds_benefits_restricted_to_the_track(library):
    restricted = [
        benefit
        for benefit in Benefit.objects.select_related("clause__document")
        if "industry_tracks" in benefit.fact_codes
    ]
    assert restricted
    benefit = restricted[0]
    track = next(
        leaf["value"] for leaf in selectors.leaves(benefit.condition) if leaf["fact"] == "industry_tracks"
    )
    found = search_clauses("", filters=ClauseFilters(industry=track), limit=1000, today=TODAY)
    assert benefit.clause in found.clauses


def test_highlight_marks_terms_escapes_html_and_cuts_a_window():
    text = "甲" * 100 + "<b>厂房</b>补贴，厂房面积5000平方米" + "乙" * 300
    html = highlight(text, ("厂房", "5000"), context=10)
    assert html.startswith("…") and html.endswith("…")
    assert "&lt;b&gt;<mark>厂房</mark>&lt;/b&gt;" in html and "<b>" not in html
    assert html.count("<mark>") == 3 and "<mark>5000</mark>" in html
    assert (
        highlight("上市企业给予奖励", ("上市奖励",), fuzzy=True)
        == "<mark>上市</mark>企业给予<mark>奖励</mark>"
    )
    assert highlight("abc", ()) == "abc"


def test_library_page_searches_filters_and_highlights(library, client):
    response = client.get("/policies/", {"q": "厂房 5000"})
    page = text_of(response)
    assert "“厂房 5000”：1 条条款" in page
    assert (
        "<mark>厂房</mark>" in response.content.decode() and "<mark>5000</mark>" in response.content.decode()
    )
    filtered = text_of(client.get("/policies/", {"kind": "rent", "status": "in_force"}))
    assert "符合筛选条件的条款" in filtered and "给予新兴领域高成长性企业租房补贴" in filtered
    municipal = text_of(client.get("/policies/", {"level": "municipal"}))
    table = municipal.split("有效期 条款 / 扶持项目")[1]
    assert "上海市推进高端制造业发展的若干措施" in table and "闵行区关于大力推进新型工业化" not in table
    bad = client.get("/policies/", {"kind": "bogus", "q": "厂房"})
    assert bad.status_code == 200 and "扶持类型：" in text_of(bad) and "bogus" in text_of(bad)


def test_fuzzy_results_are_labelled_on_the_page(library, client):
    page = text_of(client.get("/policies/", {"q": "上市奖励"}))
    assert "“上市奖励”：没有找到包含该词的条款" in page
    if connection.vendor == "postgresql":
        assert "以下是内容相近的" in page
    else:
        assert "以下是内容相近的" not in page


def test_search_ignores_documents_of_other_levels_even_when_they_match(db):
    document = PolicyDocumentFactory(level="municipal")
    ClauseFactory(document=document, text="市级厂房补贴。")
    ClauseFactory(text="区级厂房补贴。")
    found = search_clauses_fallback("厂房补贴", filters=ClauseFilters(level="district"), limit=1000)
    texts = [clause.text for clause in found.clauses]
    assert "区级厂房补贴。" in texts and "市级厂房补贴。" not in texts
    assert {clause.document.level for clause in found.clauses} == {"district"}


def test_htmx_search_gets_the_results_region_and_a_normal_request_the_page(library, client):
    """Search as you type: an HTMX request gets the results region alone (same results as the page),
    a plain GET the whole page with a working form; both vary on HX-Request."""
    region = client.get("/policies/", {"q": "厂房 5000"}, HTTP_HX_REQUEST="true")
    html = region.content.decode()
    assert "<html" not in html and 'id="library-search"' not in html  # the form being typed in stays
    assert "“厂房 5000”：1 条条款" in text_of(region) and "<mark>厂房</mark>" in html
    assert "<tbody>" in html  # the document table follows the level / status filters too
    page = client.get("/policies/", {"q": "厂房 5000"})
    assert "<!doctype html>" in page.content.decode() and "“厂房 5000”：1 条条款" in text_of(page)
    assert re.search(r'<form method="get" role="search" id="library-search"', page.content.decode())
    assert 'value="厂房 5000"' in page.content.decode()
    for response in (region, page):
        assert "HX-Request" in response["Vary"]
    bad = client.get("/policies/", {"kind": "bogus"}, HTTP_HX_REQUEST="true")
    assert 'role="alert"' in bad.content.decode() and "bogus" in text_of(bad)  # errors are in the region
    restoring = client.get(
        "/policies/", {"q": "厂房"}, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<!doctype html>" in restoring.content.decode()
