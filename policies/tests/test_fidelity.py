"""Fidelity: the database says what the source texts in ../shared/seeds/ say.

Expectations are read from the source files themselves (numbering by regex, amount phrases by regex), never
copied from the fixtures. Every seed file must be encoded: a seed without a loaded document fails here.
"""

import datetime
from decimal import Decimal

import pytest

from policies.fidelity import (
    FOREIGN_MONEY,
    MONEY,
    NUMBERING,
    RATIO,
    NumberingSpec,
    amount_phrases,
    amount_problems,
    numbering_problems,
    overlap_problems,
    printed_structure,
    seed_files,
    seeds_dir,
    verbatim_problems,
)
from policies.models import PolicyDocument
from policies.selectors import document_counts

D = datetime.date
SEEDS = [path.name for path in seed_files(seeds_dir())]


def source_of(seed: str) -> str:
    return (seeds_dir() / seed).read_text(encoding="utf-8")


@pytest.fixture
def encoded(all_fixtures_loaded, db):
    """seed file name -> (document, clauses in printed order with benefits), from the loaded fixtures."""

    def get(seed: str):
        document = PolicyDocument.objects.filter(source_file=seed).first()
        assert document is not None, f"{seed} is not encoded: no loaded fixture names it as source_file"
        return document, list(document.clauses.prefetch_related("benefits").order_by("order"))

    return get


def test_the_seeds_are_there_and_each_has_a_numbering_spec():
    assert seeds_dir().is_dir(), f"{seeds_dir()} is missing: the fidelity tests need the source texts"
    assert len(SEEDS) == 5 and set(SEEDS) == set(NUMBERING)


def test_every_fixture_loads_without_errors(all_fixtures_loaded):
    reports, errors = all_fixtures_loaded
    assert [message for error in errors for message in error.messages] == []


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_is_encoded(seed, encoded):
    document, clauses = encoded(seed)
    assert clauses and document.title


@pytest.mark.parametrize("seed", SEEDS)
def test_clause_numbering_equals_the_text(seed, encoded):
    _document, clauses = encoded(seed)
    assert numbering_problems(NUMBERING[seed], source_of(seed), clauses) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_clause_texts_are_verbatim_and_do_not_overlap(seed, encoded):
    _document, clauses = encoded(seed)
    assert verbatim_problems(source_of(seed), clauses) == []
    assert overlap_problems(source_of(seed), clauses) == []


@pytest.mark.parametrize("seed", SEEDS)
def test_every_amount_phrase_is_a_benefit_figure_in_its_clause(seed, encoded):
    _document, clauses = encoded(seed)
    assert amount_problems(source_of(seed), clauses) == []


