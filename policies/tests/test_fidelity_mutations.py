"""Mutation test: `check_fidelity` catches real encoding errors.

The fixtures are copied to a temporary folder; each kind of error is applied to every place of every fixture
where it can occur (up to a few per document), one at a time, and `check_fidelity` must fail on each. The
places are found in the data, so a new fixture is mutated too without an edit here.
"""

from __future__ import annotations

import copy
import datetime
import io
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from policies.fidelity import (
    _bound_problems,
    amount_phrases,
    choice_words,
    fact_words,
    load_catalog,
    normalise,
    quote_numbers,
    region_words,
    words,
)
from policies.loader import fixtures_dir

PER_DOCUMENT = 3  # places mutated per kind and document (first, middle, last of those found)
CATALOG = load_catalog(fixtures_dir() / "facts")
FIXTURES = sorted((fixtures_dir() / "policies").glob("*.yaml"))
DATA = {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in FIXTURES}

Mutation = Callable[[dict], None]  # edits a parsed fixture in place


def benefits(data: dict) -> Iterator[tuple[dict, dict]]:
    for clause in data["clauses"]:
        for benefit in clause.get("benefits") or []:
            yield clause, benefit


def leaves(tree) -> Iterator[dict]:
    if isinstance(tree, dict):
        if "fact" in tree:
            yield tree
        for key in ("all", "any"):
            for child in tree.get(key) or []:
                yield from leaves(child)
        if "not" in tree:
            yield from leaves(tree["not"])


def condition_leaves(data: dict) -> Iterator[tuple[dict, dict, int]]:
    """(clause, benefit, index of the leaf in the benefit's condition)."""
    for clause, benefit in benefits(data):
        for index, _leaf in enumerate(leaves(benefit.get("condition"))):
            yield clause, benefit, index


def at(clause_number: str, key: str) -> Callable[[dict], dict]:
    def find(data: dict) -> dict:
        clause = next(c for c in data["clauses"] if c["number"] == clause_number)
        return next(b for b in clause["benefits"] if b["key"] == key)

    return find


def leaf_at(clause_number: str, key: str, index: int) -> Callable[[dict], dict]:
    return lambda data: list(leaves(at(clause_number, key)(data)["condition"]))[index]


# --- the kinds of error --------------------------------------------------------------------------------


def caps_swapped(data: dict) -> Iterator[tuple[str, Mutation]]:
    for clause in data["clauses"]:
        capped = [b for b in clause.get("benefits") or [] if b.get("cap") is not None]
        for first, second in zip(capped, capped[1:], strict=False):
            if Decimal(str(first["cap"])) != Decimal(str(second["cap"])):
                a, b = at(clause["number"], first["key"]), at(clause["number"], second["key"])

                def swap(d, a=a, b=b):
                    a(d)["cap"], b(d)["cap"] = b(d)["cap"], a(d)["cap"]

                yield f"clause {clause['number']}: caps of {first['key']} and {second['key']}", swap
                break


_FLIP = {"gte": "gt", "gt": "gte", "lte": "lt", "lt": "lte"}


def bound_flipped(data: dict) -> Iterator[tuple[str, Mutation]]:
    for clause, benefit, index in condition_leaves(data):
        leaf = list(leaves(benefit["condition"]))[index]
        if leaf["op"] not in _FLIP or leaf.get("value") in (0, None):
            continue
        if not _bound_problems("", _FLIP[leaf["op"]], leaf["quote"]):
            continue  # the quote says neither 以上/含 nor 超过: nothing to contradict
        find = leaf_at(clause["number"], benefit["key"], index)

        def flip(d, find=find):
            find(d)["op"] = _FLIP[find(d)["op"]]

        yield f"clause {clause['number']}, {benefit['key']}: {leaf['op']} on {leaf['fact']}", flip


def threshold_changed(data: dict) -> Iterator[tuple[str, Mutation]]:
    for clause, benefit, index in condition_leaves(data):
        leaf = list(leaves(benefit["condition"]))[index]
        values = leaf.get("value") if isinstance(leaf.get("value"), list) else [leaf.get("value")]
        if not values or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            continue
        if values == [0]:
            continue
        printed = quote_numbers(leaf["quote"])
        new = next(
            v for v in (values[0] * 2 + 1, values[0] * 3 + 7, values[0] + 11) if Decimal(v) not in printed
        )
        find = leaf_at(clause["number"], benefit["key"], index)

        def change(d, find=find, new=new):
            leaf = find(d)
            leaf["value"] = [new, *leaf["value"][1:]] if isinstance(leaf["value"], list) else new

        yield f"clause {clause['number']}, {benefit['key']}: {leaf['fact']} {values} -> {new}", change


