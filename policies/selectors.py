"""Reads of policy data, for pages, the API and the matching app."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db import connection
from django.db.models import Case, Count, FloatField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Greatest, Length, Lower, Replace
from django.utils import timezone

from policies.models import Benefit, Clause, FactDefinition, PolicyDocument
from policies.rules import leaves


def catalog() -> dict[str, FactDefinition]:
    """The fact catalog: code -> definition, region facts with the region tree as their choices."""
    return FactDefinition.objects.catalog()


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


# --- the library search ---------------------------------------------------------------------------

MAX_TERMS = 8
FUZZY_MIN_SCORE = 0.6  # share of the query's character pairs (or trigram word similarity) a clause must reach
_TERM_SEPARATORS = re.compile(r"[\s,，、;；。:：!！?？\"“”'‘’()（）]+")
# Validity reasons of PolicyDocument.validity_on, offered as the library's status filter.
VALIDITY_REASONS = ("in_force", "draft", "not_yet_effective", "expired", "superseded")


@dataclass(frozen=True)
class ClauseFilters:
    level: str = ""  # PolicyDocument.Level
    status: str = ""  # one of VALIDITY_REASONS, judged on the search date
    industry: str = ""  # a choice value of the catalog fact industry_tracks
    kind: str = ""  # Benefit.Kind: clauses granting at least one benefit of this kind

    def __bool__(self) -> bool:
        return any((self.level, self.status, self.industry, self.kind))


@dataclass(frozen=True)
class ClauseSearch:
    clauses: list[Clause]  # best first, at most `limit`
    total: int  # every match, beyond the limit too
    terms: tuple[str, ...]  # the query's terms (what to highlight)
    fuzzy: bool = False  # nothing contained every term: these are the most similar clauses instead


def split_terms(query: str) -> tuple[str, ...]:
    """Terms of a query: separated by spaces or punctuation (Chinese has no spaces inside a term)."""
    terms = [term[:50] for term in _TERM_SEPARATORS.split(query or "") if term]
    return tuple(dict.fromkeys(terms))[:MAX_TERMS]


def character_pairs(terms: tuple[str, ...]) -> list[str]:
    """The overlapping two-character pieces of each term (a one-character term is its own piece): the
    units of fuzzy matching for Chinese, where most words are two characters long."""
    pieces = [term[i : i + 2] for term in terms for i in range(max(len(term) - 1, 1))]
    return list(dict.fromkeys(pieces))


def validity_q(reason: str, today: date, prefix: str = "") -> Q:
    """Documents whose `validity_on(today)` gives `reason`, as a query (PolicyDocument.validity_on in SQL)."""
    f = {name: f"{prefix}{name}" for name in ("status", "effective_from", "effective_to")}
    Status = PolicyDocument.Status
    dated = Q(**{f"{f['status']}__in": [Status.IN_FORCE, Status.EXPIRED]})
    started = Q(**{f"{f['effective_from']}__isnull": True}) | Q(**{f"{f['effective_from']}__lte": today})
    ended = Q(**{f"{f['effective_to']}__lt": today}) | (
        Q(**{f"{f['status']}": Status.EXPIRED}) & Q(**{f"{f['effective_to']}__isnull": True})
    )
    return {
        "draft": Q(**{f["status"]: Status.DRAFT}),
        "superseded": Q(**{f["status"]: Status.SUPERSEDED}),
        "not_yet_effective": dated & Q(**{f"{f['effective_from']}__gt": today}),
        "expired": dated & started & ended,
        "in_force": dated & started & ~ended,
    }[reason]


def industry_labels(track: str) -> list[str]:
    """The words naming a track in the texts: its label, and each part of a label naming two things
    (新赛道和未来产业 -> 新赛道, 未来产业)."""
    fact = FactDefinition.objects.filter(code="industry_tracks").first()
    label = fact.choice_label(track, "zh") if fact else ""  # the words of the (Chinese) texts
    if not label or label == track:
        return []
    return list(dict.fromkeys([label, *re.split(r"[和与、]", label)]))


def _filtered(filters: ClauseFilters, today: date) -> QuerySet[Clause]:
    clauses = Clause.objects.select_related("document", "heading")
    if filters.level:
        clauses = clauses.filter(document__level=filters.level)
    if filters.status:
        clauses = clauses.filter(validity_q(filters.status, today, prefix="document__"))
    if filters.kind:
        clauses = clauses.filter(id__in=Benefit.objects.filter(kind=filters.kind).values("clause_id"))
    if filters.industry:
        restricted = [  # benefits whose condition asks for this track
            benefit.clause_id
            for benefit in benefits_reading_fact("industry_tracks")
            if any(leaf["fact"] == "industry_tracks" and leaf.get("value") == filters.industry
                   for leaf in leaves(benefit.condition or {}))
        ]  # fmt: skip
        mentions = Q(id__in=restricted)
        for label in industry_labels(filters.industry):
            mentions |= Q(text__icontains=label)
        clauses = clauses.filter(mentions)
    return clauses


def _all_terms(terms: tuple[str, ...]) -> Q:
    matches = Q()
    for term in terms:
        named = Benefit.objects.filter(name__icontains=term).values("clause_id")
        matches &= Q(text__icontains=term) | Q(title__icontains=term) | Q(id__in=named)
    return matches


def _occurrences(terms: tuple[str, ...]):
    """How often the terms occur in the text (a rank that both databases compute alike)."""
    text = Lower("text")
    counts = [
        # Replace takes any expression as the text (django-stubs says a Value): the term lowered in SQL
        (Length(text) - Length(Replace(text, Lower(Value(term)), Value("")))) / Length(Value(term))  # type: ignore[arg-type]
        for term in terms
    ]
    return sum(counts[1:], counts[0])


def _in_order(clauses: QuerySet[Clause]) -> QuerySet[Clause]:
    return clauses.order_by("document__source_file", "document__key", "order")


def trigram_available() -> bool:
    """PostgreSQL with pg_trgm installed (migration policies 0003 installs it when it may)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


