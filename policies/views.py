"""The public policy library: documents with their validity, and each document's clauses and benefits."""

from datetime import date

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from policies import selectors
from policies.conditions import describe
from policies.models import PolicyDocument

BADGES = {
    "in_force": (_("现行有效"), "ok"),
    "draft": (_("征求意见稿"), "warn"),
    "not_yet_effective": (_("尚未施行"), "warn"),
    "expired": (_("已失效"), "bad"),
    "superseded": (_("已被替代"), "bad"),
}


def _badge(document: PolicyDocument, today: date) -> tuple[str, str]:
    return BADGES[document.validity_on(today)[1]]


def _language() -> str:
    return "en" if (get_language() or "").startswith("en") else "zh"


def library(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    documents = list(selectors.library_documents())
    for document in documents:
        document.badge = _badge(document, today)
    query = request.GET.get("q", "").strip()
    results = list(selectors.search_clauses(query)) if query else []
    return render(
        request,
        "policies/library.html",
        {"documents": documents, "query": query, "results": results, "today": today},
    )


def document_detail(request: HttpRequest, key: str) -> HttpResponse:
    document = selectors.document_for_page(key)
    if document is None:
        raise Http404("no such policy document")
    today = timezone.localdate()
    facts, lang = selectors.catalog(), _language()
    clauses = list(document.clauses.all())
    for clause in clauses:
        clause.benefit_rows = [
            {"benefit": benefit, "condition": describe(benefit.condition, facts, lang)}
            for benefit in clause.benefits.all()
        ]
    sections = [{"heading": heading, "clauses": [c for c in clauses if c.heading_id == heading.id]}
                for heading in document.headings.all()]  # fmt: skip
    unheaded = [clause for clause in clauses if clause.heading_id is None]
    if unheaded:
        sections.insert(0, {"heading": None, "clauses": unheaded})
    return render(
        request,
        "policies/document.html",
        {"document": document, "badge": _badge(document, today), "sections": sections, "today": today,
         "counts": selectors.document_counts(document)},
    )  # fmt: skip
