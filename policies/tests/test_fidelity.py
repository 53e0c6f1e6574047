"""Fidelity: the data says what the source texts in ../shared/seeds/ and ../shared/corpus/ say.

The tests iterate over whatever fixtures exist in fixtures/policies/ and whatever texts exist in the source
folders: a new text with its fixture needs no edit here. What differs between texts (how each numbers its
clauses) is in the fixture's `fidelity:` section; expectations are read from the source files themselves.
"""

import datetime
import io
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from policies.fidelity import (
    FOREIGN_MONEY,
    MONEY,
    RATE,
    RATIO,
    FidelityFileSpec,
    NumberingSpec,
    amount_phrases,
    amount_problems,
    benefit_problems,
    condition_problems,
    corpus_dir,
    document_date_problems,
    document_problems,
    fidelity_spec,
    fixture_clauses,
    load_catalog,
    numbering_problems,
    numbering_spec,
    overlap_problems,
    printed_structure,
    quote_numbers,
    seed_files,
    seeds_dir,
    source_dirs,
    source_path,
    verbatim_problems,
    waivers,
)
from policies.loader import fixtures_dir
from policies.models import PolicyDocument
from policies.selectors import document_counts

D = datetime.date
FIXTURES = sorted((fixtures_dir() / "policies").glob("*.yaml"))
CATALOG = load_catalog(fixtures_dir() / "facts")


def read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def source_of(data: dict) -> str:
    path = source_path(data["document"]["source_file"])
    assert path is not None, f"{data['document']['source_file']} is in none of {source_dirs()}"
    return path.read_text(encoding="utf-8")


def ids(path: Path) -> str:
    return path.stem


@pytest.fixture
def encoded(all_fixtures_loaded, db):
    """document key -> (document, clauses in printed order with benefits), from the loaded fixtures."""

    def get(key: str):
        document = PolicyDocument.objects.filter(key=key).first()
        assert document is not None, f"{key} is not loaded"
        return document, list(document.clauses.prefetch_related("benefits").order_by("order"))

    return get


def test_every_seed_text_has_a_fixture_and_every_fixture_a_source():
    assert seeds_dir().is_dir(), f"{seeds_dir()} is missing: the fidelity tests need the source texts"
    named = {read(path)["document"]["source_file"] for path in FIXTURES}
    assert {seed.name for seed in seed_files(seeds_dir())} <= named
    assert all(source_path(name) is not None for name in named), named


def test_a_source_file_is_looked_up_in_the_seeds_then_the_corpus(settings, tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "corpus").mkdir()
    (tmp_path / "seeds" / "a.txt").write_text("seed", encoding="utf-8")
    (tmp_path / "corpus" / "a.txt").write_text("corpus", encoding="utf-8")
    (tmp_path / "corpus" / "b.txt").write_text("corpus", encoding="utf-8")
    settings.POLICY_SEEDS_DIR, settings.POLICY_CORPUS_DIR = str(tmp_path / "seeds"), str(tmp_path / "corpus")
    assert source_path("a.txt") == tmp_path / "seeds" / "a.txt"
    assert source_path("b.txt") == tmp_path / "corpus" / "b.txt"
    assert source_path("c.txt") is None
    assert corpus_dir() == tmp_path / "corpus"


def test_every_fixture_loads_without_errors(all_fixtures_loaded):
    reports, errors = all_fixtures_loaded
    assert [message for error in errors for message in error.messages] == []


@pytest.mark.parametrize("path", FIXTURES, ids=ids)
def test_fixture_declares_how_its_text_is_numbered(path):
    spec = fidelity_spec(read(path).get("fidelity"))
    assert spec is not None, f"{path.name} has no fidelity: section"
    assert spec.printed_items is not None, f"{path.name}: fidelity.printed_items guards the numbering rules"
    printed = printed_structure(numbering_spec(spec), source_of(read(path)))
    assert len(printed.items) == spec.printed_items


