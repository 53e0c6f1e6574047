"""The extended rule model refuses bad data clearly and leaves the database as it was; the amount
shapes and formulas compute what the texts say (figures worked out by hand)."""

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from matching.engine import AmountBasis, BenefitSpec
from matching.engine.amounts import potential_amount
from policies import amount_rules, formulas
from policies.loader import catalog_paths, load_files
from policies.models import Benefit, PolicyDocument

HERE = Path(__file__).resolve().parent / "rule_model"
D = Decimal


# --- amounts --------------------------------------------------------------------------------------------


def spec(**rule) -> BenefitSpec:
    columns = {name: D(rule.pop(name)) for name in ("cap", "amount", "ratio") if name in rule}
    if "base_fact" in rule:
        columns["base_fact"] = rule.pop("base_fact")
    return BenefitSpec(
        global_key="d/1/b",
        name="b",
        kind="ratio",
        amount_rule=amount_rules.parse(rule) if rule else None,
        **columns,
    )


ON = dt.date(2025, 6, 1)


def test_per_unit_rate_has_no_upper_bound_and_takes_its_unit():
    benefit = spec(rate="600", unit="元/千瓦", quantity_fact="kw", cap="300000")
    assert potential_amount(benefit, {"kw": D(400)}, ON).value == D("240000.00")  # 600 × 400
    capped = potential_amount(benefit, {"kw": D(1000)}, ON)
    assert capped.value == D(300000) and capped.basis is AmountBasis.CAPPED
    assert potential_amount(benefit, {"kw": None}, ON).basis is AmountBasis.BASE_UNKNOWN


def test_a_ratio_range_is_a_range_never_its_top():
    benefit = spec(ratio_range=["0.05", "0.20"], base_fact="cost", cap="1000000")
    amount = potential_amount(benefit, {"cost": D(4_000_000)}, ON)
    assert (amount.value, amount.high, amount.basis) == (D("200000.00"), D("800000.00"), AmountBasis.RANGE)
    top_capped = potential_amount(benefit, {"cost": D(10_000_000)}, ON)
    assert (top_capped.value, top_capped.high) == (D("500000.00"), D(1000000))


def test_tiers_by_band_and_marginal():
    bands = [
        {"from": "0.05", "to": "0.10", "rate": "5", "quote": "5元"},
        {"from": "0.10", "to": "0.15", "rate": "10", "quote": "10元"},
        {"from": "0.15", "rate": "15", "quote": "15元"},
    ]
    benefit = spec(tiers=bands, tier_fact="saving", quantity_fact="m2", unit="元/平方米")
    assert potential_amount(benefit, {"saving": D("0.10"), "m2": D(1000)}, ON).value == D("10000.00")
    assert potential_amount(benefit, {"saving": D("0.04"), "m2": D(1000)}, ON).value == D("0.00")
    # 超出1000万元的部分按5%，超出5000万元的部分按2%: 8000万 → 4000万×5% + 3000万×2%
    marginal = spec(
        tiers=[
            {"from": "10000000", "to": "50000000", "ratio": "0.05", "quote": "5%"},
            {"from": "50000000", "ratio": "0.02", "quote": "2%"},
        ],
        tier_fact="revenue",
        tiers_marginal=True,
    )
    assert potential_amount(marginal, {"revenue": D(80_000_000)}, ON).value == D("2600000.00")


def test_the_smallest_of_rate_cap_and_ratio_cap():
    # 600元/吨标煤, 且不超过50万元、不超过投资额的30%
    benefit = spec(
        rate="600",
        unit="元/吨标煤",
        quantity_fact="tce",
        cap="500000",
        cap_ratio="0.30",
        cap_base_fact="invest",
    )
    assert potential_amount(benefit, {"tce": D(500), "invest": D(2_000_000)}, ON).value == D("300000.00")
    assert potential_amount(benefit, {"tce": D(500), "invest": D(500_000)}, ON).value == D("150000.00")
    assert potential_amount(benefit, {"tce": D(5000), "invest": D(9_000_000)}, ON).value == D(500000)


def test_yearly_schedules_declining_factors_and_caps():
    # 80% then 50% of the rate, per year, capped at 10 万元 a year, 3 years, at most 25 万元 in total
    benefit = spec(
        rate="1",
        unit="元/千瓦时",
        quantity_fact="kwh",
        cap_per_year="100000",
        cap_total="250000",
        schedule={"years": 3, "year_factors": ["0.8", "0.5", "0.5"], "quote": "q"},
    )
    amount = potential_amount(benefit, {"kwh": D(150_000)}, ON)
    # 120000 → 100000 (year cap), 75000, 75000 = 250000 (= the total cap)
    assert [p.value for p in amount.payments] == [D(100000), D("75000.00"), D("75000.00")]
    assert amount.value == D(250000) and amount.years == 3 and amount.per_year == D(100000)


def test_unequal_shares_and_stages_add_up():
    shares = spec(amount="1000000", schedule={"shares": ["0.5", "0.3", "0.2"], "quote": "5:3:2"})
    assert [p.value for p in potential_amount(shares, {}, ON).payments] == [
        D("500000.00"),
        D("300000.00"),
        D("200000.00"),
    ]
    with pytest.raises(ValueError, match="not 1"):
        amount_rules.parse({"schedule": {"stages": [{"share": "0.3", "after": "a"}], "quote": "q"}})


def test_dated_values_follow_the_date():
    benefit = spec(
        ratio="0.1",
        base_fact="x",
        cap="5000000",
        dated={
            "cap": [
                {"from": "2025-01-01", "value": "5000000", "quote": "a"},
                {"from": "2026-01-01", "value": "3000000", "quote": "b"},
            ]
        },
    )
    assert potential_amount(benefit, {"x": D(80_000_000)}, dt.date(2025, 12, 31)).value == D(5000000)
    assert potential_amount(benefit, {"x": D(80_000_000)}, dt.date(2026, 1, 1)).value == D(3000000)


