"""Per document: clauses, benefits, item kinds used and amount shapes used, and for each shape one
clause that uses it — read from the policy fixtures (no database, no Django settings).

Usage: .venv/bin/python tools/rule_model_report.py [FOLDER ...] > docs/rule_model_report.md
(default: fixtures/policies; docs/rule_model_report.md also reads policies/tests/rule_model, the
made-up test documents, marked as such). Files without a `document:` are skipped.

Nothing here names a document, a clause or a benefit: every row comes from the files. A shape is
what a benefit's amount (or its place in the best total) is made of, as the fixture format declares it
(fixtures/policies/README.md, policies/amount_rules.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _has(name: str) -> Callable[[Mapping], bool]:
    return lambda b: b.get(name) not in (None, [], False, "")


def _schedule(name: str) -> Callable[[Mapping], bool]:
    return lambda b: (
        isinstance(b.get("schedule"), Mapping) and b["schedule"].get(name) not in (None, [], False)
    )


def _dated(b: Mapping) -> bool:
    return any(
        isinstance(b.get(name), list)
        for name in ("cap", "amount", "ratio", "rate", "cap_per_year", "cap_total")
    )


def _fixed(b: Mapping) -> bool:
    return b.get("amount") is not None


def _ratio_of_base(b: Mapping) -> bool:
    return b.get("ratio") is not None and bool(b.get("base_fact")) and not b.get("tiers")


def _ceiling_only(b: Mapping) -> bool:
    computed = ("amount", "ratio", "rate", "ratio_range", "tiers")
    return b.get("cap") is not None and all(b.get(name) in (None, []) for name in computed)


def _no_figure(b: Mapping) -> bool:
    figures = ("amount", "ratio", "rate", "ratio_range", "tiers", "cap", "cap_per_year", "cap_total")
    return b.get("kind") != "non_monetary" and all(b.get(name) in (None, []) for name in figures)


# (shape, test on a fixture benefit) in the order of the list of amount shapes
SHAPES: list[tuple[str, Callable[[Mapping], bool]]] = [
    ("fixed sum (给予X万元)", _fixed),
    ("ratio × base (按…的X%)", _ratio_of_base),
    ("ceiling only (最高/上限X万元)", _ceiling_only),
    ("no figure in the text (一定支持)", _no_figure),
    ("non-monetary", lambda b: b.get("kind") == "non_monetary"),
    ("per-unit rate × quantity (元/千瓦时, 元/吨 …)", _has("rate")),
    ("rate range (按5%—20%)", _has("ratio_range")),
    ("tiers / bands", lambda b: bool(b.get("tiers")) and not b.get("tiers_marginal")),
    ("marginal bands (超出X的部分按Y%)", _has("tiers_marginal")),
    (
        "cap per item (per-item benefit with a cap)",
        lambda b: bool(b.get("per_item")) and b.get("cap") is not None,
    ),
    ("cap as a ratio of another fact (且不超过…的X%)", _has("cap_ratio")),
    ("cap per year", _has("cap_per_year")),
    ("cap in total", _has("cap_total")),
    ("cap group per enterprise (同一企业每年/累计不超过X万元)", _has("cap_group")),
    ("paid yearly for N years", _schedule("years")),
    ("until a stop condition (以先到者为准)", _schedule("until")),
    ("rates declining by year (80% then 50%)", _schedule("year_factors")),
    ("unequal instalments (5/3/2)", _schedule("shares")),
    ("stage payments (30/30/40, 分两次)", _schedule("stages")),
    ("payments outlast the document", _schedule("outlasts_document")),
    ("paid over N years in equal parts (分三年)", lambda b: (b.get("instalments") or 0) > 1),
    ("dated values (from a date on)", _dated),
    ("per item (project, facility, event …)", _has("per_item")),
    ("exclusion group (就高不重复 / 只能选择一项)", _has("exclusion_groups")),
    ("stacking group (one tier of a clause)", _has("stacking_group")),
    ("needs recognition (经认定/经评审)", _has("requires_recognition")),
]


def document_rows(data: Mapping[str, Any]) -> dict[str, Any]:
    """One document's figures: counts, item kinds, shapes with their first clause."""
    clauses = data.get("clauses") or []
    benefits = [(clause, benefit) for clause in clauses for benefit in clause.get("benefits") or []]
    shapes: dict[str, str] = {}
    counts: dict[str, int] = {}
    for clause, benefit in benefits:
        for shape, test in SHAPES:
            if test(benefit):
                counts[shape] = counts.get(shape, 0) + 1
                shapes.setdefault(shape, f"{clause['number']} ({benefit['key']})")
    document = data["document"]
    return {
        "key": document["key"],
        "title": document["title"],
        "clauses": len(clauses),
        "benefit_clauses": sum(1 for clause in clauses if clause.get("benefits")),
        "benefits": len(benefits),
        "items": sorted({benefit["per_item"] for _clause, benefit in benefits if benefit.get("per_item")}),
        "exclusions": len(data.get("exclusions") or []),
        "cap_groups": len(data.get("cap_groups") or []),
        "applicability": bool(document.get("applicability")),
        "shapes": {shape: (counts[shape], shapes[shape]) for shape, _test in SHAPES if shape in shapes},
    }


def report(folders: list[Path]) -> str:
    rows = []
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, Mapping) and "document" in data:
                row = document_rows(data)
                if folder.resolve() != (ROOT / "fixtures" / "policies").resolve():
                    row["key"] += " (made-up test document)"
                rows.append(row)
    names = ", ".join(str(folder.resolve().relative_to(ROOT)) + "/*.yaml" for folder in folders)
    out = [
        "# Rule model report: what each encoded document uses",
        "",
        f"Generated by `tools/rule_model_report.py` from {names} (do not edit by hand).",
        "",
        "| document | clauses (with benefits) | benefits | items used | exclusions | cap groups | applicability |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        out.append(
            f"| {row['key']} — {row['title']} | {row['clauses']} ({row['benefit_clauses']}) | {row['benefits']} "
            f"| {', '.join(row['items']) or '—'} | {row['exclusions']} | {row['cap_groups']} "
            f"| {'yes' if row['applicability'] else 'no'} |"
        )
    for row in rows:
        out += ["", f"## {row['key']}", "", "| shape | benefits | e.g. clause (benefit) |", "|---|---|---|"]
        out += [f"| {shape} | {n} | {where} |" for shape, (n, where) in row["shapes"].items()]
    out += [
        "",
        "## Each shape: one clause that uses it",
        "",
        "| shape | document | clause (benefit) |",
        "|---|---|---|",
    ]
    for shape, _test in SHAPES:
        found = next(((row["key"], row["shapes"][shape][1]) for row in rows if shape in row["shapes"]), None)
        out.append(
            f"| {shape} | {found[0] if found else '— (no encoded text uses it yet)'} | {found[1] if found else ''} |"
        )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    given = [Path(arg) for arg in sys.argv[1:]] or [ROOT / "fixtures" / "policies"]
    sys.stdout.write(report(given))
