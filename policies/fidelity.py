"""How faithfully the data follows the source texts: text normalisation, amount phrases, printed numbering,
and the checks `manage.py check_fidelity` runs.

Pure functions over strings and duck-typed objects (no ORM queries): a document, clause or benefit may be a
plain mapping (a fixture file as parsed YAML) or an object with the same attributes (ORM rows), so the same
checks run on the files and on the loaded database. Everything that differs from one text to another (how it
numbers its clauses, dates it does not print) lives in the text's fixture under `fidelity:`; the words a text
uses for a fact or a choice live in the fact catalog (fixtures/facts/synonyms/), the names of regions in the
region tree (fixtures/regions/), and the general words of policy texts (以上, 经认定, 一定规模, 实施之日, 本区 …)
in fixtures/fidelity/words.yaml. Nothing here names a document, a region or a fixture.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from policies import money
from policies.rules import leaves

_WHITESPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """The text without any whitespace: line breaks and spaces in the sources are layout, not content."""
    return _WHITESPACE.sub("", text)


def normalise(text: str) -> str:
    """NFKC (full-width digits and punctuation become ASCII) and no whitespace: for finding figures."""
    return squash(unicodedata.normalize("NFKC", text))


def found_in(needle: str, haystack: str) -> bool:
    """Whether `needle` occurs verbatim in `haystack`, ignoring whitespace and line breaks only."""
    needle = squash(needle)
    return bool(needle) and needle in squash(haystack)


# --- where the source texts live ---------------------------------------------------------------------------


def seeds_dir() -> Path:
    """The seed texts: ../shared/seeds next to the repository (settings.POLICY_SEEDS_DIR overrides)."""
    return _shared_dir("POLICY_SEEDS_DIR", "seeds")


def corpus_dir() -> Path:
    """The further real texts: ../shared/corpus next to the repository (settings.POLICY_CORPUS_DIR overrides)."""
    return _shared_dir("POLICY_CORPUS_DIR", "corpus")


def _shared_dir(setting: str, name: str) -> Path:
    from django.conf import settings

    configured = getattr(settings, setting, None)
    return Path(configured) if configured else Path(settings.BASE_DIR).parent / "shared" / name


def source_dirs() -> list[Path]:
    """Where a fixture's `document.source_file` is looked up, in this order."""
    return [seeds_dir(), corpus_dir()]


def source_path(source_file: str) -> Path | None:
    """The source text a fixture names (seeds first, then the corpus), or None when no folder holds it."""
    for folder in source_dirs():
        path = folder / source_file
        if path.is_file():
            return path
    return None


def seed_files(folder: Path) -> list[Path]:
    """The texts of one folder (its README is not a text)."""
    return sorted(folder.glob("*.txt"))


# --- the general words of policy texts (fixtures/fidelity/words.yaml) ---------------------------------------


class Bounds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lower_inclusive: list[str]
    lower_strict: list[str]
    upper_inclusive: list[str]
    upper_strict: list[str]
    not_lower: list[str]  # read before the lower-bound words: 不超过 is no lower bound
    not_upper: list[str]


class DateWords(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: list[str]  # "自本办法实施之日起" is the document's effective_from
    published_on: list[str]  # "自印发之日起" its published_on


class FidelityWords(BaseModel):
    """fixtures/fidelity/words.yaml: the words the checks read, the same for every text."""

    model_config = ConfigDict(extra="forbid")
    cap_words: list[str]
    per_units: list[str] = Field(min_length=1)
    full_ratio: list[str] = Field(min_length=1)
    unit_forms: dict[str, list[str]]
    bounds: Bounds
    unstated_level: list[str]
    unstated_ratio: list[str]
    recognition: list[str] = Field(min_length=1)
    instalments: str = Field(min_length=1)  # regex; group 1 is the count (三, 3)
    date_words: DateWords
    term: str = Field(min_length=1)  # regex; group 1 is the number of years of a term from effective_from
    region_suffixes: list[str]
    jurisdiction: dict[str, list[str]]  # region level -> words naming the document's own region
    level_prefixes: list[str]


def words_path() -> Path:
    """fixtures/fidelity/words.yaml (settings.POLICY_FIXTURES_DIR moves the fixtures folder)."""
    from django.conf import settings

    root = getattr(settings, "POLICY_FIXTURES_DIR", None) if settings.configured else None
    if not root:
        base = getattr(settings, "BASE_DIR", None) if settings.configured else None
        root = Path(base) / "fixtures" if base else Path(__file__).resolve().parent.parent / "fixtures"
    return Path(root) / "fidelity" / "words.yaml"


def words() -> FidelityWords:
    """The general words of policy texts the checks read (one file, read once)."""
    return _words_at(words_path())


@functools.cache
def _words_at(path: Path) -> FidelityWords:
    import yaml

    return FidelityWords.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _longest_first(options: Iterable[str]) -> str:
    return "|".join(re.escape(option) for option in sorted(set(options), key=len, reverse=True))


# --- the fixture's `fidelity:` section ----------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SectionSpec(_Strict):
    heading: str = Field(min_length=1)  # regex of the section line ("^四、"); group 1, if any, is its number
    item: str = Field(min_length=1)  # regex of its sub-items; group 1 is the number as printed
    number: str = "{section}({item})"  # the clause number of a sub-item: "四(一)"


class NumberingFileSpec(_Strict):
    item: str | None = None
    sections: list[SectionSpec] = []
    breaks: str | None = None  # regex of lines that end an item without starting one (default: 一、 (一) 一))
    annex: str | None = None
    end: str | None = None
    paragraphs: bool = False
    stray: list[str] = []


class DateWaiver(_Strict):
    quote: str = Field(min_length=1)  # the words of the source the date is read from; must hold its year
    why: str = Field(min_length=1)


class RecognitionElsewhere(_Strict):
    """Benefits whose own clause does not say staff judge them, and the words of another clause that do."""

    benefits: list[str] = Field(min_length=1)  # "clause/key" of each benefit
    clause: str = Field(min_length=1)  # the clause the words are in
    quote: str = Field(min_length=1)
    why: str = Field(min_length=1)


class FidelityFileSpec(_Strict):
    """`fidelity:` of a policy fixture: what the checks need to know about its source text."""

    numbering: NumberingFileSpec
    printed_items: int | None = Field(default=None, ge=0)  # how many items the numbering reads off the text
    annex_paragraphs: int | None = Field(default=None, ge=0)
    dates: dict[str, DateWaiver] = {}  # published_on / effective_from / effective_to not printed as a date
    recognition: list[RecognitionElsewhere] = []  # recognition said in another clause than the benefit's
    applicability_required: bool = False


@dataclass(frozen=True)
class NumberingSpec:
    """How one source text numbers its clauses, so the expected numbering is read from the text itself."""

    item: str | None = None  # regex at a line start; group 1 is the number exactly as printed
    sections: tuple[tuple[str, str, str], ...] = ()  # (section line regex, sub-item regex, number format)
    breaks: str | None = None  # lines ending an item's body without starting one; None: the usual headings
    annex: str | None = None  # regex of the annex heading: each later paragraph must be an annex clause
    end: str | None = None  # regex of the first line after the policy text (web page footer, 施行 line)
    paragraphs: bool = False  # unnumbered excerpt: every paragraph is one clause, numbered P1, P2, …
    stray: tuple[str, ...] = ()  # non-policy phrases inside paragraphs (must not be encoded)


def fidelity_spec(data: Any) -> FidelityFileSpec | None:
    """The parsed `fidelity:` of a fixture (a mapping, a FidelityFileSpec, or None)."""
    if data is None or isinstance(data, FidelityFileSpec):
        return data
    return FidelityFileSpec.model_validate(data)


def numbering_spec(spec: FidelityFileSpec) -> NumberingSpec:
    n = spec.numbering
    return NumberingSpec(
        item=n.item,
        sections=tuple((s.heading, s.item, s.number) for s in n.sections),
        breaks=n.breaks,
        annex=n.annex,
        end=n.end,
        paragraphs=n.paragraphs,
        stray=tuple(n.stray),
    )


# --- duck typing -------------------------------------------------------------------------------------------


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    value = obj.get(name, default) if isinstance(obj, Mapping) else getattr(obj, name, default)
    return default if value is None else value


def _items(value: Any) -> list:
    """A list, a related manager (.all()) or nothing, as a list."""
    if value is None:
        return []
    if hasattr(value, "all") and not isinstance(value, list | tuple | Mapping):
        return list(value.all())
    return list(value)


def _benefits(clause: Any) -> list:
    return _items(_get(clause, "benefits"))


def _rule(benefit: Any) -> Mapping:
    """The amount rule of a stored benefit (one JSON field); a fixture benefit holds the same keys flat."""
    rule = _get(benefit, "amount_rule")
    return rule if isinstance(rule, Mapping) else {}


def _field(benefit: Any, name: str) -> Any:
    value = _get(benefit, name)
    return _rule(benefit).get(name) if value is None else value


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value)).normalize()
    except (InvalidOperation, ValueError):
        return None


