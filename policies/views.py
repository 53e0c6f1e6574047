"""The public policy library: documents with their validity, and each document's clauses and benefits."""

import re
from datetime import date

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from policies import selectors
from policies.models import Benefit, PolicyDocument
from policies.rules import choice_pairs, describe, display_lang

BADGES = {
    "in_force": (_("现行有效"), "ok"),
    "draft": (_("征求意见稿"), "warn"),
    "not_yet_effective": (_("尚未施行"), "warn"),
    "expired": (_("已失效"), "bad"),
    "superseded": (_("已被替代"), "bad"),
}


def _badge(document: PolicyDocument, today: date) -> tuple[str, str]:
    return BADGES[document.validity_on(today)[1]]


class LibrarySearchForm(forms.Form):
    """The library's search box and filters; an unknown filter value is a form error, not a silent no-op."""

    q = forms.CharField(label=_("搜索条款"), required=False, max_length=200)
    level = forms.ChoiceField(label=_("层级"), required=False)
    status = forms.ChoiceField(label=_("状态"), required=False)
    industry = forms.ChoiceField(label=_("产业领域"), required=False)
    kind = forms.ChoiceField(label=_("扶持类型"), required=False)

    def __init__(self, *args, industries: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        every = [("", _("全部"))]
        self.fields["level"].choices = every + list(PolicyDocument.Level.choices)
        self.fields["status"].choices = every + [
            (reason, BADGES[reason][0]) for reason in selectors.VALIDITY_REASONS
        ]
        self.fields["industry"].choices = every + industries
        self.fields["kind"].choices = every + list(Benefit.Kind.choices)

    def filters(self) -> selectors.ClauseFilters:
        data = self.cleaned_data
        return selectors.ClauseFilters(
            level=data["level"], status=data["status"], industry=data["industry"], kind=data["kind"]
        )


def _industries() -> list[tuple[str, str]]:
    fact = selectors.catalog().get("industry_tracks")
    return choice_pairs(fact) if fact else []


def highlight(text: str, terms: tuple[str, ...], *, fuzzy: bool = False, context: int = 60) -> str:
    """The clause text around its first match, HTML-escaped, every match wrapped in <mark>.

    For fuzzy results, whose text contains no whole term, the query's two-character pieces are marked."""
    needles = selectors.character_pairs(terms) if fuzzy else list(terms)
    needles = sorted((needle for needle in needles if needle), key=len, reverse=True)
    pattern = (
        re.compile("|".join(re.escape(needle) for needle in needles), re.IGNORECASE) if needles else None
    )
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - context) if first else 0
    end = min(len(text), (first.end() if first else 0) + 2 * context)
    window = text[start:end]
    pieces, position = [], 0
    for match in pattern.finditer(window) if pattern else ():
        pieces += [escape(window[position : match.start()]), f"<mark>{escape(match.group())}</mark>"]
        position = match.end()
    pieces.append(escape(window[position:]))
    snippet = ("…" if start else "") + "".join(pieces) + ("…" if end < len(text) else "")
    return mark_safe(snippet)  # every piece was escaped above


def library(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = LibrarySearchForm(request.GET or None, industries=_industries())
    documents = selectors.library_documents()
    search = None
    if form.is_valid():
        filters = form.filters()
        if filters.level:
            documents = documents.filter(level=filters.level)
        if filters.status:
            documents = documents.filter(selectors.validity_q(filters.status, today))
        if form.cleaned_data["q"].strip() or filters:
            search = selectors.search_clauses(form.cleaned_data["q"], filters=filters, today=today)
            for clause in search.clauses:
                clause.snippet = highlight(clause.text, search.terms, fuzzy=search.fuzzy)
                clause.document_badge = _badge(clause.document, today)  # drafts and expired texts say so
    documents = list(documents)
    for document in documents:
        document.badge = _badge(document, today)
    # HTMX (search as you type, filters) gets the results region alone; a normal request, or HTMX
    # restoring a page missing from its history cache, gets the whole page.
    htmx = getattr(request, "htmx", None)
    region = htmx and not htmx.history_restore_request
    response = render(
        request,
        "policies/_library_results.html" if region else "policies/library.html",
        {
            "documents": documents,
            "form": form,
            "query": form.cleaned_data.get("q", "").strip() if form.is_bound and form.is_valid() else "",
            "search": search,
            "today": today,
        },
    )
    patch_vary_headers(response, ["HX-Request"])  # a cache must not serve the region for the page
    return response


def document_detail(request: HttpRequest, key: str) -> HttpResponse:
    document = selectors.document_for_page(key)
    if document is None:
        raise Http404("no such policy document")
    today = timezone.localdate()
    facts, lang = selectors.catalog(), display_lang()
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