@pytest.mark.parametrize("path", FIXTURES, ids=ids)
def test_fixture_is_faithful_to_its_text(path):
    data = read(path)
    spec = fidelity_spec(data.get("fidelity"))
    assert document_problems(data["document"], fixture_clauses(data), source_of(data), spec, CATALOG) == []


@pytest.mark.parametrize("path", FIXTURES, ids=ids)
def test_loaded_document_is_faithful_to_its_text(path, encoded):
    """The same checks on the database rows the loader wrote (ORM objects instead of parsed YAML)."""
    data = read(path)
    document, clauses = encoded(data["document"]["key"])
    spec = fidelity_spec(data.get("fidelity"))
    assert len(clauses) == len(data["clauses"])
    assert document_problems(document, clauses, source_of(data), spec, CATALOG) == []


@pytest.mark.parametrize("path", FIXTURES, ids=ids)
def test_counts_per_document(path, encoded):
    """The per-document counts (shown with -s), with a floor that catches an empty load."""
    data = read(path)
    document, _clauses = encoded(data["document"]["key"])
    counts = document_counts(document)
    print(path.name, document.key, counts)
    assert counts["clauses"] >= fidelity_spec(data["fidelity"]).printed_items


@pytest.mark.parametrize("path", FIXTURES, ids=ids)
def test_validity_follows_the_documents_dates(path, encoded):
    document, _clauses = encoded(read(path)["document"]["key"])
    one = datetime.timedelta(days=1)
    if document.status == "draft":
        assert {document.validity_on(day)[1] for day in (D(2000, 1, 1), D(2040, 1, 1))} == {"draft"}
        return
    if document.effective_from:
        assert document.validity_on(document.effective_from - one)[1] == "not_yet_effective"
        dated = document.status == "in_force" or (document.status == "expired" and document.effective_to)
        if dated:  # within its dates a document is in force (an expired plan was, in its period)
            assert document.validity_on(document.effective_from)[1] == "in_force"
    if document.effective_to:
        assert document.validity_on(document.effective_to + one)[1] == "expired"
    if document.status == "expired":
        assert document.effective_to is not None or document.validity_on(D(2040, 1, 1))[1] == "expired"


@pytest.mark.parametrize("path", FIXTURES, ids=ids)
def test_every_waiver_has_a_reason_and_is_listed(path):
    data = read(path)
    lines = waivers(data["clauses"], fidelity_spec(data.get("fidelity")))
    figures = [(c["number"], f) for c in data["clauses"] for f in c.get("figures_not_benefits") or []]
    assert all(str(figure.get("why") or "").strip() for _number, figure in figures)
    for number, figure in figures:
        assert f"clause {number}: “{figure['phrase']}” — {figure['why']}" in lines


# --- the amount scanner --------------------------------------------------------------------------------------


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


def test_amount_phrases_read_rates_ranges_and_yuan():
    text = (
        "按0.1元/千瓦时；500元/千瓦；600元/吨标煤；5元/㎡；１０元/平方米；3000元/亩；每人５０００元；200元/月；"
        "700万元/年；按5%—20%给予；5%-20%；５％至２０％；下降5%(含)至10%的；比例为1:1；7月5日24:00截止"
    )
    found = [(p.kind, p.value, p.high, p.unit) for p in amount_phrases(text)]
    assert found == [
        (RATE, Decimal("0.1"), None, "元/千瓦时"),
        (RATE, Decimal("500"), None, "元/千瓦"),
        (RATE, Decimal("600"), None, "元/吨标煤"),
        (RATE, Decimal("5"), None, "元/m2"),
        (RATE, Decimal("10"), None, "元/平方米"),
        (RATE, Decimal("3000"), None, "元/亩"),
        (MONEY, Decimal("5000"), None, ""),
        (RATE, Decimal("200"), None, "元/月"),
        (RATE, Decimal("7000000"), None, "元/年"),
        (RATIO, Decimal("0.05"), Decimal("0.2"), ""),
        (RATIO, Decimal("0.05"), Decimal("0.2"), ""),
        (RATIO, Decimal("0.05"), Decimal("0.2"), ""),
        (RATIO, Decimal("0.05"), Decimal("0.1"), ""),
        (RATIO, Decimal("1"), None, ""),
    ]