def same_amount(a: Decimal | float | int | None, b: Decimal | float | int | None) -> bool:
    a, b = _number(a), _number(b)
    return a is not None and b is not None and a == b


# --- amount phrases ----------------------------------------------------------------------------------------

MONEY = "money"  # value in yuan
FOREIGN_MONEY = "foreign_money"  # value in the foreign currency's units (美元): never a cap in yuan
RATIO = "ratio"  # value as a fraction: 30% -> 0.3, 1:0.5 -> 0.5, 全额 -> 1
RATE = "rate"  # yuan per unit: 0.1元/千瓦时 -> 0.1 with unit 元/千瓦时; 700万元/年 -> 7000000 with unit 元/年

_UNIT = {"万": money.TEN_THOUSAND, "亿": Decimal(100_000_000), "万亿": Decimal(10**12)}
_NUM = r"\d+(?:\.\d+)?"
_RANGE_SEP = r"(?:\(含\))?(?:—|–|-|~|～|至|到)"


@functools.cache
def _amount_regex(per_units: tuple[str, ...], full_ratio: tuple[str, ...]) -> re.Pattern:
    """The amount scanner for the words of words.yaml: what a rate is per (any one further character is
    accepted too: 元/台, 元/户), and the words meaning the whole of a base (not followed by 的)."""
    per = _longest_first(normalise(unit) for unit in per_units) + r"|[^\d,，。;；、:：()（）]"
    full = _longest_first(normalise(word) for word in full_ratio)
    return re.compile(
        rf"(?P<range>(?P<rlow>{_NUM})%?{_RANGE_SEP}(?P<rhigh>{_NUM})%)"
        rf"|(?P<money>(?<![\d.])(?P<num>{_NUM})(?:(?P<unit>万亿|亿|万)(?P<currency>美元|元)?|(?P<yuan>美元|元))"
        rf"(?:/(?P<per>{per}))?)"
        rf"|(?P<percent>(?P<pnum>{_NUM})%)"
        rf"|(?P<matching>(?<![\d.:])1:(?P<mnum>{_NUM})(?![\d:]))"
        rf"|(?P<full>(?:{full})(?!的))"
    )


@dataclass(frozen=True)
class AmountPhrase:
    kind: str  # MONEY, FOREIGN_MONEY, RATIO or RATE
    value: Decimal  # the low end of a range
    text: str  # as found in the normalised text, e.g. "1000万元", "30%", "1:0.5", "600元/千瓦", "5%—20%"
    start: int  # offsets in normalise(source)
    end: int
    high: Decimal | None = None  # a range "5%—20%": its high end
    unit: str = ""  # a rate's unit, e.g. "元/千瓦"

    def __str__(self) -> str:
        return self.text


def amount_phrases(text: str) -> list[AmountPhrase]:
    """Every amount-like phrase in normalise(text): 万元/亿元 sums, yuan sums, per-unit rates (元/千瓦时,
    万元/年), percentages and percentage ranges (5%—20%, 5%至20%), 1:x matching ratios, and the words for the
    whole of a base (全额, 实际发生费用: ratio 1)."""
    flat = normalise(text)
    vocabulary = words()
    scanner = _amount_regex(tuple(vocabulary.per_units), tuple(vocabulary.full_ratio))
    cap_words = tuple(vocabulary.cap_words)
    found: list[AmountPhrase] = []
    for match in scanner.finditer(flat):
        high, unit = None, ""
        if match["range"]:
            kind, value = RATIO, Decimal(match["rlow"]) / 100
            high = (Decimal(match["rhigh"]) / 100).normalize()
        elif match["money"]:
            currency = match["currency"] or match["yuan"]
            if currency is None and (match["per"] or not flat[: match.start()].endswith(cap_words)):
                continue  # "2万套"; "800万" counts after a cap word
            value = Decimal(match["num"]) * _UNIT.get(match["unit"] or "", Decimal(1))
            if currency == "美元":
                kind = FOREIGN_MONEY
            elif match["per"]:
                kind, unit = RATE, f"元/{match['per']}"
            else:
                kind = MONEY
        elif match["percent"]:
            kind, value = RATIO, Decimal(match["pnum"]) / 100
        elif match["matching"]:
            kind, value = RATIO, Decimal(match["mnum"])
        else:
            kind, value = RATIO, Decimal(1)
        found.append(
            AmountPhrase(kind, value.normalize(), match.group(0), match.start(), match.end(), high, unit)
        )
    return found


# --- printed numbering -------------------------------------------------------------------------------------

_CN = "一二三四五六七八九十"
# Section lines end an item's body: "一、", "(一)", "一)" and misprints such as "(十强化人才支持".
_HEADING = re.compile(rf"^(?:[{_CN}]+、|[(（][{_CN}]+|[{_CN}]+[)）])")


@dataclass(frozen=True)
class PrintedItem:
    number: str  # the clause number the data must use
    body: str  # the item's text after its printed number, squashed (whitespace removed)


@dataclass(frozen=True)
class PrintedStructure:
    items: list[PrintedItem]
    annex_paragraphs: list[str]  # squashed


