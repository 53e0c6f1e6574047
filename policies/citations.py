"""Every quote a condition rests on must be words of the clause it cites.

A leaf may name the clause of the same document its quote comes from (`clause: "4"`), so the
conditions of 第四条 can govern the rates of 第五条 and an annex's "本政策适用于…" can govern every
benefit; without it, the quote must be in the benefit's own clause. Pure: the loader passes the
clause texts of the file, a benefit's clean() those of its stored document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from policies.conditions import leaves
from policies.fidelity import found_in


def quote_problems(
    tree: Any, clause_texts: Mapping[str, str], own_clause: str | None, *, where: str = "condition"
) -> list[str]:
    """Leaves whose quote is not in the cited clause (or the own clause), or that cite an unknown clause."""
    problems = []
    for leaf in leaves(tree):
        number = leaf.get("clause") or own_clause
        fact, quote = leaf.get("fact"), leaf.get("quote") or ""
        if number is None:
            problems.append(
                _("%(where)s %(fact)s：须用 clause 注明引文出自哪一条") % {"where": where, "fact": fact}
            )
        elif number not in clause_texts:
            problems.append(
                _("%(where)s %(fact)s：引用的条款 %(number)s 不在本文件中")
                % {"where": where, "fact": fact, "number": number}
            )
        elif not found_in(quote, clause_texts[number]):
            problems.append(
                _("%(where)s %(fact)s 的引文“%(q)s”不在第 %(number)s 条原文中")
                % {"where": where, "fact": fact, "q": quote, "number": number}
            )
    return problems