def test_quote_numbers_keep_the_unit():
    assert quote_numbers("工业产值年度增量达到1亿元及以上", "元") == {Decimal(100_000_000)}
    assert quote_numbers("新购置面积超过2000平方米（含）以上", "平方米") == {Decimal(2000)}
    assert quote_numbers("新购置面积超过2000平方米", "元") == set()
    assert quote_numbers("投资期限两年以上", "年") == {Decimal(2)}
    assert quote_numbers("按照第1至3发", "发") == {Decimal(1), Decimal(3)}
    assert Decimal("0.05") in quote_numbers("研发投入占比5%以上", "%")


# --- printed numbering ---------------------------------------------------------------------------------------


def test_printed_structure_reads_items_sections_annex_and_end():
    text = "一、总则\n1. 甲。\n2. 乙\n续。\n四、环境\n(一)丙。\n(二)丁。\n五、附则\n附一。\n附二。\n上一条:页脚\n"
    spec = NumberingSpec(item=r"(\d+)\.\s*", sections=((r"^四、", r"[(（]([一二三四五六七八九十]+)[)）]", "{section}({item})"),),
                         annex=r"^五、附则$", end=r"^上一条")  # fmt: skip
    printed = printed_structure(spec, text)
    assert [(item.number, item.body) for item in printed.items] == [
        ("1", "甲。"), ("2", "乙续。"), ("四(一)", "丙。"), ("四(二)", "丁。")
    ]  # fmt: skip
    assert printed.annex_paragraphs == ["附一。", "附二。"]
    paragraphs = printed_structure(NumberingSpec(paragraphs=True, stray=("广告",)), "甲段\n广告乙段\n")
    assert [(item.number, item.body) for item in paragraphs.items] == [("P1", "甲段"), ("P2", "乙段")]


def test_numbering_of_articles_with_lists_and_of_sections_restarting_at_one():
    articles = FidelityFileSpec.model_validate(
        {"numbering": {"item": "(第[一二三四五六七八九十]+条)", "breaks": "(?!)"}, "printed_items": 2}
    )
    text = "通知\n第一条（目的）为了…\n第二条（对象）下列不支持：\n（一）甲；\n（二）乙。\n"
    printed = printed_structure(numbering_spec(articles), text)
    assert [(i.number, i.body) for i in printed.items] == [
        ("第一条", "（目的）为了…"),
        ("第二条", "（对象）下列不支持：（一）甲；（二）乙。"),
    ]
    sections = FidelityFileSpec.model_validate(
        {
            "numbering": {
                "sections": [
                    {
                        "heading": "^([一二三四五六七八九十]+)、",
                        "item": r"(\d+)\.",
                        "number": "{section}.{item}",
                    }
                ]
            }
        }
    )
    text = "一、领域\n1.甲\n2.乙\n二、条件\n1.丙\n续\n"
    printed = printed_structure(numbering_spec(sections), text)
    assert [(i.number, i.body) for i in printed.items] == [("一.1", "甲"), ("一.2", "乙"), ("二.1", "丙续")]


def test_full_width_numbering_of_a_fixture_spec():
    spec = FidelityFileSpec.model_validate(
        {"numbering": {"item": "([０-９]+)．(?![０-９])", "end": "^本文件自"}, "printed_items": 2}
    )
    printed = printed_structure(
        numbering_spec(spec), "１．甲\n２．乙，１．５倍\n本文件自２０２２年起施行．\n"
    )
    assert [item.number for item in printed.items] == ["１", "２"]