def printed_structure(spec: NumberingSpec, source: str) -> PrintedStructure:
    """The numbered items (and annex paragraphs) as the source text prints them."""
    lines = [line.strip() for line in source.splitlines()]
    lines = [line for line in lines if line]
    if spec.end:
        for index, line in enumerate(lines):
            if re.match(spec.end, line):
                lines = lines[:index]
                break
    if spec.paragraphs:
        items = []
        for index, line in enumerate(lines, start=1):
            for phrase in spec.stray:
                line = line.replace(phrase, "")
            items.append(PrintedItem(f"P{index}", squash(line)))
        return PrintedStructure(items, [])

    annex_at = next(
        (i for i, line in enumerate(lines) if spec.annex and re.match(spec.annex, line)), len(lines)
    )
    annex = [squash(line) for line in lines[annex_at + 1 :]]

    items: list[PrintedItem] = []
    body: list[str] | None = None  # lines of the item being read
    number = ""
    sub_items: tuple[str, str, str] | None = None  # (section number, sub-item regex, format) inside a section
    breaks = re.compile(spec.breaks) if spec.breaks is not None else _HEADING

    def close() -> None:
        if body is not None:
            items.append(PrintedItem(number, squash("".join(body))))

    for line in lines[:annex_at]:
        section = next(
            (
                (match, sub, fmt)
                for section_re, sub, fmt in spec.sections
                if (match := re.match(section_re, line))
            ),
            None,
        )
        item = re.match(spec.item, line) if spec.item else None
        sub_item = re.match(sub_items[1], line) if sub_items else None
        if section:
            close()
            match, sub, fmt = section
            section_number = match.group(1) if match.re.groups else line.split("、", 1)[0]
            body, sub_items = None, (section_number, sub, fmt)
        elif item:
            close()
            number, body = item.group(1), [line[item.end() :]]
        elif sub_item:
            close()
            number = sub_items[2].format(section=sub_items[0], item=sub_item.group(1))
            body = [line[sub_item.end() :]]
        elif breaks.match(line):
            close()
            body = None
            if re.match(rf"^[{_CN}]+、", line):
                sub_items = None
        elif body is not None:
            body.append(line)
    close()
    return PrintedStructure(items, annex)


# --- checks ------------------------------------------------------------------------------------------------
# A clause has number, kind, title, text, figures_not_benefits and benefits. Each check returns
# human-readable problems; [] means faithful.

_ITEM_LIKE = re.compile(r"\d+|[０-９]+|P\d+")


def numbering_problems(spec: NumberingSpec, source: str, clauses: list) -> list[str]:
    """The clauses are numbered as the text prints them, in the same order, each holding its whole item."""
    printed = printed_structure(spec, source)
    expected = [item.number for item in printed.items]
    problems = []
    if spec.item and not spec.paragraphs:
        plain = [unicodedata.normalize("NFKC", n) for n in expected if _ITEM_LIKE.fullmatch(n)]
        if plain != [str(i) for i in range(1, len(plain) + 1)]:
            problems.append(f"the source's own numbering is not 1..{len(plain)}: {plain}")
    numbers = [str(_get(clause, "number")) for clause in clauses]
    by_number = dict(zip(numbers, clauses, strict=True))
    problems += [
        f"item {number} printed in the source has no clause" for number in expected if number not in by_number
    ]
    in_order = [number for number in numbers if number in set(expected)]
    if in_order != [number for number in expected if number in by_number]:
        problems.append(f"clauses are not in printed order: {in_order}")
    problems += [
        f"clause {number} looks like a printed item but the source has no such item"
        for number in numbers
        if _ITEM_LIKE.fullmatch(number) and number not in expected
    ]
    for item in printed.items:
        clause = by_number.get(item.number)
        if clause is None:
            continue
        text, title = squash(_get(clause, "text", "")), squash(_get(clause, "title", ""))
        if item.body not in (text, title + text):
            problems.append(
                f"clause {item.number}: text is not the whole printed item: {_first_difference(item.body, text)}"
            )
    annex_texts = [squash(_get(clause, "text", "")) for clause in clauses if _get(clause, "kind") == "annex"]
    problems += [
        f"annex paragraph “{paragraph[:30]}…” is in no annex clause"
        for paragraph in printed.annex_paragraphs
        if not any(paragraph in text for text in annex_texts)
    ]
    problems += [
        f"clause {_get(clause, 'number')} contains the non-policy phrase “{phrase}”"
        for clause in clauses
        for phrase in spec.stray
        if phrase in _get(clause, "text", "")
    ]
    return problems


def printed_count_problems(spec: FidelityFileSpec, source: str) -> list[str]:
    """The numbering rules read as many items (and annex paragraphs) as the fixture says the text prints."""
    printed = printed_structure(numbering_spec(spec), source)
    problems = []
    if spec.printed_items is not None and len(printed.items) != spec.printed_items:
        problems.append(
            f"fidelity.printed_items is {spec.printed_items} but the numbering rules read "
            f"{len(printed.items)} items off the text: {[item.number for item in printed.items]}"
        )
    if spec.annex_paragraphs is not None and len(printed.annex_paragraphs) != spec.annex_paragraphs:
        problems.append(
            f"fidelity.annex_paragraphs is {spec.annex_paragraphs} but the text has "
            f"{len(printed.annex_paragraphs)} paragraphs after the annex heading"
        )
    return problems


def _first_difference(expected: str, actual: str) -> str:
    index = next((i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), None)
    if index is None:
        index = min(len(expected), len(actual))
    return f"source “…{expected[max(0, index - 10) : index + 20]}…” vs clause “…{actual[max(0, index - 10) : index + 20]}…”"


def verbatim_problems(source: str, clauses: list) -> list[str]:
    return [f"clause {_get(clause, 'number')}: text not found verbatim in the source" for clause in clauses
            if not found_in(_get(clause, "text", ""), source)]  # fmt: skip


def clause_spans(source: str, clauses: list) -> dict[str, tuple[int, int]]:
    """Where each clause's text sits in normalise(source); clauses not found are left out."""
    flat, spans, cursor = normalise(source), {}, 0
    for clause in clauses:
        text = normalise(_get(clause, "text", ""))
        start = flat.find(text, cursor)
        if start < 0:
            start = flat.find(text)
        if text and start >= 0:
            spans[str(_get(clause, "number"))] = (start, start + len(text))
            cursor = start + len(text)
    return spans


def overlap_problems(source: str, clauses: list) -> list[str]:
    """No two clauses encode the same words."""
    ordered = sorted(clause_spans(source, clauses).items(), key=lambda item: item[1])
    return [f"clauses {a} and {b} overlap in the source" for (a, (_s, end)), (b, (start, _e))
            in zip(ordered, ordered[1:], strict=False) if start < end]  # fmt: skip


# --- the figures of a benefit ------------------------------------------------------------------------------

_MONEY_FIELDS = ("cap", "amount", "rate", "cap_per_year", "cap_total")
_RATIO_FIELDS = ("ratio", "cap_ratio")


