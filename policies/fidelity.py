"""How faithfully the data follows the source texts: text normalisation, amount phrases, printed numbering.

Pure functions over strings (no ORM), shared by the loader, the fidelity tests and `manage.py check_fidelity`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

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


def seeds_dir() -> Path:
    """Where the source texts live: ../shared/seeds next to the repository (overridable for tests)."""
    from django.conf import settings

    configured = getattr(settings, "POLICY_SEEDS_DIR", None)
    return Path(configured) if configured else Path(settings.BASE_DIR).parent / "shared" / "seeds"


# --- amount phrases ----------------------------------------------------------------------------------------

MONEY = "money"  # value in yuan
FOREIGN_MONEY = "foreign_money"  # value in the foreign currency's units (美元): never a cap in yuan
RATIO = "ratio"  # value as a fraction: 30% -> 0.3, 1:0.5 -> 0.5, 全额 -> 1

_UNIT = {"万": Decimal(10_000), "亿": Decimal(100_000_000), "万亿": Decimal(10**12)}
# "800万" without 元 counts only after a cap word (000 clause 13 prints "上限800万"); "2万套" does not.
_CAP_WORDS = ("上限", "最高", "不超过", "给予")
_AMOUNT = re.compile(
    r"(?P<money>(?P<num>\d+(?:\.\d+)?)(?P<unit>万亿|亿|万)(?P<currency>美元|元)?)"
    r"|(?P<percent>(?P<pnum>\d+(?:\.\d+)?)%)"
    r"|(?P<matching>1[:∶](?P<mnum>\d+(?:\.\d+)?))"
    r"|(?P<full>全额)"
)


@dataclass(frozen=True)
class AmountPhrase:
    kind: str  # MONEY, FOREIGN_MONEY or RATIO
    value: Decimal
    text: str  # as found in the normalised text, e.g. "1000万元", "30%", "1:0.5"
    start: int  # offsets in normalise(source)
    end: int

    def __str__(self) -> str:
        return self.text


def amount_phrases(text: str) -> list[AmountPhrase]:
    """Every amount-like phrase (万元/亿元 sums, percentages, 1:x matching ratios, 全额) in normalise(text)."""
    flat = normalise(text)
    found: list[AmountPhrase] = []
    for match in _AMOUNT.finditer(flat):
        if match["money"]:
            if not match["currency"] and not flat[: match.start()].endswith(_CAP_WORDS):
                continue
            value = Decimal(match["num"]) * _UNIT[match["unit"]]
            kind = FOREIGN_MONEY if match["currency"] == "美元" else MONEY
        elif match["percent"]:
            kind, value = RATIO, Decimal(match["pnum"]) / 100
        elif match["matching"]:
            kind, value = RATIO, Decimal(match["mnum"])
        else:
            kind, value = RATIO, Decimal(1)
        found.append(AmountPhrase(kind, value.normalize(), match.group(0), match.start(), match.end()))
    return found


def same_amount(a: Decimal | float | int | None, b: Decimal | float | int | None) -> bool:
    return a is not None and b is not None and Decimal(str(a)).normalize() == Decimal(str(b)).normalize()


# --- printed numbering -------------------------------------------------------------------------------------

_CN = "一二三四五六七八九十"
# Section lines end an item's body: "一、", "(一)", "一)" and 001's misprinted "(十强化人才支持".
_HEADING = re.compile(rf"^(?:[{_CN}]+、|[(（][{_CN}]+|[{_CN}]+[)）])")


@dataclass(frozen=True)
class NumberingSpec:
    """How one source text numbers its clauses, so the expected numbering is read from the text itself."""

    item: str | None = None  # regex at a line start; group 1 is the number exactly as printed
    sections: tuple[tuple[str, str], ...] = ()  # (section line regex, sub-item regex): qualified "四(一)"
    annex: str | None = None  # regex of the annex heading: each later paragraph must be an annex clause
    end: str | None = None  # regex of the first line after the policy text (web page footer, 施行 line)
    paragraphs: bool = False  # unnumbered excerpt: every paragraph is one clause, numbered P1, P2, …
    stray: tuple[str, ...] = ()  # non-policy phrases inside paragraphs (must not be encoded)


# One entry per file in ../shared/seeds/. A seed without an entry fails the fidelity tests.
NUMBERING: dict[str, NumberingSpec] = {
    "000_a58dafab45e73810.txt": NumberingSpec(item=r"(\d+)\.\s*", annex=r"^六、附则$"),
    "001_2dfd1af80a7c2560.txt": NumberingSpec(item=r"(\d+)\.\s*", annex=r"^三、附则$"),
    "002_3d25c37045d9436d.txt": NumberingSpec(
        item=r"(\d+)\.\s*",
        sections=((r"^四、", rf"[(（]([{_CN}]+)[)）]"),),  # 四(一) … 四(六), the six 环境 measures
        end=r"^上一条",
    ),
    "003_f3614992173a0e14.txt": NumberingSpec(item=r"([０-９]+)．(?![０-９])", end=r"^本文件自"),
    "004_21c7819eb38fb760.txt": NumberingSpec(paragraphs=True, stray=("韦德APP",)),
}


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
    sub_items: tuple[str, str] | None = None  # (section prefix, sub-item regex) while inside such a section

    def close() -> None:
        if body is not None:
            items.append(PrintedItem(number, squash("".join(body))))

    for line in lines[:annex_at]:
        section = next((sub for section_re, sub in spec.sections if re.match(section_re, line)), None)
        item = re.match(spec.item, line) if spec.item else None
        sub_item = re.match(sub_items[1], line) if sub_items else None
        if section:
            close()
            body, sub_items = None, (line.split("、", 1)[0], section)
        elif item:
            close()
            number, body = item.group(1), [line[item.end() :]]
        elif sub_item:
            close()
            number, body = f"{sub_items[0]}({sub_item.group(1)})", [line[sub_item.end() :]]
        elif _HEADING.match(line):
            close()
            body = None
            if re.match(rf"^[{_CN}]+、", line):
                sub_items = None
        elif body is not None:
            body.append(line)
    close()
    return PrintedStructure(items, annex)


# --- checks (duck-typed: ORM rows or plain objects with the same attributes) ---------------------------------
# A clause has number, kind, title, text, figures_not_benefits and benefits (an iterable of objects with cap,
# amount, ratio, condition). Each check returns human-readable problems; [] means faithful.

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
    by_number = {clause.number: clause for clause in clauses}
    numbers = [clause.number for clause in clauses]
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
        text, title = squash(clause.text), squash(clause.title or "")
        if item.body not in (text, title + text):
            problems.append(
                f"clause {item.number}: text is not the whole printed item: {_first_difference(item.body, text)}"
            )
    annex_texts = [squash(clause.text) for clause in clauses if clause.kind == "annex"]
    problems += [
        f"annex paragraph “{paragraph[:30]}…” is in no annex clause"
        for paragraph in printed.annex_paragraphs
        if not any(paragraph in text for text in annex_texts)
    ]
    problems += [
        f"clause {clause.number} contains the non-policy phrase “{phrase}”"
        for clause in clauses
        for phrase in spec.stray
        if phrase in clause.text
    ]
    return problems


def _first_difference(expected: str, actual: str) -> str:
    index = next((i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b), None)
    if index is None:
        index = min(len(expected), len(actual))
    return f"source “…{expected[max(0, index - 10) : index + 20]}…” vs clause “…{actual[max(0, index - 10) : index + 20]}…”"


def verbatim_problems(source: str, clauses: list) -> list[str]:
    return [f"clause {clause.number}: text not found verbatim in the source" for clause in clauses
            if not found_in(clause.text, source)]  # fmt: skip


def clause_spans(source: str, clauses: list) -> dict[str, tuple[int, int]]:
    """Where each clause's text sits in normalise(source); clauses not found are left out."""
    flat, spans, cursor = normalise(source), {}, 0
    for clause in clauses:
        text = normalise(clause.text)
        start = flat.find(text, cursor)
        if start < 0:
            start = flat.find(text)
        if text and start >= 0:
            spans[clause.number] = (start, start + len(text))
            cursor = start + len(text)
    return spans