def test_fidelity_section_refuses_unknown_keys():
    with pytest.raises(ValueError, match="numbring"):
        FidelityFileSpec.model_validate({"numbring": {}, "numbering": {}})


# --- the checks themselves can fail --------------------------------------------------------------------------


class FakeBenefit:
    def __init__(self, key, cap=None, amount=None, ratio=None, amount_quote="", condition=None, **extra):
        self.key, self.cap, self.amount, self.ratio = key, cap, amount, ratio
        self.amount_quote, self.condition = amount_quote, condition
        self.base_fact = self.instalments = self.recognition_phrase = None
        self.requires_recognition = False
        self.__dict__.update(extra)


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


def _cap_outside_its_quote(clauses):
    clauses[0].benefits[0].amount_quote = "按照新增设备投资额的 10%给予支持"


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
        (_cap_outside_its_quote, ["clause 1", "cap 20000000 is not printed in its quote"]),
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


RATE_TEXT = "1. 光伏。按照并网规模给予1200元/千瓦奖励，单个项目最高不超过150万元；能耗下降5%(含)至10%的，按5%—20%给予。"


def rate_clause(**benefit) -> FakeClause:
    return FakeClause("1", RATE_TEXT[3:], benefits=[FakeBenefit("pv", **benefit)])


def test_rates_ranges_and_tiers_of_the_amount_rule_match_phrases():
    clause = rate_clause(
        cap=Decimal(1_500_000), amount_quote=RATE_TEXT[3:],
        amount_rule={"rate": "1200", "unit": "元/千瓦", "quantity_fact": "pv_capacity_kw",
                     "ratio_range": ["0.05", "0.2"],
                     "tiers": [{"from": "0.05", "to": "0.1", "ratio": "0.05", "quote": "能耗下降5%(含)至10%的"}]},
    )  # fmt: skip
    assert amount_problems(RATE_TEXT, [clause]) == []
    clause.benefits[0].amount_rule["rate"] = "1500"
    assert any("rate 1500" in p for p in amount_problems(RATE_TEXT, [clause]))
    clause.benefits[0].amount_rule["rate"] = "1200"
    clause.benefits[0].amount_rule["unit"] = "元/千瓦时"
    assert any(
        "rate 1200 元/千瓦时 but the text prints 1200元/千瓦" in p
        for p in amount_problems(RATE_TEXT, [clause])
    )
    clause.benefits[0].amount_rule["unit"] = "元/千瓦"
    clause.benefits[0].amount_rule["ratio_range"] = ["0.05", "0.3"]
    problems = " | ".join(amount_problems(RATE_TEXT, [clause]))
    assert "ratio_range[1] 0.3" in problems and "5%—20%" in problems


def test_dated_values_must_be_printed_in_their_quotes():
    clause = rate_clause(
        amount_quote="按照并网规模给予1200元/千瓦奖励，单个项目最高不超过150万元",
        cap=[{"from": D(2024, 1, 1), "value": 1_500_000, "quote": "单个项目最高不超过150万元"},
             {"from": D(2025, 1, 1), "value": 1_000_000, "quote": "单个项目最高不超过150万元"}],
        rate=Decimal(1200),
        figures=[],
    )  # fmt: skip
    clause.figures_not_benefits = [{"phrase": "能耗下降5%(含)至10%的，按5%—20%给予", "why": "test"}]
    problems = amount_problems(RATE_TEXT, [clause])
    assert problems == [
        "clause 1, benefit pv: cap[1] 1000000 is not printed in its quote (“单个项目最高不超过150万元”)"
    ]


def leaf_problems(leaf: dict, catalog=None, document=None) -> list[str]:
    clause = FakeClause("1", leaf["quote"], benefits=[FakeBenefit("b", condition={"all": [leaf]})])
    return condition_problems(document, [clause], catalog if catalog is not None else CATALOG)