@dataclass(frozen=True)
class Figure:
    name: str  # where in the benefit: "cap", "ratio_range", "tiers[1].amount", "cap[0]" (a dated value)
    kind: str  # MONEY (also rates: yuan per unit), RATIO, or THRESHOLD (a tier bound: either kind)
    value: Decimal
    quote: (
        str | None
    )  # the words it must be printed in (the band's or dated entry's quote, else amount_quote)


THRESHOLD = "threshold"


def benefit_figures(benefit: Any) -> list[Figure]:
    """Every figure of a benefit, from the plain fields and the amount rule (flat in a fixture, `amount_rule`
    in the database): cap, amount, ratio, rate, ratio_range, cap_per_year, cap_total, cap_ratio, tiers
    (amount / rate / ratio and their bounds) and dated values ([{from, value}] lists)."""
    amount_quote = _get(benefit, "amount_quote")
    figures: list[Figure] = []
    dated = _rule(benefit).get("dated") or {}
    for name in (*_MONEY_FIELDS, *_RATIO_FIELDS):
        kind = MONEY if name in _MONEY_FIELDS else RATIO
        value = _field(benefit, name)
        entries = [*(value if isinstance(value, list) else []), *(dated.get(name) or [])]
        if not isinstance(value, list) and _number(value) is not None:
            figures.append(Figure(name, kind, _number(value), amount_quote))
        for index, entry in enumerate(entries):
            number = _number(_get(entry, "value"))
            if number is not None:
                figures.append(Figure(f"{name}[{index}]", kind, number, _get(entry, "quote", amount_quote)))
    group = _field(benefit, "cap_group")
    if isinstance(group, Mapping) and _number(_get(group, "limit")) is not None:
        figures.append(Figure("cap_group.limit", MONEY, _number(_get(group, "limit")), _get(group, "quote")))
    ratio_range = _field(benefit, "ratio_range") or []
    for index, value in enumerate(ratio_range):
        if _number(value) is not None:
            figures.append(Figure(f"ratio_range[{index}]", RATIO, _number(value), amount_quote))
    for index, band in enumerate(_items(_field(benefit, "tiers"))):
        quote = _get(band, "quote", amount_quote)
        for name, kind in (("amount", MONEY), ("rate", MONEY), ("ratio", RATIO), ("from", THRESHOLD),
                           ("from_", THRESHOLD), ("to", THRESHOLD)):  # fmt: skip
            number = _number(_get(band, name))
            if number is not None:
                figures.append(Figure(f"tiers[{index}].{name.rstrip('_')}", kind, number, quote))
    return figures


def fixture_clauses(data: Mapping) -> list:
    """A policy fixture's clauses with each benefit's `cap_group` key replaced by the file's declaration
    (as the loader copies it into the stored amount rule), so a cap group's limit counts as a figure."""
    groups = {group.get("key"): group for group in data.get("cap_groups") or [] if isinstance(group, Mapping)}
    if not groups:
        return list(data.get("clauses") or [])
    clauses = []
    for clause in data.get("clauses") or []:
        benefits = [
            {**benefit, "cap_group": groups.get(benefit.get("cap_group"), benefit.get("cap_group"))}
            if isinstance(benefit, Mapping) and benefit.get("cap_group")
            else benefit
            for benefit in clause.get("benefits") or []
        ]
        clauses.append({**clause, "benefits": benefits})
    return clauses


def benefit_quotes(benefit: Any) -> list[str]:
    """Every quote a benefit's amount rests on: amount_quote, band and dated quotes, schedule words."""
    quotes = [_get(benefit, "amount_quote")]
    quotes += [figure.quote for figure in benefit_figures(benefit)]
    schedule = _field(benefit, "schedule")
    if schedule:
        quotes += [_get(schedule, "quote"), _get(schedule, "until")]
        quotes += [_get(stage, "after") for stage in _items(_get(schedule, "stages"))]
    return [quote for quote in dict.fromkeys(quotes) if quote]


@dataclass(frozen=True)
class Leaf:
    leaf: Mapping
    clause: str  # the clause its quote comes from
    where: str  # "clause 7, benefit new-factory-purchase" or "document applicability"


def documentleaves(document: Any, clauses: list) -> list[Leaf]:
    """Every condition leaf of the document: its applicability and each benefit's condition."""
    found = [
        Leaf(leaf, str(leaf.get("clause") or ""), "document applicability")
        for leaf in leaves(_get(document, "applicability"))
    ]
    for clause in clauses:
        number = str(_get(clause, "number"))
        for benefit in _benefits(clause):
            where = f"clause {number}, benefit {_get(benefit, 'key')}"
            found += [
                Leaf(leaf, str(leaf.get("clause") or number), where)
                for leaf in leaves(_get(benefit, "condition"))
            ]
    return found


def _leaf_numbers(leaf: Mapping) -> list[Decimal]:
    value = leaf.get("value")
    values = value if isinstance(value, list) else [value]
    return [number for number in (_number(v) for v in values) if number is not None]


# --- amount phrases against benefits -----------------------------------------------------------------------


def amount_problems(source: str, clauses: list, document: Any = None) -> list[str]:
    """Every amount phrase of the source sits in a clause, and there it is quoted by a benefit with that figure,
    by a condition with that threshold, or by a figures_not_benefits entry; every benefit figure is printed
    in the words it quotes."""
    flat = normalise(source)
    spans = clause_spans(source, clauses)
    by_number = {str(_get(clause, "number")): clause for clause in clauses}
    leaves_by_clause: dict[str, list[Mapping]] = {}
    for leaf in documentleaves(document, clauses):
        leaves_by_clause.setdefault(leaf.clause, []).append(leaf.leaf)
    problems = []
    for phrase in amount_phrases(source):
        context = flat[max(0, phrase.start - 12) : phrase.end + 6]
        owner = next((n for n, (s, e) in spans.items() if s <= phrase.start and phrase.end <= e), None)
        if owner is None:
            problems.append(f"amount “{phrase}” (…{context}…) is in no clause")
            continue
        offset = spans[owner][0]
        local = (phrase.start - offset, phrase.end - offset)
        if not _represented(phrase, local, by_number[owner], leaves_by_clause.get(owner, [])):
            problems.append(
                f"clause {owner}: amount “{phrase}” (…{context}…) is quoted by no benefit with that figure, "
                "no condition with that threshold and no figures_not_benefits entry"
            )
    for clause in clauses:
        text = _get(clause, "text", "")
        for benefit in _benefits(clause):
            for figure in benefit_figures(benefit):
                if figure.kind == THRESHOLD:
                    continue
                printed = amount_phrases(figure.quote or text)
                if not any(_phrase_has(p, figure.kind, figure.value) for p in printed):
                    where = "its quote" if figure.quote else "the clause"
                    problems.append(
                        f"clause {_get(clause, 'number')}, benefit {_get(benefit, 'key')}: {figure.name} "
                        f"{figure.value:f} is not printed in {where} (“{(figure.quote or text)[:40]}”)"
                    )
                unit = normalise(str(_field(benefit, "unit") or ""))
                rates = [p for p in printed if p.kind == RATE and p.value == figure.value]
                in_unit = any(normalise(p.unit) == unit for p in rates)
                if figure.name.split("[")[0] in ("rate", "tiers") and unit and rates and not in_unit:
                    problems.append(
                        f"clause {_get(clause, 'number')}, benefit {_get(benefit, 'key')}: {figure.name} "
                        f"{figure.value:f} {unit} but the text prints {', '.join(p.text for p in rates)}"
                    )
    return problems + respectively_problems(clauses)


