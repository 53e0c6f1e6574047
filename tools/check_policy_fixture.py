"""Quick standalone check of a policy fixture (no database, no Django settings).

Usage: .venv/bin/python tools/check_policy_fixture.py fixtures/policies/000_*.yaml
The real validation is policies/ (loader); this is a fast loop for people encoding texts. Conditions
are checked by the rule language itself (policies.rules.lint), so this tool accepts exactly the
conditions the loader and the engine accept; its messages are in Chinese, the language's own.
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies.rules import CatalogFact, jsonable, leaves, lint  # noqa: E402 - after the path is set

SOURCES = [
    ROOT.parent / "shared" / "seeds",
    ROOT.parent / "shared" / "corpus",
]  # as policies.fidelity.source_dirs
KINDS = {"subsidy", "support", "measure", "goal", "annex"}
BENEFIT_KINDS = {
    "lump_sum",
    "ratio",
    "matching",
    "rent",
    "interest",
    "guarantee_fee",
    "voucher",
    "non_monetary",
}


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def catalog() -> dict[str, CatalogFact]:
    """The fact catalog of fixtures/facts/*.yaml as the rule language reads it (region facts with the
    region tree): the one fixture-only catalog loader, matching.scenarios's."""
    from matching.scenarios import load_fixture_catalog

    return load_fixture_catalog()


def check_condition(node, facts, texts, own, where, errors):
    """The condition by the rule language, then each quote against the clause it names (its own by
    default; `texts` maps every clause number of the file to its squashed text)."""
    if node is None:
        return
    problems = lint(jsonable(node), facts)
    errors += [f"{where}: {problem}" for problem in problems]
    if problems:
        return
    for leaf in leaves(node):
        number = leaf.get("clause") or own
        if number not in texts:
            errors.append(f"{where}: {leaf['fact']}: clause {number!r} is not in this file")
        elif squash(leaf["quote"]) not in texts[number]:
            errors.append(f"{where}: quote {leaf['quote']!r} not found in clause {number} text")


def main(path: str) -> int:
    facts = catalog()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    doc = data["document"]
    found = next(
        (folder / doc["source_file"] for folder in SOURCES if (folder / doc["source_file"]).is_file()), None
    )
    if found is None:
        raise SystemExit(f"{doc['source_file']}: not in {' or '.join(map(str, SOURCES))}")
    source = squash(found.read_text(encoding="utf-8"))
    errors = []
    seen = set()
    benefits = 0
    texts = {clause.get("number"): squash(clause.get("text")) for clause in data["clauses"]}
    for clause in data["clauses"]:
        where = f"{path} clause {clause.get('number')}"
        if clause.get("number") in seen:
            errors.append(f"{where}: duplicate clause number")
        seen.add(clause.get("number"))
        text = squash(clause.get("text"))
        if not text or text not in source:
            errors.append(f"{where}: text not found verbatim in {doc['source_file']}")
        if clause.get("kind") not in KINDS:
            errors.append(f"{where}: bad kind {clause.get('kind')!r}")
        keys = set()
        for benefit in clause.get("benefits") or []:
            benefits += 1
            bwhere = f"{where} benefit {benefit.get('key')}"
            if benefit.get("key") in keys:
                errors.append(f"{bwhere}: duplicate key")
            keys.add(benefit.get("key"))
            if benefit.get("kind") not in BENEFIT_KINDS:
                errors.append(f"{bwhere}: bad kind {benefit.get('kind')!r}")
            quote = benefit.get("amount_quote")
            if quote and squash(quote) not in text:
                errors.append(f"{bwhere}: amount_quote not in clause text")
            base = benefit.get("base_fact")
            if base and base not in facts:
                errors.append(f"{bwhere}: unknown base_fact {base!r}")
            check_condition(benefit.get("condition"), facts, texts, clause.get("number"), bwhere, errors)
    for error in errors:
        print(error)
    print(f"{path}: {len(data['clauses'])} clauses, {benefits} benefits, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(max(main(p) for p in sys.argv[1:]))
