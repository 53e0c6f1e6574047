"""Quick standalone check of a policy fixture (no database, no Django settings).

Usage: .venv/bin/python tools/check_policy_fixture.py fixtures/policies/000_*.yaml
The real validation is policies/ (loader); this is a fast loop for people encoding texts. Conditions
are checked by the rule language itself (policies.rules.lint), so this tool accepts exactly the
conditions the loader and the engine accept; its messages are in Chinese, the language's own.
"""

import glob
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policies.rules import CatalogFact, leaves, lint  # noqa: E402 - after the path is set

SEEDS = ROOT.parent / "shared" / "seeds"
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
    """The fact catalog of fixtures/facts/*.yaml as the rule language reads it."""
    facts = {}
    for path in sorted(glob.glob(str(ROOT / "fixtures" / "facts" / "*.yaml"))):
        for fact in yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []:
            if fact["code"] in facts:
                raise SystemExit(f"{path}: duplicate fact code {fact['code']}")
            facts[fact["code"]] = CatalogFact(
                code=fact["code"],
                type=fact["type"],
                label_zh=fact.get("label_zh") or "",
                unit=fact.get("unit") or "",
                choices=tuple(fact.get("choices") or ()),
                label_en=fact.get("label_en") or "",
            )
    return facts


def check_condition(node, facts, texts, own, where, errors):
    """The condition by the rule language, then each quote against the clause it names (its own by
    default; `texts` maps every clause number of the file to its squashed text)."""
    if node is None:
        return
    problems = lint(_json(node), facts)
    errors += [f"{where}: {problem}" for problem in problems]
    if problems:
        return
    for leaf in leaves(node):
        number = leaf.get("clause") or own
        if number not in texts:
            errors.append(f"{where}: {leaf['fact']}: clause {number!r} is not in this file")
        elif squash(leaf["quote"]) not in texts[number]:
            errors.append(f"{where}: quote {leaf['quote']!r} not found in clause {number} text")


def _json(node):
    """YAML reads 2024-01-01 as a date; conditions are JSON, where dates are ISO strings (as the loader)."""
    if isinstance(node, dict):
        return {key: _json(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_json(value) for value in node]
    return node.isoformat() if hasattr(node, "isoformat") else node


def main(path: str) -> int:
    facts = catalog()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    doc = data["document"]
    source = squash((SEEDS / doc["source_file"]).read_text(encoding="utf-8"))
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