def respectively_problems(clauses: list) -> list[str]:
    """Benefits sharing one amount quote that says 分别 ("分别给予上限25万元和60万元") take its figures in
    the order printed: the n-th such benefit of the clause holds the n-th figure."""
    problems = []
    for clause in clauses:
        groups: dict[str, list] = {}
        for benefit in _benefits(clause):
            quote = normalise(_get(benefit, "amount_quote", ""))
            if "分别" in quote:
                groups.setdefault(quote, []).append(benefit)
        for quote, members in groups.items():
            if len(members) < 2:
                continue
            phrases = amount_phrases(quote)
            for kind, names in ((MONEY, ("cap", "amount", "rate")), (RATIO, ("ratio",))):
                printed = [
                    p.value
                    for p in phrases
                    if (p.kind in (MONEY, RATE)) == (kind == MONEY) and p.kind != FOREIGN_MONEY
                ]
                held = [
                    next((_number(_field(b, n)) for n in names if _number(_field(b, n)) is not None), None)
                    for b in members
                ]
                if len(printed) == len(members) and all(v is not None for v in held) and held != printed:
                    problems.append(
                        f"clause {_get(clause, 'number')}: benefits {', '.join(str(_get(b, 'key')) for b in members)} "
                        f"share “{quote}” (分别) but hold {[f'{v:f}' for v in held]}, not the printed order "
                        f"{[f'{v:f}' for v in printed]}"
                    )
    return problems


def _phrase_has(phrase: AmountPhrase, kind: str, value: Decimal) -> bool:
    if kind == MONEY and phrase.kind not in (MONEY, RATE):
        return False
    if kind == RATIO and phrase.kind != RATIO:
        return False
    return value in (phrase.value, phrase.high)


def _quotes_at(quote: str | None, text: str, local: tuple[int, int]) -> bool:
    """Whether an occurrence of `quote` in normalise(text) covers the phrase at `local`."""
    needle = normalise(quote or "")
    if not needle:
        return False
    flat = normalise(text)
    start = flat.find(needle)
    while start >= 0:
        if start <= local[0] and local[1] <= start + len(needle):
            return True
        start = flat.find(needle, start + 1)
    return False


def _represented(phrase: AmountPhrase, local: tuple[int, int], clause: Any, leaves: list[Mapping]) -> bool:
    """Whether figures quoting the phrase hold its value (a range: both ends)."""
    if phrase.kind == FOREIGN_MONEY:
        wanted_kinds: tuple[str, ...] = ()
    elif phrase.kind == RATIO:
        wanted_kinds = (RATIO, THRESHOLD)
    else:
        wanted_kinds = (MONEY, THRESHOLD)
    text = _get(clause, "text", "")
    values: set[Decimal] = set()
    ranges: set[tuple[Decimal, Decimal]] = set()
    for benefit in _benefits(clause):
        figures = [f for f in benefit_figures(benefit) if _quotes_at(f.quote, text, local)]
        values |= {f.value for f in figures if f.kind in wanted_kinds}
        low = [f.value for f in figures if f.name == "ratio_range[0]"]
        high = [f.value for f in figures if f.name == "ratio_range[1]"]
        ranges |= {(a, b) for a in low for b in high}
    for leaf in leaves:
        if _quotes_at(leaf.get("quote"), text, local):
            numbers = _leaf_numbers(leaf)
            values |= set(numbers)
            if phrase.kind == RATIO:  # a percentage fact may be stored as 5 for 5%
                values |= {(n / 100).normalize() for n in numbers}
    if any(
        _quotes_at(_get(figure, "phrase"), text, local)
        for figure in _items(_get(clause, "figures_not_benefits"))
    ):
        return True
    if phrase.high is not None:
        return (phrase.value, phrase.high) in ranges or {phrase.value, phrase.high} <= values
    return phrase.value in values


# --- conditions: numbers, units, bounds, choices -----------------------------------------------------------

# The words that make a bound inclusive or strict are words.yaml's `bounds`; a level or a ratio the text
# leaves unstated (一定规模, 一定比例) its `unstated_level` and `unstated_ratio`; how a unit is printed after a
# number its `unit_forms`.
_BOUNDS = {"gte": ("lower", True), "gt": ("lower", False), "lte": ("upper", True), "lt": ("upper", False)}
# Facts whose values are not numbers to find in a quote (a region code 310112, a choice, a flag, a text).
_NOT_NUMBERS = ("region", "enum", "set", "bool", "str")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_POWERS = {"十": 10, "百": 100, "千": 1000}
_RANGE_REST = re.compile(rf"^%?{_RANGE_SEP}(?:{_NUM}|[零〇一二两三四五六七八九十百千]+)(?:万亿|亿|万)?")
_QUOTE_NUMBER = re.compile(rf"({_NUM}|[零〇一二两三四五六七八九十百千]+)(万亿|亿|万)?")


def _cn_number(text: str) -> Decimal | None:
    total, digit = 0, None
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_POWERS:
            total += (1 if digit is None else digit) * _CN_POWERS[char]
            digit = None
    return Decimal(total + (digit or 0))


def quote_numbers(quote: str, unit: str | None = None) -> set[Decimal]:
    """The numbers printed in a quote (万/亿 multiplied out; Chinese numerals read), keeping only those
    followed by `unit` (or one of its printed forms) when a unit is given."""
    flat = normalise(quote)
    found: set[Decimal] = set()
    forms = words().unit_forms
    printed = tuple(normalise(form) for form in forms.get(unit or "", [unit])) if unit else ()
    for match in _QUOTE_NUMBER.finditer(flat):
        raw, multiplier = match.group(1), match.group(2)
        value = Decimal(raw) if raw[0].isdigit() else _cn_number(raw)
        value *= _UNIT.get(multiplier or "", Decimal(1))
        rest = flat[match.end() :]
        further = _RANGE_REST.match(rest)  # "第1至3发", "5%(含)至10%": the unit follows the range's high end
        if further and not rest.startswith(printed or ("\0",)):
            rest = rest[further.end() :]
        if printed and not (rest.startswith(printed) or (unit == "元" and multiplier)):
            continue
        found.add(value.normalize())
        if unit == "%":
            found.add((value / 100).normalize())
    return found


def date_forms(day: datetime.date) -> list[str]:
    """Ways a source may print a date, in normalise()d form."""
    y, m, d = day.year, day.month, day.day
    return [f"{y}年{m}月{d}日", f"{y}年{m:02}月{d:02}日", f"{y}-{m:02}-{d:02}", f"{y}.{m}.{d}",
            f"{y}.{m:02}.{d:02}", f"{y}/{m}/{d}", f"{y}/{m:02}/{d:02}"]  # fmt: skip


