"""Per-enterprise cap groups in the rule language: lint (the authoring rules) and one wording.

A cap group ("同一企业每年累计不超过X万元", "单个企业区级补贴资金总额不高于3000万元") is declared once in a
policy file's `cap_groups` (key, name, period year | total, limit, clause, quote) and named by the
benefits of that document it covers (`cap_group: key`). The shape is policies.rules.caps.CapGroup;
what needs the file (the cited clause holds the quote, benefits name a declared group) is checked
here, for the loader and the tools alike. Pure: no ORM.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from policies.i18n import gettext
from policies.money import wan


class CapGroup(BaseModel):
    """A cap on the sum an enterprise collects from one or more benefits of one document ("同一企业
    每年累计不超过X万元", "单个企业区级补贴资金总额不高于3000万元"): declared once in the document's
    `cap_groups`, named by each benefit it covers; the loader copies the declaration into each
    benefit's rule. `period`: per calendar year (the sum of what falls due in one year) or in total."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(min_length=1, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    period: Literal["year", "total"]
    limit: Decimal = Field(gt=0)
    clause: str = Field(min_length=1)
    quote: str = Field(min_length=1)


def _squash(text: str) -> str:
    return "".join(str(text or "").split())


def _limit(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def lint_cap_groups(
    groups: Iterable[Mapping[str, Any]],
    clause_texts: Mapping[str, str],
    named: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """Problems of a file's cap groups, each naming the group (or the benefit) and the field:
    a key declared twice, a period other than year/total, a limit that is not above 0, a clause not
    in the file, a quote not in its clause; `named` ((where, key) of each benefit's cap_group): a
    key no group declares."""
    groups = list(groups)
    problems = [
        f"cap group {key}: key: appears {n} times"
        for key, n in Counter(str(group.get("key")) for group in groups).items()
        if n > 1
    ]
    for group in groups:
        where = f"cap group {group.get('key')}"
        if group.get("period") not in ("year", "total"):
            problems.append(f"{where}: period: must be year or total (got {group.get('period')!r})")
        limit = _limit(group.get("limit"))
        if limit is None or limit <= 0:
            problems.append(f"{where}: limit: must be an amount above 0 (got {group.get('limit')!r})")
        clause = str(group.get("clause") or "")
        quote = _squash(group.get("quote") or "")
        if clause not in clause_texts:
            problems.append(f"{where}: clause: {clause or '—'} is not in this file")
        elif not quote or quote not in _squash(clause_texts[clause]):
            problems.append(f"{where}: quote: not in clause {clause}")
    declared = {group.get("key") for group in groups}
    problems += [
        f"{where}: cap_group: {key} is not among this file's cap_groups"
        for where, key in named
        if key not in declared
    ]
    return problems


def cap_group_text(period: str, limit: Any) -> str:
    """ "同一企业每年累计不超过 100 万元" / "同一企业累计不超过 3000 万元" (in the reader's language)."""
    if period == "year":
        return gettext("同一企业每年累计不超过 %(limit)s") % {"limit": wan(limit)}
    return gettext("同一企业累计不超过 %(limit)s") % {"limit": wan(limit)}


def cap_group_note(period: str, limit: Any) -> str:
    """What a page says when the group held an amount down: "…，已按上限计"."""
    return gettext("%(cap)s，已按上限计") % {"cap": cap_group_text(period, limit)}
