"""The fact catalog as the enterprises app reads it (rows of policies.FactDefinition).

The codec of fact values (parse, validate, to / from JSON) is policies.facttypes, the one fact-type
registry; its names are imported here because the enterprises app has always called them through
`catalog.` (coerce_fact_value, to_json, from_json, TRUE_WORDS, FALSE_WORDS).
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.facttypes import (  # noqa: F401 - the registry's names, as this app calls them
    FALSE_WORDS,
    LARGEST_NUMBER,
    TRUE_WORDS,
    coerce_fact_value,
    from_json,
    to_json,
    too_large,
)
from policies.models import FactDefinition

Type = FactDefinition.Type


def load_catalog(codes: Iterable[str] | None = None) -> dict[str, FactDefinition]:
    """code -> FactDefinition, in code order: the policies app's catalog (region facts carry the tree)."""
    from policies.selectors import catalog

    facts = catalog()
    wanted = sorted(facts) if codes is None else sorted(set(codes) & set(facts))
    return {code: facts[code] for code in wanted}


def catalog_choice_values(code: str) -> set[str] | None:
    """The allowed values of an enum/set fact; None when the catalog does not define the fact."""
    row = FactDefinition.objects.filter(code=code).only("choices").first()
    if row is None:
        return None
    return {choice["value"] for choice in row.choices or []}