def _as_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def date_printed(day: datetime.date, text: str) -> bool:
    flat = normalise(text)
    return any(form in flat for form in date_forms(day))


def date_named(day: datetime.date, text: str, document: Any = None) -> bool:
    """A date is printed in the text, or it is one of the document's own dates and the text names that date
    by words (words.yaml `date_words`): "自本办法实施之日起" is the document's effective_from."""
    if date_printed(day, text):
        return True
    flat = normalise(text)
    named = words().date_words
    return any(
        _as_date(_get(document, name)) == day
        and any(normalise(word) in flat for word in getattr(named, name))
        for name in ("effective_from", "published_on")
    )


def term_ends(source: str, start: datetime.date | None) -> dict[datetime.date, str]:
    """The ends of the terms the text counts from `start` (words.yaml `term`: 有效期5年, 试行期2年): start +
    N years − 1 day, with the words read."""
    if start is None:
        return {}
    ends = {}
    for match in re.finditer(words().term, normalise(source)):
        years = _count(match.group(1))
        try:
            later = start.replace(year=start.year + years)
        except ValueError:  # 29 February
            later = start.replace(year=start.year + years, day=28) + datetime.timedelta(days=1)
        ends[later - datetime.timedelta(days=1)] = match.group(0)
    return ends


def condition_problems(document: Any, clauses: list, catalog: Mapping[str, Mapping]) -> list[str]:
    """Each condition says what its quote says: every number (and date) of the comparison is printed in the
    quote with the fact's unit; the bound is inclusive or strict as the quote's words say; every choice it
    names (a recognition, a level, a region) is named in the quote by its label, its region name or a declared
    synonym; a level the text leaves unstated carries no number."""
    problems = []
    vocabulary = words()
    jurisdiction = str(_get(document, "jurisdiction", "") or "")
    for entry in documentleaves(document, clauses):
        leaf, where = entry.leaf, f"{entry.where}: condition on {entry.leaf.get('fact')}"
        quote, op, fact = str(leaf.get("quote") or ""), leaf.get("op"), catalog.get(leaf.get("fact"), {})
        kind, unit = fact.get("type"), fact.get("unit") or None
        flat = normalise(quote)
        numbers = [] if kind in _NOT_NUMBERS else _leaf_numbers(leaf)
        existence = op in ("gt", "gte", "ne") and numbers == [Decimal(0)]  # "has some": 0 is not a threshold
        if kind == "date" or (kind not in _NOT_NUMBERS and any(_as_date(v) for v in _values(leaf))):
            for value in _values(leaf):
                day = _as_date(value)
                if day and not date_named(day, quote, document):
                    problems.append(f"{where}: date {day} is not printed in its quote “{quote}”")
        elif numbers and not existence:
            printed = quote_numbers(quote, unit)
            missing = [n for n in numbers if n not in printed]
            if missing:
                with_unit = f" with its unit {unit}" if unit else ""
                problems.append(
                    f"{where}: {', '.join(f'{n:f}' for n in missing)} is not printed{with_unit} in its quote “{quote}”"
                )
        level = next((w for w in vocabulary.unstated_level if normalise(w) in flat), None)
        ratio = next((w for w in vocabulary.unstated_ratio if normalise(w) in flat), None)
        if numbers and (level or (ratio and not existence)):
            problems.append(
                f"{where}: its quote “{quote}” leaves {'the level' if level else 'the ratio'} unstated "
                f"({level or ratio}): a number ({op} {', '.join(f'{n:f}' for n in numbers)}) is not in the text; "
                + (
                    "use exists and requires_recognition"
                    if level
                    else "only the base's presence (> 0) may be asked"
                )
            )
        if op in _BOUNDS and not existence and kind not in _NOT_NUMBERS:
            problems += _bound_problems(where, op, quote)
        if kind in ("enum", "set") and op in ("eq", "ne", "in", "contains"):
            for value in _values(leaf):
                choices = choice_words(catalog, leaf.get("fact"), str(value))
                if choices and not any(normalise(word) in flat for word in choices):
                    problems.append(
                        f"{where}: {value} is named in its quote “{quote}” neither by its label nor by a "
                        f"synonym ({'、'.join(choices)})"
                    )
        if kind == "region" and op in ("eq", "ne", "in", "within"):
            for value in _values(leaf):
                names = region_words(catalog, leaf.get("fact"), str(value), jurisdiction)
                if not names:
                    problems.append(
                        f"{where}: {value} is not a region of the region tree (fixtures/regions/)"
                    )
                elif not any(normalise(word) in flat for word in names):
                    problems.append(
                        f"{where}: region {value} is named in its quote “{quote}” neither by its name nor by "
                        f"words for the document's own region ({'、'.join(names)})"
                    )
    return problems


def _values(leaf: Mapping) -> list:
    value = leaf.get("value")
    return list(value) if isinstance(value, list) else [value]


def _bound_problems(where: str, op: str, quote: str) -> list[str]:
    side, inclusive = _BOUNDS[op]
    bounds = words().bounds
    flat = normalise(quote)
    for word in bounds.not_lower if side == "lower" else bounds.not_upper:
        flat = flat.replace(normalise(word), "" if side == "upper" else "≤")
    inclusive_words = bounds.lower_inclusive if side == "lower" else bounds.upper_inclusive
    strict_words = bounds.lower_strict if side == "lower" else bounds.upper_strict
    says_inclusive = any(normalise(word) in flat for word in inclusive_words)
    says_strict = not says_inclusive and any(normalise(word) in flat for word in strict_words)
    expected = {
        ("lower", True): "gte",
        ("lower", False): "gt",
        ("upper", True): "lte",
        ("upper", False): "lt",
    }
    if says_inclusive and not inclusive:
        return [f"{where}: op {op} but the quote “{quote}” includes the bound ({expected[side, True]})"]
    if says_strict and inclusive:
        return [f"{where}: op {op} but the quote “{quote}” excludes the bound ({expected[side, False]})"]
    return []


# --- the fact catalog's words ------------------------------------------------------------------------------


_NOTE = re.compile(r"[(（][^)）]*[)）]|[“”\"]")


@functools.cache
def _prefix_regex(prefixes: tuple[str, ...]) -> re.Pattern:
    return (
        re.compile(rf"^(?:{_longest_first(normalise(p) for p in prefixes)})+")
        if prefixes
        else re.compile("^$")
    )


def _region_names(catalog: Mapping[str, Mapping]) -> tuple[str, ...]:
    """The names of the region tree, as the catalog's region facts offer them (their choices)."""
    names = {
        str(choice.get("label_zh"))
        for fact in catalog.values()
        if fact.get("type") == "region"
        for choice in fact.get("choices") or []
        if choice.get("label_zh")
    }
    return tuple(sorted(names))


