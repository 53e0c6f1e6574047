"""Quick standalone check of a policy fixture (no Django needed).

Usage: python3 tools/check_policy_fixture.py fixtures/policies/000_*.yaml
The real validation is policies/ (loader); this is a fast loop for people encoding texts.
"""

import glob
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT.parent / "shared" / "seeds"
OPS = {"eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "between", "exists"}
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


def catalog() -> dict:
    facts = {}
    for path in sorted(glob.glob(str(ROOT / "fixtures" / "facts" / "*.yaml"))):
        for fact in yaml.safe_load(Path(path).read_text(encoding="utf-8")) or []:
            if fact["code"] in facts:
                raise SystemExit(f"{path}: duplicate fact code {fact['code']}")
            facts[fact["code"]] = fact
    return facts


def check_condition(node, facts, text, where, errors):
    if node is None:
        return
    if not isinstance(node, dict):
        errors.append(f"{where}: condition node must be a mapping")
        return
    if "all" in node or "any" in node:
        for child in node.get("all", node.get("any")) or []:
            check_condition(child, facts, text, where, errors)
        return
    if "not" in node:
        check_condition(node["not"], facts, text, where, errors)
        return
    fact, op = node.get("fact"), node.get("op")
    if fact not in facts:
        errors.append(f"{where}: unknown fact {fact!r}")
    if op not in OPS:
        errors.append(f"{where}: unknown op {op!r}")
    if "value" not in node:
        errors.append(f"{where}: comparison on {fact} has no value")
    quote = node.get("quote")
    if not quote or squash(quote) not in text:
        errors.append(f"{where}: quote {quote!r} not found in clause text")


def main(path: str) -> int:
    facts = catalog()
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    doc = data["document"]
    source = squash((SEEDS / doc["source_file"]).read_text(encoding="utf-8"))
    errors = []
    seen = set()
    benefits = 0
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
            check_condition(benefit.get("condition"), facts, text, bwhere, errors)
    for error in errors:
        print(error)
    print(f"{path}: {len(data['clauses'])} clauses, {benefits} benefits, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(max(main(p) for p in sys.argv[1:]))