def search_clauses(
    query: str = "", *, filters: ClauseFilters = ClauseFilters(), today: date | None = None, limit: int = 100
) -> ClauseSearch:
    """The library search: clauses containing every term of `query` (in text, title or benefit names)
    and passing the filters, most occurrences first; with no query, the filtered clauses in printed order.

    On PostgreSQL with pg_trgm, when no clause contains every term, the most similar clauses are
    returned instead (fuzzy=True): similar by the share of the query's character pairs they contain, or
    by trigram word similarity (which also catches near-spellings of Latin words). Elsewhere this is
    `search_clauses_fallback`.
    """
    today = today or timezone.localdate()
    if not trigram_available():
        return search_clauses_fallback(query, filters=filters, today=today, limit=limit)
    found = search_clauses_fallback(query, filters=filters, today=today, limit=limit)
    if found.total or not found.terms:
        return found
    pieces = character_pairs(found.terms)
    shares = [
        Case(When(text__icontains=piece, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
        for piece in pieces
    ]
    similar = (
        _filtered(filters, today)
        .annotate(
            pair_share=sum(shares[1:], shares[0]) / Value(float(len(pieces))),
            trigram=TrigramWordSimilarity(" ".join(found.terms), "text"),  # the string is a Value
        )
        .annotate(similarity=Greatest("pair_share", "trigram"))
        .filter(similarity__gte=FUZZY_MIN_SCORE)
        .order_by("-similarity", "document__source_file", "order")
    )
    return ClauseSearch(list(similar[:limit]), similar.count(), found.terms, fuzzy=True)


def search_clauses_fallback(
    query: str = "", *, filters: ClauseFilters = ClauseFilters(), today: date | None = None, limit: int = 100
) -> ClauseSearch:
    """The search every database can run (SQLite): icontains for every term, no similarity."""
    today = today or timezone.localdate()
    terms = split_terms(query)
    clauses = _filtered(filters, today)
    if terms:
        clauses = clauses.filter(_all_terms(terms)).annotate(occurrences=_occurrences(terms))
        clauses = clauses.order_by("-occurrences", "document__source_file", "document__key", "order")
    else:
        clauses = _in_order(clauses)
    return ClauseSearch(list(clauses[:limit]), clauses.count(), terms)


def document_counts(document: PolicyDocument) -> dict[str, int]:
    """What the issue asks to report per document: clauses, benefits, fixed caps, recognitions required."""
    benefits = Benefit.objects.filter(clause__document=document)
    return {
        "clauses": document.clauses.count(),
        "benefits": benefits.count(),
        "benefits_with_cap": benefits.filter(cap__isnull=False).count(),
        "benefits_requiring_recognition": benefits.filter(requires_recognition=True).count(),
    }