def overlap_problems(source: str, clauses: list) -> list[str]:
    """No two clauses encode the same words."""
    ordered = sorted(clause_spans(source, clauses).items(), key=lambda item: item[1])
    return [f"clauses {a} and {b} overlap in the source" for (a, (_s, end)), (b, (start, _e))
            in zip(ordered, ordered[1:], strict=False) if start < end]  # fmt: skip


def amount_problems(source: str, clauses: list) -> list[str]:
    """Every amount phrase of the source sits in a clause, and there it is quoted by a benefit with that figure,
    by a condition with that threshold, or by a figures_not_benefits entry; every benefit figure is printed
    in its clause."""
    flat = normalise(source)
    spans = clause_spans(source, clauses)
    by_number = {clause.number: clause for clause in clauses}
    problems = []
    for phrase in amount_phrases(source):
        context = flat[max(0, phrase.start - 12) : phrase.end + 6]
        owner = next((n for n, (s, e) in spans.items() if s <= phrase.start and phrase.end <= e), None)
        if owner is None:
            problems.append(f"amount “{phrase}” (…{context}…) is in no clause")
            continue
        offset = spans[owner][0]
        local = (phrase.start - offset, phrase.end - offset)
        if not _represented(phrase, local, by_number[owner]):
            problems.append(
                f"clause {owner}: amount “{phrase}” (…{context}…) is quoted by no benefit with that figure, "
                "no condition with that threshold and no figures_not_benefits entry"
            )
    for clause in clauses:
        printed = amount_phrases(clause.text)
        for benefit in _benefits(clause):
            for name, kind in (("cap", MONEY), ("amount", MONEY), ("ratio", RATIO)):
                value = getattr(benefit, name)
                if value is not None and not any(
                    p.kind == kind and same_amount(p.value, value) for p in printed
                ):
                    problems.append(
                        f"clause {clause.number}, benefit {benefit.key}: {name} {value} is not printed in the clause"
                    )
    return problems


