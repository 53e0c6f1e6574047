"""Gap analysis (missing facts, nearest thresholds, what-if) and stacking (no database)."""

from decimal import Decimal

from matching.engine import Status, best_total, explain, nearest_gaps, rank_missing_facts, what_if
from matching.tests.engine_support import AS_OF, CATALOG, leaf, spec
from policies.amount_rules import AmountRuleSpec


def verdict(benefit, facts):
    return explain(benefit, facts, as_of=AS_OF, catalog=CATALOG)


def test_missing_facts_are_ranked_by_the_money_they_could_unlock():
    small = spec(leaf("employees", "gte", 10), global_key="d/1/small", cap=Decimal(150_000))
    big = spec(leaf("area", "gte", 5000), global_key="d/2/big", cap=Decimal(10_000_000))
    both = spec(
        {"all": [leaf("employees", "gte", 10), leaf("level", "eq", "district")]},
        global_key="d/3/both",
        cap=Decimal(200_000),
    )
    unknown_money = spec(leaf("recognitions", "contains", "little_giant"), global_key="d/4/open", cap=None)
    verdicts = [verdict(s, {}) for s in (small, big, both, unknown_money)]
    ranked = rank_missing_facts(verdicts, CATALOG)
    assert [(m.code, m.could_unlock, m.benefits) for m in ranked] == [
        ("area", Decimal(10_000_000), ("d/2/big",)),
        ("employees", Decimal(350_000), ("d/1/small", "d/3/both")),
        ("level", Decimal(200_000), ("d/3/both",)),
        ("recognitions", None, ("d/4/open",)),
    ]
    assert ranked[0].label == "新租赁自用工业厂房面积"


def test_only_facts_that_could_change_the_verdict_are_asked_for():
    tree = {
        "all": [
            leaf("area", "gte", 5000),
            {"any": [leaf("employees", "gte", 1), leaf("level", "eq", "district")]},
        ]
    }
    result = verdict(spec(tree), {"area": 6000, "employees": 3, "level": None})
    assert result.status is Status.ELIGIBLE  # the any is already met: level does not matter
    assert result.missing_facts == ()
    assert verdict(spec(tree), {"area": 10, "employees": None}).missing_facts == ()  # not eligible anyway


def test_nearest_unmet_thresholds_come_first():
    tree = {
        "all": [
            leaf("area", "gte", 5000),
            leaf("investment", "gte", 10_000_000),
            leaf("recognitions", "contains", "little_giant"),
            leaf("employees", "between", [10, 300]),
            leaf("key_project", "eq", True),
        ]
    }
    facts = {
        "area": 4800,
        "investment": 2_000_000,
        "recognitions": set(),
        "employees": 320,
        "key_project": True,
    }
    result = verdict(spec(tree), facts)
    assert result.status is Status.NOT_ELIGIBLE
    gaps = nearest_gaps(result, CATALOG)
    assert [g.text for g in gaps] == [
        "新租赁自用工业厂房面积 4800 平方米，需 ≥ 5000 平方米",  # 4% short
        "上年度从业人员数 320 人，需 ≤ 300 人",  # 6.7% over
        "新增设备投资额 200 万元，需 ≥ 1000 万元",  # 80% short
        "已获认定与荣誉包含“国家级专精特新“小巨人”企业”（当前：无）",
    ]
    assert [g.shortfall for g in gaps] == [Decimal(200), Decimal(20), Decimal(8_000_000), None]


def test_any_lists_every_unmet_alternative_and_not_is_skipped():
    tree = {
        "all": [
            {"any": [leaf("area", "gte", 5000), leaf("employees", "gte", 100)]},
            {"not": leaf("level", "eq", "district")},
        ]
    }
    result = verdict(spec(tree), {"area": 10, "employees": 99, "level": "district"})
    assert [g.reason.fact for g in nearest_gaps(result, CATALOG)] == ["employees", "area"]


RATIO = {"kind": "ratio", "cap": Decimal(20_000_000), "ratio": Decimal("0.10"), "base_fact": "investment"}