def test_condition_numbers_must_be_printed_with_their_unit():
    leaf = {
        "fact": "output_value_increase",
        "op": "gte",
        "value": 100_000_000,
        "quote": "工业产值年度增量达到1亿元及以上",
    }
    assert leaf_problems(leaf) == []
    assert "10000000 is not printed with its unit 元" in " ".join(
        leaf_problems({**leaf, "value": 10_000_000})
    )
    area = {
        "fact": "new_factory_purchase_area_m2",
        "op": "gte",
        "value": 2000,
        "quote": "面积超过2000平方米（含）以上",
    }
    assert leaf_problems(area) == []
    assert leaf_problems({**area, "quote": "面积超过2000元（含）以上"}) != []


@pytest.mark.parametrize(
    ("op", "quote", "wrong"),
    [
        ("gte", "工业产值年度增量达到1亿元及以上", True),
        ("gt", "工业产值年度增量达到1亿元及以上", False),
        ("gte", "实缴资本超过1亿元的", False),
        ("gt", "实缴资本超过1亿元的", True),
        ("gte", "超过1亿元（含）", True),
        ("lte", "不超过1亿元", True),
        ("lt", "不超过1亿元", False),
        ("lt", "低于1亿元", True),
        ("gte", "不低于1亿元", True),
    ],
)
def test_inclusive_and_strict_bounds_follow_the_quote(op, quote, wrong):
    leaf = {"fact": "output_value_increase", "op": op, "value": 100_000_000, "quote": quote}
    assert (leaf_problems(leaf) == []) is wrong


def test_choices_must_be_named_in_the_quote():
    leaf = {
        "fact": "recognitions",
        "op": "contains",
        "value": "single_champion",
        "quote": "对获评工信部制造业单项冠军企业的",
    }
    assert leaf_problems(leaf) == []
    assert "little_giant" in " ".join(leaf_problems({**leaf, "value": "little_giant"}))
    # a level prefix of the label is not needed: 市级及以上企业技术中心 names the national centre too
    centre = {
        "fact": "recognitions",
        "op": "contains",
        "value": "tech_center_national",
        "quote": "市级及以上企业技术中心",
    }
    assert leaf_problems(centre) == []


def test_synonyms_are_data(tmp_path):
    (tmp_path / "synonyms").mkdir()
    (tmp_path / "facts.yaml").write_text(
        "- {code: exchange, type: enum, label_zh: 交易所, label_en: x, choices: "
        "[{value: sse, label_zh: 上海证券交易所, label_en: x}]}\n", encoding="utf-8")  # fmt: skip
    leaf = {"fact": "exchange", "op": "eq", "value": "sse", "quote": "沪深交易所"}
    assert leaf_problems(leaf, load_catalog(tmp_path)) != []
    (tmp_path / "synonyms" / "a.yaml").write_text(
        "- {fact: exchange, choice: sse, words: [沪深交易所]}\n", encoding="utf-8"
    )
    assert leaf_problems(leaf, load_catalog(tmp_path)) == []
    (tmp_path / "synonyms" / "b.yaml").write_text("- {fact: nothing, words: [x]}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown fact nothing"):
        load_catalog(tmp_path)


def test_base_instalments_and_recognition_are_in_the_words():
    text = "对符合条件的，经认定，按照租房总额的30%分三年给予补贴，上限500万元。"

    def problems(**fields) -> str:
        benefit = FakeBenefit("rent", cap=Decimal(5_000_000), ratio=Decimal("0.3"), base_fact="rent_total",
                              instalments=3, requires_recognition=True, recognition_phrase="经认定",
                              amount_quote="按照租房总额的30%分三年给予补贴，上限500万元")  # fmt: skip
        benefit.__dict__.update(fields)
        return " | ".join(benefit_problems([FakeClause("1", text, benefits=[benefit])], CATALOG))

    assert problems() == ""
    assert "base_fact new_equipment_investment" in problems(base_fact="new_equipment_investment")
    assert "instalments 2" in problems(instalments=2)
    assert "分三年" in problems(instalments=None)
    assert "requires_recognition is false" in problems(requires_recognition=False)
    assert "its quotes say 经认定" in problems(
        requires_recognition=False,
        recognition_phrase=None,
        amount_quote="经认定，按照租房总额的30%分三年给予补贴，上限500万元",
    )