def _benefits(clause) -> list:
    return list(clause.benefits.all() if hasattr(clause.benefits, "all") else clause.benefits)


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


def _represented(phrase: AmountPhrase, local: tuple[int, int], clause) -> bool:
    from policies.conditions import leaves

    text = clause.text
    for benefit in _benefits(clause):
        figures = (benefit.cap, benefit.amount) if phrase.kind == MONEY else (benefit.ratio,)
        quoted = _quotes_at(benefit.amount_quote, text, local)
        if phrase.kind != FOREIGN_MONEY and quoted and any(same_amount(phrase.value, f) for f in figures):
            return True
        thresholds = [phrase.value, phrase.value * 100] if phrase.kind == RATIO else [phrase.value]
        for leaf in leaves(benefit.condition) if benefit.condition else []:
            values = leaf["value"] if isinstance(leaf["value"], list) else [leaf["value"]]
            numbers = [v for v in values if isinstance(v, int | float | Decimal) and not isinstance(v, bool)]
            if any(same_amount(t, v) for t in thresholds for v in numbers) and _quotes_at(
                leaf["quote"], text, local
            ):
                return True
    return any(_quotes_at(figure.get("phrase"), text, local) for figure in clause.figures_not_benefits or [])


def document_problems(source_file: str, source: str, clauses: list) -> list[str]:
    """All fidelity checks of one encoded document against its source text."""
    spec = NUMBERING.get(source_file)
    problems = [] if spec else [f"{source_file} has no entry in policies.fidelity.NUMBERING"]
    if spec:
        problems += numbering_problems(spec, source, clauses)
    return (
        problems
        + verbatim_problems(source, clauses)
        + overlap_problems(source, clauses)
        + amount_problems(source, clauses)
    )


def seed_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.txt"))