def label_core(label: str, catalog: Mapping[str, Mapping] | None = None) -> str:
    """A label without its notes in brackets, quotation marks and leading level words (words.yaml
    `level_prefixes`) or region names (the region tree): 上海市专精特新中小企业 → 专精特新中小企业."""
    prefixes = (*words().level_prefixes, *(_region_names(catalog) if catalog else ()))
    return _prefix_regex(tuple(prefixes)).sub("", _NOTE.sub("", normalise(label)))


def _words(
    label: str | None, synonyms: Iterable[str], catalog: Mapping[str, Mapping] | None = None
) -> list[str]:
    found = [label, label_core(label, catalog) if label else None, *synonyms]
    return [word for word in dict.fromkeys(found) if word]


def fact_words(catalog: Mapping[str, Mapping], code: str | None) -> list[str]:
    """The words a text may use for a fact: its label_zh (also without notes and level words) and its
    declared synonyms."""
    fact = catalog.get(code or "")
    if not fact:
        return []
    return _words(fact.get("label_zh"), fact.get("synonyms") or [], catalog)


def _choice(catalog: Mapping[str, Mapping], code: str | None, value: str) -> Mapping | None:
    fact = catalog.get(code or "")
    return next((c for c in (fact or {}).get("choices") or [] if str(c.get("value")) == value), None)


def _choice_synonyms(catalog: Mapping[str, Mapping], value: str, choice: Mapping) -> list[str]:
    """The synonyms declared for a choice on any fact offering it with the same label (recognitions and
    recognitions_new; registered_region and operating_region)."""
    synonyms: list[str] = []
    for other in catalog.values():
        for candidate in other.get("choices") or []:
            if str(candidate.get("value")) == value and candidate.get("label_zh") == choice.get("label_zh"):
                synonyms += candidate.get("synonyms") or []
    return list(dict.fromkeys(synonyms))


def choice_words(catalog: Mapping[str, Mapping], code: str | None, value: str) -> list[str]:
    """The words for one choice of a fact: its label_zh and the synonyms declared for it, on this fact or on
    any fact offering the same choice with the same label (recognitions and recognitions_new)."""
    choice = _choice(catalog, code, value)
    if not choice:
        return []
    return _words(choice.get("label_zh"), _choice_synonyms(catalog, value, choice), catalog)


def region_words(
    catalog: Mapping[str, Mapping], code: str | None, value: str, jurisdiction: str = ""
) -> list[str]:
    """The words naming a region of the tree: its name (闵行区), without notes in brackets, without its ending
    (闵行, 上海; words.yaml `region_suffixes`), declared synonyms, and — when it is the document's own
    jurisdiction — the words for "this …" of its level (本区, 本市, 市级; words.yaml `jurisdiction`)."""
    choice = _choice(catalog, code, value)
    if not choice:
        return []
    vocabulary = words()
    name = normalise(str(choice.get("label_zh") or ""))
    bare = _NOTE.sub("", name)
    names = [name, bare]
    for suffix in sorted(vocabulary.region_suffixes, key=len, reverse=True):
        if bare.endswith(suffix) and len(bare) - len(suffix) >= 2:
            names.append(bare[: -len(suffix)])
            break
    names += _choice_synonyms(catalog, value, choice)
    if value == jurisdiction:
        names += vocabulary.jurisdiction.get(str(choice.get("level") or ""), [])
    return [word for word in dict.fromkeys(names) if word]


def load_regions(folder: Path) -> list[dict]:
    """The region tree (fixtures/regions/*.yaml) as choices of a region fact: value, label_zh, label_en,
    level, within (policies.regions, as the database's catalog carries it)."""
    from policies.regions import fixture_regions, region_choices

    rows = fixture_regions(folder) if folder.is_dir() else []
    return region_choices(
        {**row, "code": str(row["code"]), "name_en": row.get("name_en") or ""} for row in rows
    )


