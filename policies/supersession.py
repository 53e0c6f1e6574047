"""When a document stops applying because another replaces it: one rule for the database and the fixtures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any


def superseded_dates(documents: Iterable[Mapping[str, Any]]) -> dict[str, dt.date]:
    """Document key → the effective date of the earliest non-draft document naming it in `supersedes`
    (同时废止…: the replaced text stops applying the day the new one takes effect)."""
    dates: dict[str, dt.date] = {}
    for document in documents:
        start = document.get("effective_from")
        if document.get("status") == "draft" or start is None:
            continue
        for entry in document.get("supersedes") or []:
            key = entry.get("key")
            if key and (key not in dates or start < dates[key]):
                dates[key] = start
    return dates