@pytest.mark.parametrize(
    ("value", "quote", "jurisdiction", "named"),
    [
        ("310112", "在闵行区登记注册", "310112", True),  # the region's name
        ("310112", "依法在闵行设立或者实际经营的主体", "310112", True),  # without its ending
        ("310000", "努力推动上海走在全国前列", "310112", True),
        ("310112", "税收户管地在本区", "310112", True),  # the document's own district
        ("310000", "市级资金按照规定", "310000", True),  # the document's own city
        ("310000", "税收户管地在本区", "310000", False),  # 本区 is not a city
        ("310104", "税收户管地在本区", "310112", False),  # 本区 is the document's district only
        ("310104", "在闵行区登记注册", "310104", False),  # another region's name
        ("310000", "发挥区投资管理统一资金统筹平台功能", "310000", False),
    ],
)
def test_a_region_is_named_by_its_name_or_as_the_documents_own(value, quote, jurisdiction, named):
    leaf = {"fact": "registered_region", "op": "within", "value": value, "quote": quote}
    problems = leaf_problems(leaf, document={"jurisdiction": jurisdiction})
    assert (problems == []) is named, problems
    assert not any("is not printed" in p for p in problems)  # a region code is not a number


def test_a_region_not_in_the_tree_is_a_problem():
    leaf = {"fact": "operating_region", "op": "within", "value": "999999", "quote": "在本区"}
    assert "not a region of the region tree" in " ".join(
        leaf_problems(leaf, document={"jurisdiction": "999999"})
    )


def test_an_unstated_ratio_allows_a_presence_condition_an_unstated_level_no_number():
    ratio = {
        "fact": "project_investment",
        "op": "gt",
        "value": 0,
        "quote": "按项目总投资的一定比例给予资金支持",
    }
    assert leaf_problems(ratio) == []
    assert "leaves the ratio unstated" in " ".join(leaf_problems({**ratio, "value": 1_000_000}))
    level = {
        "fact": "output_value_increase",
        "op": "exists",
        "value": True,
        "quote": "年度产值增量达到一定规模",
    }
    assert leaf_problems(level) == []
    assert "leaves the level unstated" in " ".join(leaf_problems({**level, "op": "gt", "value": 0}))


def test_the_whole_of_a_base_is_the_ratio_one():
    assert [(p.kind, p.value) for p in amount_phrases("按实际发生费用予以支持，且不超过实际运维成本")] == [
        (RATIO, Decimal(1)),
        (RATIO, Decimal(1)),
    ]
    assert [p.text for p in amount_phrases("可按实际投入费用的50%给予补贴")] == ["50%"]


def test_a_condition_date_may_be_named_as_the_documents_own_date():
    leaf = {"fact": "ev_station_completed_on", "op": "gte", "value": "2025-04-01",
            "quote": "对自本办法实施之日起建成的示范小区充电设备"}  # fmt: skip
    assert leaf_problems(leaf, document={"effective_from": D(2025, 4, 1)}) == []
    assert "not printed" in " ".join(leaf_problems(leaf, document={"effective_from": D(2025, 5, 1)}))
    assert "not printed" in " ".join(leaf_problems(leaf, document={"published_on": D(2025, 4, 1)}))


@pytest.mark.parametrize(
    ("source", "start", "end", "ok"),
    [
        ("本办法自2025年4月1日起实施，有效期5年。", D(2025, 4, 1), D(2030, 3, 31), True),
        ("本办法自2025年4月1日起实施，有效期5年。", D(2025, 4, 1), D(2030, 4, 1), False),
        ("2025年7月31日\n本政策自印发之日起执行，试行期2年", D(2025, 7, 31), D(2027, 7, 30), True),
        ("2024年3月1日\n试行一年", D(2024, 3, 1), D(2025, 2, 28), True),
    ],
)
def test_effective_to_may_be_the_end_of_a_term_from_effective_from(source, start, end, ok):
    document = {"effective_from": start, "effective_to": end}
    assert (document_date_problems(document, source, None) == []) is ok