def instalments_changed(data: dict) -> Iterator[tuple[str, Mutation]]:
    for clause, benefit in benefits(data):
        if benefit.get("instalments"):
            find = at(clause["number"], benefit["key"])

            def more(d, find=find):
                find(d)["instalments"] += 1

            def removed(d, find=find):
                find(d)["instalments"] = None

            yield f"clause {clause['number']}, {benefit['key']}: instalments + 1", more
            yield f"clause {clause['number']}, {benefit['key']}: instalments removed", removed


def end_date_changed(data: dict) -> Iterator[tuple[str, Mutation]]:
    for name in ("effective_to", "effective_from"):
        if data["document"].get(name):

            def later(d, name=name):
                day = d["document"][name]
                d["document"][name] = (
                    day.replace(year=day.year + 1)
                    if name == "effective_to"
                    else day + (datetime.timedelta(days=1))
                )

            yield f"document {name} moved", later


def recognition_flipped(data: dict) -> Iterator[tuple[str, Mutation]]:
    for clause, benefit in benefits(data):
        if not benefit.get("requires_recognition"):
            continue
        find = at(clause["number"], benefit["key"])

        def flip(d, find=find):
            find(d)["requires_recognition"] = False

        yield f"clause {clause['number']}, {benefit['key']}: requires_recognition false", flip
        quotes = [benefit.get("amount_quote") or ""] + [
            leaf["quote"] for leaf in leaves(benefit.get("condition"))
        ]
        if any(normalise(word) in normalise(q) for q in quotes for word in words().recognition):

            def erase(d, find=find):
                find(d)["requires_recognition"], find(d)["recognition_phrase"] = False, None

            yield f"clause {clause['number']}, {benefit['key']}: recognition and its phrase removed", erase


def base_fact_changed(data: dict) -> Iterator[tuple[str, Mutation]]:
    money_facts = [code for code, fact in CATALOG.items() if fact.get("type") == "money"]
    for clause, benefit in benefits(data):
        if not benefit.get("base_fact"):
            continue
        quote = normalise(benefit.get("amount_quote") or "")
        other = next(
            code for code in money_facts
            if code != benefit["base_fact"] and not any(normalise(w) in quote for w in fact_words(CATALOG, code))
        )  # fmt: skip
        find = at(clause["number"], benefit["key"])

        def change(d, find=find, other=other):
            find(d)["base_fact"] = other

        yield (
            f"clause {clause['number']}, {benefit['key']}: base_fact {benefit['base_fact']} -> {other}",
            change,
        )


def ratio_changed(data: dict) -> Iterator[tuple[str, Mutation]]:
    for clause, benefit in benefits(data):
        if benefit.get("ratio") is None:
            continue
        ratio = Decimal(str(benefit["ratio"]))
        printed = {p.value for p in amount_phrases(clause["text"])}
        new = next(r for r in (ratio / 2, ratio * 2, ratio + Decimal("0.07")) if r.normalize() not in printed)
        find = at(clause["number"], benefit["key"])

        def change(d, find=find, new=new):
            find(d)["ratio"] = float(new)

        yield f"clause {clause['number']}, {benefit['key']}: ratio {ratio} -> {new}", change


def recognition_swapped(data: dict) -> Iterator[tuple[str, Mutation]]:
    for clause, benefit, index in condition_leaves(data):
        leaf = list(leaves(benefit["condition"]))[index]
        fact = CATALOG.get(leaf["fact"], {})
        if fact.get("type") not in ("set", "enum") or not isinstance(leaf.get("value"), str):
            continue
        quote = normalise(leaf["quote"])
        other = next(
            (c["value"] for c in fact.get("choices") or [] if c["value"] != leaf["value"]
             and not any(normalise(w) in quote for w in choice_words(CATALOG, leaf["fact"], c["value"]))),
            None,
        )  # fmt: skip
        if other is None:
            continue
        find = leaf_at(clause["number"], benefit["key"], index)

        def swap(d, find=find, other=other):
            find(d)["value"] = other

        yield f"clause {clause['number']}, {benefit['key']}: {leaf['fact']} {leaf['value']} -> {other}", swap