# What the issue states about each text's validity (these are facts about the texts, not about the fixtures).
VALIDITY = {
    "000_a58dafab45e73810.txt": dict(
        status="in_force", effective_from=D(2024, 4, 1), effective_to=D(2029, 3, 31),
        on={D(2024, 3, 31): "not_yet_effective", D(2024, 4, 1): "in_force", D(2029, 3, 31): "in_force",
            D(2029, 4, 1): "expired"},
    ),
    "001_2dfd1af80a7c2560.txt": dict(
        status="draft", effective_from=None, on={D(2024, 10, 14): "draft", D(2025, 6, 1): "draft"},
    ),
    "002_3d25c37045d9436d.txt": dict(status="expired", on={D(2021, 1, 1): "expired", D(2025, 6, 1): "expired"}),
    "003_f3614992173a0e14.txt": dict(
        status="in_force", effective_from=D(2022, 10, 1), effective_to=None,
        on={D(2022, 9, 30): "not_yet_effective", D(2022, 10, 1): "in_force", D(2040, 1, 1): "in_force"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("seed", sorted(VALIDITY))
def test_validity_is_what_the_text_says(seed, encoded):
    document, _clauses = encoded(seed)
    expected = dict(VALIDITY[seed])
    on = expected.pop("on")
    assert {name: getattr(document, name) for name in expected} == expected
    assert {day: document.validity_on(day)[1] for day in on} == on
    if seed.startswith("002"):
        assert document.effective_to is None or document.effective_to <= D(2020, 12, 31)


@pytest.mark.parametrize("seed", SEEDS)
def test_counts_per_document(seed, encoded):
    """The per-document counts the issue asks for (shown with -s), with a floor that catches an empty load."""
    document, _clauses = encoded(seed)
    counts = document_counts(document)
    print(seed, document.key, counts)
    assert counts["clauses"] >= len(printed_structure(NUMBERING[seed], source_of(seed)).items)


# --- the checks themselves can fail --------------------------------------------------------------------------


def test_amount_phrases_read_full_width_digits_units_and_ratios():
    text = "给予上限２０００万元；上限800万的资助；最高1亿元；不超过３０％；按照扶持资金给予 1:0.5 配套；担保费全额补贴；不低于200万美元；提供２万套宿舍"
    found = [(p.kind, p.value, p.text) for p in amount_phrases(text)]
    assert found == [
        (MONEY, Decimal("20000000"), "2000万元"),
        (MONEY, Decimal("8000000"), "800万"),
        (MONEY, Decimal("100000000"), "1亿元"),
        (RATIO, Decimal("0.3"), "30%"),
        (RATIO, Decimal("0.5"), "1:0.5"),
        (RATIO, Decimal("1"), "全额"),
        (FOREIGN_MONEY, Decimal("2000000"), "200万美元"),
    ]


def test_printed_structure_is_read_from_the_text():
    s003 = printed_structure(NUMBERING["003_f3614992173a0e14.txt"], source_of("003_f3614992173a0e14.txt"))
    assert [item.number for item in s003.items] == [_fw(n) for n in range(1, 26)]  # "１" … "２５" as printed
    assert s003.items[-1].body.endswith("(责任单位:各有关部门、各区)")
    s002 = printed_structure(NUMBERING["002_3d25c37045d9436d.txt"], source_of("002_3d25c37045d9436d.txt"))
    assert [item.number for item in s002.items][-7:] == ["16"] + [f"四({n})" for n in "一二三四五六"]
    assert not s002.items[-1].body.count("上一条")
    s004 = printed_structure(NUMBERING["004_21c7819eb38fb760.txt"], source_of("004_21c7819eb38fb760.txt"))
    assert len(s004.items) == 26 and s004.items[11].body.startswith("为全面贯彻")
    s000 = printed_structure(NUMBERING["000_a58dafab45e73810.txt"], source_of("000_a58dafab45e73810.txt"))
    assert [item.number for item in s000.items] == [str(n) for n in range(1, 23)]
    assert len(s000.annex_paragraphs) == 2


def _fw(number: int) -> str:
    return "".join(chr(0xFF10 + int(digit)) for digit in str(number))


class FakeBenefit:
    def __init__(self, key, cap=None, amount=None, ratio=None, amount_quote="", condition=None):
        self.key, self.cap, self.amount, self.ratio = key, cap, amount, ratio
        self.amount_quote, self.condition = amount_quote, condition


class FakeClause:
    def __init__(self, number, text, kind="subsidy", title="", benefits=(), figures=()):
        self.number, self.text, self.kind, self.title = number, text, kind, title
        self.benefits, self.figures_not_benefits = list(benefits), list(figures)


SOURCE = """一、支持

1. 支持扩产。对于区级技改项目，按照新增设备投资额的 10%给予支持，上限 2000 万元。

2. 支持上市。对工业产值达到1亿元以上的企业，给予上限 800 万元的资助。

二、附则

本政策自 2024 年 4 月 1 日起施行。
"""
SPEC = NumberingSpec(item=r"(\d+)\.\s*", annex=r"^二、附则$")


def faithful() -> list[FakeClause]:
    return [
        FakeClause("1", "支持扩产。对于区级技改项目，按照新增设备投资额的 10%给予支持，上限 2000 万元。", benefits=[
            FakeBenefit("upgrade", cap=Decimal(20_000_000), ratio=Decimal("0.1"),
                        amount_quote="按照新增设备投资额的 10%给予支持，上限 2000 万元")]),
        FakeClause("2", "支持上市。对工业产值达到1亿元以上的企业，给予上限 800 万元的资助。",
                   figures=[{"phrase": "1亿元以上", "why": "门槛"}],
                   benefits=[FakeBenefit("listing", cap=Decimal(8_000_000), amount_quote="给予上限 800 万元的资助")]),
        FakeClause("附则", "本政策自 2024 年 4 月 1 日起施行。", kind="annex"),
    ]  # fmt: skip


def all_problems(clauses) -> list[str]:
    return (
        numbering_problems(SPEC, SOURCE, clauses)
        + verbatim_problems(SOURCE, clauses)
        + overlap_problems(SOURCE, clauses)
        + amount_problems(SOURCE, clauses)
    )


def test_a_faithful_encoding_has_no_problems():
    assert all_problems(faithful()) == []


def _wrong_cap(clauses):
    clauses[1].benefits[0].cap = Decimal(80_000_000)


def _unlisted_figure(clauses):
    clauses[1].figures_not_benefits = []


def _figure_as_threshold(clauses):
    clauses[1].figures_not_benefits = []
    clauses[1].benefits[0].condition = {
        "all": [{"fact": "output_value", "op": "gte", "value": 100_000_000, "quote": "工业产值达到1亿元以上"}]
    }


def _wrong_ratio(clauses):
    clauses[0].benefits[0].ratio = Decimal("0.2")


def _missing_clause(clauses):
    del clauses[1]


def _truncated(clauses):
    clauses[0].text = clauses[0].text[:20]


def _not_verbatim(clauses):
    clauses[0].text = clauses[0].text.replace("10%", "１０％")


def _renumbered(clauses):
    clauses[1].number = "3"


def _no_annex(clauses):
    clauses[2].kind = "goal"


def _quote_elsewhere(clauses):
    clauses[1].benefits[0].amount_quote = "支持上市"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_wrong_cap, ["clause 2", "800万元", "cap 80000000"]),
        (_unlisted_figure, ["clause 2", "1亿元"]),
        (_wrong_ratio, ["clause 1", "10%", "ratio 0.2"]),
        (_missing_clause, ["item 2", "800万元"]),
        (_truncated, ["clause 1", "not the whole printed item", "2000万元"]),
        (_not_verbatim, ["clause 1", "not found verbatim"]),
        (_renumbered, ["item 2", "clause 3"]),
        (_no_annex, ["annex paragraph"]),
        (_quote_elsewhere, ["clause 2", "800万元"]),
    ],
)
def test_each_check_catches_an_unfaithful_encoding(mutate, expected):
    clauses = faithful()
    mutate(clauses)
    problems = " | ".join(all_problems(clauses))
    for words in expected:
        assert words in problems, (words, problems)


def test_a_threshold_condition_quoting_the_figure_counts_as_encoded():
    clauses = faithful()
    _figure_as_threshold(clauses)
    assert all_problems(clauses) == []
