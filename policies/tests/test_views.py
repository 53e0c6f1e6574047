"""The public policy library pages."""

import datetime
import re

import pytest
from django.utils import timezone

from policies.tests.factories import PolicyDocumentFactory

pytestmark = pytest.mark.django_db


def text_of(response) -> str:
    """The visible text, whitespace collapsed."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_library_lists_documents_with_status_badges_and_validity(doc_000, client):
    today = timezone.localdate()
    PolicyDocumentFactory(title="征求意见中的政策", status="draft", effective_from=None)
    PolicyDocumentFactory(title="过期的计划", status="expired", effective_from=datetime.date(2018, 1, 1),
                          effective_to=datetime.date(2020, 12, 31))  # fmt: skip
    PolicyDocumentFactory(title="被替代的政策", status="superseded")
    page = text_of(client.get("/policies/"))
    assert "闵行区关于大力推进新型工业化高质量发展的若干政策意见" in page
    assert "2024-04-01 至 2029-03-31" in page and "区级" in page
    in_force_now = datetime.date(2024, 4, 1) <= today <= datetime.date(2029, 3, 31)
    assert ("现行有效" if in_force_now else "已失效") in page
    assert "征求意见稿" in page and "已失效" in page and "已被替代" in page
    assert "24 / 29" in page  # clauses / benefits


def test_document_page_shows_clauses_benefits_in_wan_and_readable_conditions(doc_000, client):
    response = client.get("/policies/mh-2024-new-industrialization/")
    assert response.status_code == 200
    page = text_of(response)
    assert "给予高端先进制造业项目购租工业厂房补贴。统筹招商引资拓增量" in page  # the original text
    assert "上限 1000 万元" in page and "上限 15 万元" in page
    assert "比例 30%" in page and "分 3 年" in page and "配套比例 1:0.5" in page
    assert "新租赁自用工业厂房面积 ≥ 5000 平方米" in page
    assert "上年度工业产值增量 ≥ 10000 万元" in page  # condition money in 万元, as in the engine's reasons
    assert "当年度首次获得的认定包含“上海市专精特新中小企业”" in page
    assert "需认定" in page
    assert "原文未给出具体金额" in page  # clause 10's "进一步加大支持力度": not stated, never 0
    assert "24 条条款，29 个扶持项目" in page
    # headings are the printed ones, in order
    assert page.index("一、支持的重点产业和领域") < page.index("六、附则")


def test_unknown_document_is_404(db, client):
    assert client.get("/policies/no-such-document/").status_code == 404


def test_search_finds_clauses_by_text(doc_000, client):
    page = text_of(client.get("/policies/", {"q": "小巨人"}))
    assert "“小巨人”：1 条条款" in page and "培育行业领军企业" in page
    assert "没有找到" in text_of(client.get("/policies/", {"q": "火星移民补贴"}))


def test_english_page_uses_english_labels(doc_000, client):
    client.cookies["django_language"] = "en"
    page = text_of(client.get("/policies/mh-2024-new-industrialization/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Newly leased self-use factory area ≥ 5000 m²" in page


def test_search_hits_say_the_documents_status(doc_000, client):
    """Drafts and expired texts are marked in the hits, not mixed in silently (issue 14, step 11)."""
    from policies.tests.factories import ClauseFactory

    expired = PolicyDocumentFactory(
        title="过期的计划",
        status="expired",
        effective_from=datetime.date(2018, 1, 1),
        effective_to=datetime.date(2020, 12, 31),
    )
    ClauseFactory(document=expired, text="对获评专精特新企业的给予一次性奖励。")
    html = client.get("/policies/", {"q": "专精特新"}).content.decode()
    hits = html.split('id="search-results"')[1].split("</section>")[0]
    old = hits.split("过期的计划")[1].split("</h3>")[0]
    assert 'class="badge bad">已失效<' in old
    current = hits.split("闵行区关于大力推进新型工业化高质量发展的若干政策意见")[1].split("</h3>")[0]
    assert "badge" in current


def test_document_page_gives_the_issuers_link_and_the_call_not_a_file_name(doc_000, client):
    from policies.models import PolicyDocument

    page = client.get("/policies/mh-2024-new-industrialization/").content.decode()
    document = PolicyDocument.objects.get(key="mh-2024-new-industrialization")
    assert document.source_file not in page  # the internal file name is not for people
    assert "暂无申报通知" in page and "以申报通知为准" in page and "暂无链接" in page
    document.source_url = "https://www.shmh.gov.cn/policy/2024-1.html"
    document.application_period = "2026年6月5日至7月5日24:00"
    document.receiving_department = "区经委产业发展科"
    document.save()
    page = client.get("/policies/mh-2024-new-industrialization/").content.decode()
    assert 'href="https://www.shmh.gov.cn/policy/2024-1.html"' in page
    assert "2026年6月5日至7月5日24:00" in page and "区经委产业发展科" in page