@pytest.mark.parametrize(
    "rule, words",
    [
        ({"rate": "1"}, "unit and quantity_fact"),
        ({"ratio_range": ["0.2", "0.1"]}, "above high"),
        ({"tiers": [{"from": 1, "amount": 1, "rate": 1, "quote": "q"}], "tier_fact": "x"}, "exactly one"),
        ({"schedule": {"shares": ["0.5", "0.4"], "quote": "q"}}, "not 1"),
        ({"cap_ratio": "0.3"}, "go together"),
    ],
)
def test_malformed_amount_rules_are_refused(rule, words):
    with pytest.raises(ValueError, match=words):
        amount_rules.parse(rule)


# --- formulas -------------------------------------------------------------------------------------------


def test_formulas_compute_and_unknown_is_unknown():
    ratio = formulas.parse("investment / land")
    assert formulas.evaluate(ratio, {"investment": D(100), "land": D(4)}, ON) == D(25)
    assert formulas.evaluate(ratio, {"investment": D(100), "land": D(0)}, ON) is None  # ÷ 0
    assert formulas.evaluate(ratio, {"investment": D(100)}, ON) is None  # a missing input
    age = formulas.parse("years_between(founded, as_of)")
    assert formulas.evaluate(age, {"founded": dt.date(2020, 6, 2)}, ON) == D(4)
    assert formulas.evaluate(
        formulas.parse("days_between(grid, as_of)"), {"grid": dt.date(2025, 5, 1)}, ON
    ) == D(31)


@pytest.mark.parametrize(
    "text",
    ["__import__('os').system('x')", "a.b", "a ** 2", "a if b else c", "'text'", "open(a)", "[a]", "a < b"],
)
def test_formulas_refuse_anything_but_arithmetic(text):
    with pytest.raises(formulas.FormulaError):
        formulas.parse(text)


# --- the loader refuses bad rule data and writes nothing -----------------------------------------------


@pytest.fixture
def fixture_dir(tmp_path):
    for name in ("items.yaml", "facts.yaml", "a_county.yaml", "b_other.yaml"):
        shutil.copy(HERE / name, tmp_path / name)
    return tmp_path


def _load(fixture_dir: Path):
    base = catalog_paths()
    names = ("items.yaml", "facts.yaml", "b_other.yaml", "a_county.yaml")
    return load_files([fixture_dir / "items.yaml", *base, *(fixture_dir / n for n in names[1:])])


def _edit(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _county_benefit(data, key):
    return next(b for c in data["clauses"] for b in c.get("benefits") or [] if b["key"] == key)


BAD_EDITS = {
    "an unknown region": (lambda d: d["document"].update(jurisdiction="999999"), "jurisdiction"),
    "an applicability quote not in its clause": (
        lambda d: d["document"]["applicability"]["all"][0].update(quote="全国所有企业"),
        "applicability",
    ),
    "a condition citing a clause that does not exist": (
        lambda d: _county_benefit(d, "pv-kwh")["condition"]["all"][0].update(clause="99"),
        "99",
    ),
    "a rate without its unit": (lambda d: _county_benefit(d, "pv-kwh").pop("unit"), "unit"),
    "stages not adding up to 100%": (
        lambda d: _county_benefit(d, "new-project-award")["schedule"]["stages"][2].update(share=0.3),
        "not 1",
    ),
    "an unknown item kind": (
        lambda d: _county_benefit(d, "pv-kwh").update(per_item="no_such_kind"),
        "per_item",
    ),
    "a dated value outside the document's dates": (
        lambda d: _county_benefit(d, "equipment")["cap"][1].update({"from": dt.date(2030, 1, 1)}),
        "outside the document",
    ),
    "an undeclared exclusion group": (
        lambda d: _county_benefit(d, "equipment").update(exclusion_groups=["nobody-declared-this"]),
        "declared in no loaded file",
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_EDITS))
def test_the_loader_refuses_bad_rule_data(fixture_dir, case):
    change, words = BAD_EDITS[case]
    _edit(fixture_dir / "a_county.yaml", change)
    reports, errors = _load(fixture_dir)
    assert [error.path.name for error in errors] == ["a_county.yaml"]
    message = "\n".join(errors[0].messages)
    assert words in message and "a_county.yaml" in message
    assert not PolicyDocument.objects.filter(key="test-liuhe-industry").exists()
    assert PolicyDocument.objects.filter(key="test-jilin-fund").exists()  # the other file loaded


@pytest.mark.django_db
@pytest.mark.parametrize(
    "formula, words",
    [
        ("no_such_fact * 2", "unknown fact"),
        ("test_investment_per_mu + 1", "cycle"),
        ("registered_region * 2", "region"),
    ],
)
def test_the_loader_refuses_bad_formulas(fixture_dir, formula, words):
    def change(facts):
        next(f for f in facts if f["code"] == "test_investment_per_mu")["formula"] = formula

    _edit(fixture_dir / "facts.yaml", change)
    reports, errors = _load(fixture_dir)
    assert any(error.path.name == "facts.yaml" and words in "\n".join(error.messages) for error in errors)


@pytest.mark.django_db
def test_a_good_load_is_idempotent(fixture_dir):
    assert _load(fixture_dir)[1] == []
    versions = dict(Benefit.objects.values_list("key", "version"))
    reports, errors = _load(fixture_dir)
    assert errors == [] and not any(report.changed for report in reports)
    assert dict(Benefit.objects.values_list("key", "version")) == versions