def test_what_if_the_base_grows():
    result = verdict(spec(None, **RATIO), {"investment": 50_000_000})
    scenario = what_if(result, CATALOG)
    assert (
        scenario.text
        == "新增设备投资额再增加 1000 万元 → 支持金额增加 100 万元，至上限 2000 万元（新增设备投资额达到 20000 万元 时封顶）"
    )
    assert (scenario.increase, scenario.amount_now, scenario.amount_after) == (
        Decimal(10_000_000),
        Decimal(5_000_000),
        Decimal(6_000_000),
    )
    near_cap = what_if(
        verdict(spec(None, **RATIO), {"investment": 195_000_000}), CATALOG, Decimal(10_000_000)
    )
    assert near_cap.gain == Decimal(500_000)  # only up to the cap
    capped = what_if(verdict(spec(None, **RATIO), {"investment": 300_000_000}), CATALOG)
    assert (capped.gain, capped.text) == (
        Decimal(0),
        "已达上限 2000 万元，新增设备投资额再增加也不会提高支持金额",
    )


def test_no_what_if_without_a_known_base_or_a_ratio():
    assert what_if(verdict(spec(None, **RATIO), {}), CATALOG) is None
    assert what_if(verdict(spec(None), {}), CATALOG) is None
    not_eligible = verdict(spec(leaf("area", "gte", 5000), **RATIO), {"area": 1, "investment": 5})
    assert what_if(not_eligible, CATALOG) is None


def test_no_what_if_when_the_amount_reads_another_fact_too():
    """Found by mypy: a ratio benefit whose cap is a ratio of another fact ("且不超过投资额的30%")
    raised TypeError (None - Decimal), the base alone does not give the amount after."""
    rule = AmountRuleSpec(cap_ratio=Decimal("0.3"), cap_base_fact="area")
    result = verdict(spec(None, amount_rule=rule, **RATIO), {"investment": 50_000_000, "area": 90_000_000})
    assert result.status is Status.ELIGIBLE and result.potential.value == Decimal(5_000_000)
    assert what_if(result, CATALOG) is None


def _verdict_with(key, cap, group, facts=None, requires_recognition=False):
    benefit = spec(
        leaf("area", "gte", 5000),
        global_key=key,
        cap=cap,
        stacking_group=group,
        requires_recognition=requires_recognition,
    )
    return verdict(benefit, facts if facts is not None else {"area": 6000})


def test_best_total_takes_one_benefit_per_stacking_group():
    municipal = _verdict_with("d/10/municipal", Decimal(10_000_000), "tech-upgrade")
    district = _verdict_with("d/10/district", Decimal(20_000_000), "tech-upgrade", requires_recognition=True)
    lone = _verdict_with("d/11/lone", Decimal(150_000), None)
    needs_info = _verdict_with("d/12/unknown", Decimal(99_000_000), None, facts={})
    not_eligible = _verdict_with("d/13/no", Decimal(99_000_000), None, facts={"area": 1})
    stack = best_total([municipal, district, lone, needs_info, not_eligible])
    # these are ceilings ("上限"): listed apart from the computed total, and still one per group
    assert stack.total == Decimal(0)
    assert stack.ceiling_total == Decimal(20_150_000)  # not 30,150,000: the two tiers do not add up
    assert {v.spec.global_key for v in stack.chosen} == {"d/10/district", "d/11/lone"}
    assert [(lost.spec.global_key, won.spec.global_key) for lost, won in stack.excluded] == [
        ("d/10/municipal", "d/10/district")
    ]
    assert stack.has_unfixed is False


def test_a_figure_beats_no_figure_and_unfixed_amounts_are_flagged():
    open_amount = _verdict_with("d/1/open", None, "g")
    fixed = _verdict_with("d/1/fixed", Decimal(1), "g")
    stack = best_total([open_amount, fixed])
    assert [v.spec.global_key for v in stack.chosen] == ["d/1/fixed"]
    alone = best_total([_verdict_with("d/2/open", None, None)])
    assert (alone.total, alone.has_unfixed) == (Decimal(0), True)
