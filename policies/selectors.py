"""Reads of policy data, for pages, the API and the matching app."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from policies.models import Benefit, Clause, FactDefinition, PolicyDocument


def catalog() -> dict[str, FactDefinition]:
    """The fact catalog: code -> definition."""
    return {fact.code: fact for fact in FactDefinition.objects.all()}


def benefits_with_context() -> QuerySet[Benefit]:
    return Benefit.objects.select_related("clause__document", "clause__heading")


def benefits_reading_fact(code: str) -> list[Benefit]:
    """Benefits whose condition or base reads `code` (filtered in Python: SQLite has no JSON containment)."""
    return [benefit for benefit in benefits_with_context() if code in (benefit.fact_codes or [])]


def library_documents() -> QuerySet[PolicyDocument]:
    return PolicyDocument.objects.annotate(
        clause_count=Count("clauses", distinct=True),
        benefit_count=Count("clauses__benefits", distinct=True),
    ).order_by("source_file", "key")


def document_for_page(key: str) -> PolicyDocument | None:
    """A document with its headings, clauses and benefits, in printed order."""
    return (
        PolicyDocument.objects.filter(key=key)
        .prefetch_related(
            "headings",
            Prefetch(
                "clauses", queryset=Clause.objects.select_related("heading").prefetch_related("benefits")
            ),
        )
        .first()
    )


def search_clauses(query: str, *, limit: int = 100) -> QuerySet[Clause]:
    """Clauses whose text, title or benefit names contain `query` (the full-text search is a later issue)."""
    query = query.strip()
    if not query:
        return Clause.objects.none()
    matches = Q(text__icontains=query) | Q(title__icontains=query) | Q(benefits__name__icontains=query)
    ids = Clause.objects.filter(matches).values("id")
    return Clause.objects.filter(id__in=ids).select_related("document", "heading")[:limit]


def document_counts(document: PolicyDocument) -> dict[str, int]:
    """What the issue asks to report per document: clauses, benefits, fixed caps, recognitions required."""
    benefits = Benefit.objects.filter(clause__document=document)
    return {
        "clauses": document.clauses.count(),
        "benefits": benefits.count(),
        "benefits_with_cap": benefits.filter(cap__isnull=False).count(),
        "benefits_requiring_recognition": benefits.filter(requires_recognition=True).count(),
    }