def load_catalog(folder: Path, regions: Path | None = None) -> dict[str, dict]:
    """The fact catalog of the fixtures as plain data, the one reader of fixtures/facts/*.yaml without a
    database (the fidelity checks, matching.scenarios and tools/check_policy_fixture.py read it; the
    database's catalog is policies.selectors.catalog): a region fact's choices the region tree
    (`regions`, by default the folder `regions` next to the catalog's), with the synonyms of
    fixtures/facts/synonyms/ (a region choice may have some too)."""
    import yaml

    catalog: dict[str, dict] = {}
    tree = load_regions(regions if regions is not None else folder.parent / "regions")
    for path in sorted(folder.glob("*.yaml")):
        for fact in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if isinstance(fact, dict) and fact.get("code"):
                choices = fact.get("choices") or (tree if fact.get("type") == "region" else [])
                catalog[fact["code"]] = {**fact, "choices": [dict(c) for c in choices]}
    for path in sorted((folder / "synonyms").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            fact = catalog.get(entry.get("fact"))
            if fact is None:
                raise ValueError(f"{path.name}: synonyms for unknown fact {entry.get('fact')}")
            target = fact
            if entry.get("choice") is not None:
                target = next(
                    (c for c in fact["choices"] if str(c.get("value")) == str(entry["choice"])), None
                )
                if target is None:
                    raise ValueError(f"{path.name}: {entry['fact']} has no choice {entry['choice']}")
            target["synonyms"] = [*(target.get("synonyms") or []), *entry.get("words", [])]
    return catalog


# --- benefits: bases, instalments, recognition -------------------------------------------------------------


def benefit_problems(
    clauses: list, catalog: Mapping[str, Mapping], spec: FidelityFileSpec | None = None
) -> list[str]:
    """What a benefit's fields claim beyond figures is in its words: the base it multiplies (a fact's label or
    synonym in the amount quote), its instalments (分三年), its need for recognition (经认定 … in its clause, or
    declared in fidelity.recognition with the words of another clause)."""
    vocabulary = words()
    instalment_words = re.compile(vocabulary.instalments)
    judged = [normalise(word) for word in (*vocabulary.recognition, *vocabulary.unstated_level)]
    elsewhere = {ref for entry in (spec.recognition if spec else []) for ref in entry.benefits}
    problems = recognition_elsewhere_problems(clauses, spec)
    for clause in clauses:
        number, text = _get(clause, "number"), _get(clause, "text", "")
        flat_text = normalise(text)
        benefits = _benefits(clause)
        for benefit in benefits:
            where = f"clause {number}, benefit {_get(benefit, 'key')}"
            quotes = benefit_quotes(benefit)
            joined = normalise("".join(quotes))
            for field in ("base_fact", "quantity_fact", "tier_fact", "cap_base_fact"):
                code = _field(benefit, field)
                names = fact_words(catalog, code)
                if code and names and not any(normalise(word) in joined for word in names):
                    problems.append(
                        f"{where}: {field} {code}: none of its words ({'、'.join(names)}) is in the amount quote"
                    )
            instalments = _instalments(benefit)
            if instalments and not any(
                _count(m.group(1)) == instalments for m in instalment_words.finditer(flat_text)
            ):
                problems.append(
                    f"{where}: instalments {instalments} but the clause does not say 分{instalments}年"
                )
            phrase = _get(benefit, "recognition_phrase")
            required = bool(_get(benefit, "requires_recognition", False))
            declared = f"{number}/{_get(benefit, 'key')}" in elsewhere
            if phrase and not found_in(phrase, text):
                problems.append(f"{where}: recognition_phrase “{phrase}” is not in the clause")
            if phrase and not required:
                problems.append(f"{where}: recognition_phrase “{phrase}” but requires_recognition is false")
            if declared and not required:
                problems.append(f"{where}: fidelity.recognition names it but requires_recognition is false")
            if required and not phrase and not declared:
                problems.append(
                    f"{where}: requires_recognition without the words that say so (recognition_phrase, "
                    "or fidelity.recognition for words of another clause)"
                )
            quoted = quotes + [str(leaf.get("quote") or "") for leaf in leaves(_get(benefit, "condition"))]
            said = [word for word in judged if any(word in normalise(q) for q in quoted)]
            if said and not required:
                problems.append(f"{where}: its quotes say {said[0]} but requires_recognition is false")
        for match in instalment_words.finditer(flat_text):
            count = _count(match.group(1))
            local = (match.start(), match.end())
            covered = [b for b in benefits if any(_quotes_at(q, text, local) for q in benefit_quotes(b))]
            waived = any(
                _quotes_at(_get(f, "phrase"), text, local)
                for f in _items(_get(clause, "figures_not_benefits"))
            )
            if not waived and covered and not any(_instalments(b) == count for b in covered):
                problems.append(
                    f"clause {number}: “{match.group(0)}” is quoted by "
                    f"{', '.join(str(_get(b, 'key')) for b in covered)} without instalments {count}"
                )
    return problems


def _count(text: str) -> int:
    return int(text) if text.isdigit() else int(_cn_number(text))


def recognition_elsewhere_problems(clauses: list, spec: FidelityFileSpec | None) -> list[str]:
    """fidelity.recognition: each benefit it names exists, and its words are in the clause it names."""
    problems = []
    texts = {str(_get(clause, "number")): _get(clause, "text", "") for clause in clauses}
    keys = {f"{_get(clause, 'number')}/{_get(b, 'key')}" for clause in clauses for b in _benefits(clause)}
    for entry in spec.recognition if spec else []:
        if entry.clause not in texts:
            problems.append(f"fidelity.recognition: clause {entry.clause} is not in the document")
        elif not found_in(entry.quote, texts[entry.clause]):
            problems.append(f"fidelity.recognition: “{entry.quote}” is not in clause {entry.clause}")
        problems += [f"fidelity.recognition: no benefit {ref}" for ref in entry.benefits if ref not in keys]
    return problems


def _instalments(benefit: Any) -> int | None:
    instalments = _get(benefit, "instalments")
    if instalments:
        return int(instalments)
    schedule = _field(benefit, "schedule")
    if schedule:
        shares = _items(_get(schedule, "shares")) or _items(_get(schedule, "stages"))
        return len(shares) or None
    return None


# --- the document: dates, applicability --------------------------------------------------------------------

DOCUMENT_DATES = ("published_on", "effective_from", "effective_to")


def document_date_problems(document: Any, source: str, spec: FidelityFileSpec | None) -> list[str]:
    """Every date of the document is printed in the text, or is the end of a term the text counts from
    effective_from (有效期5年: effective_from + 5 years − 1 day), or is declared in fidelity.dates with the
    words it is read from (which hold its year) and why; a text is not in force before it is issued unless
    so declared."""
    waivers = spec.dates if spec else {}
    terms = term_ends(source, _as_date(_get(document, "effective_from")))
    problems = []
    for name in waivers:
        if name not in DOCUMENT_DATES:
            problems.append(f"fidelity.dates.{name}: not a document date ({', '.join(DOCUMENT_DATES)})")
    for name in DOCUMENT_DATES:
        day = _as_date(_get(document, name))
        if day is None:
            continue
        waiver = waivers.get(name)
        if waiver is None:
            if not date_printed(day, source) and not (name == "effective_to" and day in terms):
                problems.append(
                    f"document {name} {day} is not printed in the text (nor declared in fidelity.dates)"
                )
        elif not found_in(waiver.quote, source):
            problems.append(f"fidelity.dates.{name}: “{waiver.quote}” is not in the text")
        elif str(day.year) not in normalise(waiver.quote):
            problems.append(f"document {name} {day}: its year is not in “{waiver.quote}”")
    published, start, end = (_as_date(_get(document, name)) for name in DOCUMENT_DATES)
    if published and start and start < published and "effective_from" not in waivers:
        problems.append(f"document effective_from {start} is before the text was issued ({published})")
    if start and end and end < start:
        problems.append(f"document effective_to {end} is before effective_from {start}")
    return problems


def benefit_date_problems(clauses: list) -> list[str]:
    problems = []
    for clause in clauses:
        for benefit in _benefits(clause):
            for name in ("valid_from", "valid_to"):
                day = _as_date(_get(benefit, name))
                if day and not date_printed(day, _get(clause, "text", "")):
                    problems.append(
                        f"clause {_get(clause, 'number')}, benefit {_get(benefit, 'key')}: {name} {day} "
                        "is not printed in the clause"
                    )
    return problems


def applicability_problems(document: Any, spec: FidelityFileSpec | None) -> list[str]:
    if spec and spec.applicability_required and not _get(document, "applicability"):
        return ["fidelity.applicability_required but the document has no applicability"]
    return []


# --- one document ------------------------------------------------------------------------------------------


def document_problems(
    document: Any, clauses: list, source: str, spec: FidelityFileSpec | None, catalog: Mapping[str, Mapping]
) -> list[str]:
    """All fidelity checks of one encoded document against its source text."""
    problems = [] if spec else ["the fixture has no fidelity: section (numbering rules of its text)"]
    if spec:
        problems += printed_count_problems(spec, source)
        problems += numbering_problems(numbering_spec(spec), source, clauses)
    return (
        problems
        + verbatim_problems(source, clauses)
        + overlap_problems(source, clauses)
        + amount_problems(source, clauses, document)
        + condition_problems(document, clauses, catalog)
        + benefit_problems(clauses, catalog, spec)
        + document_date_problems(document, source, spec)
        + benefit_date_problems(clauses)
        + applicability_problems(document, spec)
    )


def waivers(clauses: Iterable, spec: FidelityFileSpec | None) -> list[str]:
    """Every figure declared not to be a benefit, every date read from words and every recognition said in
    another clause, with the reason: shown so a waiver is visible."""
    lines = [
        f"clause {_get(clause, 'number')}: “{_get(figure, 'phrase')}” — {_get(figure, 'why')}"
        for clause in clauses
        for figure in _items(_get(clause, "figures_not_benefits"))
    ]
    lines += [f"{name}: read from “{w.quote}” — {w.why}" for name, w in (spec.dates if spec else {}).items()]
    lines += [
        f"recognition of {', '.join(entry.benefits)}: said in clause {entry.clause} “{entry.quote}” — {entry.why}"
        for entry in (spec.recognition if spec else [])
    ]
    return lines