def test_recognition_said_in_another_clause_is_declared():
    clauses = [
        FakeClause("4", "区配套资金与市引导资金比例为1:1。", benefits=[
            FakeBenefit("match", ratio=Decimal(1), amount_quote="区配套资金与市引导资金比例为1:1",
                        requires_recognition=True)]),
        FakeClause("8", "项目通过验收后，一次性拨付到位。"),
    ]  # fmt: skip
    declared = {"benefits": ["4/match"], "clause": "8", "quote": "项目通过验收后", "why": "验收"}
    spec = FidelityFileSpec.model_validate({"numbering": {}, "recognition": [declared]})
    assert benefit_problems(clauses, CATALOG, spec) == []
    assert "without the words that say so" in " ".join(benefit_problems(clauses, CATALOG))
    clauses[0].benefits[0].requires_recognition = False
    assert "requires_recognition is false" in " ".join(benefit_problems(clauses, CATALOG, spec))
    wrong = FidelityFileSpec.model_validate(
        {"numbering": {}, "recognition": [{**declared, "benefits": ["4/other"], "quote": "经认定"}]}
    )
    problems = " | ".join(benefit_problems(clauses, CATALOG, wrong))
    assert "no benefit 4/other" in problems and "is not in clause 8" in problems


def test_document_dates_must_be_printed_or_declared():
    source = "2018年7月31日印发。三年行动计划(2018-2020年)"
    document = {
        "published_on": D(2018, 7, 31),
        "effective_from": D(2018, 7, 31),
        "effective_to": D(2020, 12, 31),
    }
    spec = FidelityFileSpec.model_validate(
        {"numbering": {}, "dates": {"effective_to": {"quote": "(2018-2020年)", "why": "计划期末"}}}
    )
    assert document_date_problems(document, source, spec) == []
    assert document_date_problems(document, source, None) == [
        "document effective_to 2020-12-31 is not printed in the text (nor declared in fidelity.dates)"
    ]
    assert "year is not in" in " ".join(
        document_date_problems({**document, "effective_to": D(2021, 12, 31)}, source, spec)
    )
    assert "before the text was issued" in " ".join(
        document_date_problems({**document, "effective_from": D(2018, 1, 1)}, source + "2018年1月1日", spec)
    )


# --- the command ---------------------------------------------------------------------------------------------


def test_check_fidelity_prints_ok_per_document_and_the_waivers(all_fixtures_loaded, db):
    for options in ([], ["--database"]):
        out = io.StringIO()
        call_command("check_fidelity", *options, stdout=out)  # raises CommandError on any problem
        lines = out.getvalue().splitlines()
        assert len([line for line in lines if line.endswith("clauses, ok")]) == len(FIXTURES), options
        figures = [
            f for path in FIXTURES for c in read(path)["clauses"] for f in c.get("figures_not_benefits") or []
        ]
        assert len([line for line in lines if line.startswith("  waived: clause ")]) == len(figures)


def test_check_fidelity_fails_on_a_broken_file_and_names_it(tmp_path):
    data = read(FIXTURES[0])
    data["clauses"][0]["number"] = "99"
    path = tmp_path / FIXTURES[0].name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 document"):
        call_command("check_fidelity", str(path), stdout=out)
    assert "failed" in out.getvalue() and "clause 99" in out.getvalue()