def applicability_removed(data: dict) -> Iterator[tuple[str, Mutation]]:
    if data["document"].get("applicability"):

        def remove(d):
            d["document"].pop("applicability")

        yield "document applicability removed", remove
    elif not (data.get("fidelity") or {}).get("applicability_required"):
        # no fixture carries applicability yet: a text that must have one, encoded without it

        def required(d):
            d["fidelity"]["applicability_required"] = True

        yield "applicability required but absent", required


def level_invented(data: dict) -> Iterator[tuple[str, Mutation]]:
    """A level the text leaves unstated (一定规模) given a number, even "> 0"; a base whose ratio is unstated
    (一定比例) given a threshold instead of "> 0"."""
    vocabulary = words()
    for clause, benefit, index in condition_leaves(data):
        leaf = list(leaves(benefit["condition"]))[index]
        flat = normalise(leaf.get("quote") or "")
        find = leaf_at(clause["number"], benefit["key"], index)
        if leaf["op"] == "exists" and any(normalise(w) in flat for w in vocabulary.unstated_level):

            def number(d, find=find):
                find(d).update(op="gt", value=0)

            yield f"clause {clause['number']}, {benefit['key']}: {leaf['fact']} exists -> gt 0", number
        elif (
            leaf["op"] == "gt"
            and leaf.get("value") == 0
            and any(normalise(w) in flat for w in vocabulary.unstated_ratio)
        ):
            new = next(v for v in (1_000_000, 3_000_007) if Decimal(v) not in quote_numbers(leaf["quote"]))

            def threshold(d, find=find, new=new):
                find(d)["value"] = new

            yield f"clause {clause['number']}, {benefit['key']}: {leaf['fact']} gt 0 -> gt {new}", threshold


def region_changed(data: dict) -> Iterator[tuple[str, Mutation]]:
    """The document's applicability (or a condition) placed in a region its quote does not name."""
    regions = [fact for fact in CATALOG.values() if fact.get("type") == "region"]
    codes = [str(choice["value"]) for choice in regions[0]["choices"]] if regions else []
    for index, leaf in enumerate(leaves(data["document"].get("applicability"))):
        if CATALOG.get(leaf["fact"], {}).get("type") != "region":
            continue
        flat = normalise(leaf.get("quote") or "")
        other = next(
            code for code in codes
            if code != leaf["value"]
            and not any(normalise(w) in flat for w in region_words(CATALOG, leaf["fact"], code, code))
        )  # fmt: skip

        def move(d, index=index, other=other):
            list(leaves(d["document"]["applicability"]))[index]["value"] = other

        yield f"document applicability: {leaf['fact']} {leaf['value']} -> {other}", move


KINDS = [caps_swapped, bound_flipped, threshold_changed, instalments_changed, end_date_changed,
         recognition_flipped, base_fact_changed, ratio_changed, recognition_swapped, applicability_removed,
         level_invented, region_changed]  # fmt: skip


def sample(found: list) -> list:
    if len(found) <= PER_DOCUMENT:
        return found
    step = (len(found) - 1) / (PER_DOCUMENT - 1)
    return [found[round(i * step)] for i in range(PER_DOCUMENT)]


def places(kind) -> list[tuple[str, str, Mutation]]:
    return [
        (name, label, mutation) for name, data in DATA.items() for label, mutation in sample(list(kind(data)))
    ]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fixtures")
    shutil.copytree(fixtures_dir() / "facts", root / "facts")
    shutil.copytree(fixtures_dir() / "regions", root / "regions")  # the region tree next to the catalog
    (root / "policies").mkdir()
    return root


def check(workspace: Path, name: str, data: dict) -> tuple[bool, str]:
    path = workspace / "policies" / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = io.StringIO()
    try:
        call_command("check_fidelity", str(path), "--facts", str(workspace / "facts"), stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


@pytest.mark.parametrize("name", sorted(DATA))
def test_the_unchanged_copy_passes(workspace, name):
    ok, output = check(workspace, name, copy.deepcopy(DATA[name]))
    assert ok, output


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_check_fidelity_catches_every_mutation_of_this_kind(workspace, kind):
    found = places(kind)
    assert found, f"no fixture offers a place for {kind.__name__}: the mutation test would prove nothing"
    escaped = []
    for name, label, mutate in found:
        data = copy.deepcopy(DATA[name])
        mutate(data)
        assert data != DATA[name], label
        ok, output = check(workspace, name, data)
        if ok or "problem(s)" not in output:  # must fail on fidelity, not on a broken file
            escaped.append(f"{name}: {label}\n{output[-400:]}")
    assert escaped == []