MADE_UP_TEXT = """某区节能专项资金管理办法

第一条（目的）为推进节能降碳，制定本办法。
第二条（扶持标准）对年节能量达到30吨标准煤以上的项目，经认定，按照投资额的30%给予补贴，最高不超过50万元，分两年拨付。下列项目不予支持：
（一）已获其他区级资金支持的；
（二）失信的。
第三条（施行）本办法自2024年12月1日起施行，有效期至2026年11月30日。
"""


def made_up_fixture() -> dict:
    clause = {"number": "第二条", "kind": "subsidy", "title": None,
              "text": "（扶持标准）对年节能量达到30吨标准煤以上的项目，经认定，按照投资额的30%给予补贴，最高不超过50万元，"
                      "分两年拨付。下列项目不予支持：（一）已获其他区级资金支持的；（二）失信的。",
              "benefits": [{"key": "saving", "name": "节能补贴", "kind": "ratio", "cap": 500000, "ratio": 0.3,
                            "base_fact": "project_investment", "instalments": 2, "requires_recognition": True,
                            "recognition_phrase": "经认定",
                            "amount_quote": "按照投资额的30%给予补贴，最高不超过50万元，分两年拨付",
                            "condition": {"all": [{"fact": "energy_saved_tce", "op": "gte", "value": 30,
                                                   "quote": "年节能量达到30吨标准煤以上"}]}}]}  # fmt: skip
    return {
        "document": {"key": "made-up-saving", "title": "某区节能专项资金管理办法", "issuer": "某区", "level": "district",
                     "source_file": "made_up.txt", "effective_from": D(2024, 12, 1), "effective_to": D(2026, 11, 30),
                     "status": "in_force"},
        "fidelity": {"numbering": {"item": "(第[一二三四五六七八九十]+条)", "breaks": "(?!)"}, "printed_items": 3},
        "clauses": [
            {"number": "第一条", "kind": "goal", "text": "（目的）为推进节能降碳，制定本办法。"},
            clause,
            {"number": "第三条", "kind": "annex", "text": "（施行）本办法自2024年12月1日起施行，有效期至2026年11月30日。"},
        ],
    }  # fmt: skip


def test_a_new_corpus_text_is_checked_from_its_fixture_alone(settings, tmp_path):
    """A text in the corpus folder and its fixture: no code names them, the command finds and checks them."""
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "made_up.txt").write_text(MADE_UP_TEXT, encoding="utf-8")
    settings.POLICY_CORPUS_DIR = str(tmp_path / "corpus")
    facts = tmp_path / "facts"
    facts.mkdir()
    (facts / "made_up.yaml").write_text(
        "- {code: project_investment, type: money, unit: 元, label_zh: 投资额, label_en: x}\n"
        "- {code: energy_saved_tce, type: decimal, unit: 吨标准煤, label_zh: 年节能量, label_en: x}\n",
        encoding="utf-8",
    )

    def run(data: dict) -> str:
        path = tmp_path / "made_up.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        out = io.StringIO()
        try:
            call_command("check_fidelity", str(path), "--facts", str(facts), stdout=out)
        except CommandError:
            return "FAILED\n" + out.getvalue()
        return out.getvalue()

    assert run(made_up_fixture()).strip() == "made_up.txt → made-up-saving: 3 clauses, ok"
    for edit, words in [
        (lambda d: d["clauses"][1]["benefits"][0].update(instalments=3), "instalments 3"),
        (
            lambda d: d["clauses"][1]["benefits"][0]["condition"]["all"][0].update(value=300),
            "300 is not printed",
        ),
        (lambda d: d["clauses"][1]["benefits"][0]["condition"]["all"][0].update(op="gt"), "op gt"),
        (lambda d: d["document"].update(effective_to=D(2026, 12, 31)), "effective_to 2026-12-31"),
        (lambda d: d["fidelity"].update(printed_items=4), "printed_items is 4"),
        (lambda d: d["fidelity"]["numbering"].pop("breaks"), "not the whole printed item"),
    ]:
        data = made_up_fixture()
        edit(data)
        output = run(data)
        assert output.startswith("FAILED") and words in output, (words, output)
