"""Per-enterprise cap groups ("同一企业每年累计不超过X万元"): figures worked out by hand, the same on
both engine paths (per-item benefits summed per enterprise), and the best total across benefits."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import (
    AmountBasis,
    BenefitSpec,
    CatalogFact,
    FactColumns,
    best_total,
    evaluate_table,
    explain,
)
from policies import amount_rules

D = Decimal
ON = dt.date(2025, 6, 1)
CATALOG = {
    fact.code: fact
    for fact in (
        CatalogFact("tonnes", "decimal", "减排量", "吨"),
        CatalogFact("cost", "money", "投资额", "元"),
        CatalogFact("ok", "bool", "已验收"),
    )
}
YEARLY = {"key": "firm-yearly", "name": "每年累计", "period": "year", "limit": "1000000", "clause": "1",
          "quote": "同一企业每年累计不超过100万元"}  # fmt: skip
TOTAL = {**YEARLY, "key": "firm-total", "period": "total", "limit": "3000000",
         "quote": "同一企业累计不超过300万元"}  # fmt: skip


def per_tonne(group, **rule) -> BenefitSpec:
    """15万元/吨 per project (item), held to the group per enterprise."""
    data = {"rate": "150000", "unit": "元/吨", "quantity_fact": "tonnes", "cap_group": group, **rule}
    return BenefitSpec(
        global_key="d/1/per-tonne",
        name="按吨补贴",
        kind="lump_sum",
        per_item="project",
        amount_rule=amount_rules.parse(data),
        condition={"fact": "ok", "op": "eq", "value": True, "quote": "已验收"},
        document_key="d",
    )


@dataclass(frozen=True)
class Item:
    id: int
    title: str
    values: dict
    source: str = "test"


def _single(spec, tonnes_by_item):
    items = [Item(i, f"p{i}", {"tonnes": t, "ok": True}) for i, t in enumerate(tonnes_by_item, start=1)]
    return explain(spec, {}, as_of=ON, catalog=CATALOG, items=items).amount


def test_total_group_below_at_and_above_the_limit():
    spec = per_tonne(TOTAL)
    below = _single(spec, [D(10), D(9)])  # 150 + 135 = 285 万元
    assert (below.value, below.basis, below.group_capped) == (D("2850000.00"), AmountBasis.COMPUTED, False)
    at = _single(spec, [D(10), D(10)])  # 150 + 150 = 300 万元: the limit itself, not cut
    assert (at.value, at.basis, at.group_capped) == (D("3000000.00"), AmountBasis.COMPUTED, False)
    above = _single(spec, [D(15), D(15)])  # 225 + 225 = 450 万元 → 300 万元
    assert (above.value, above.basis, above.group_capped) == (D("3000000.00"), AmountBasis.CAPPED, True)
    alone = _single(spec, [D(25)])  # one project of 375 万元 is held to the enterprise's 300 万元 too
    assert (alone.value, alone.group_capped) == (D("3000000.00"), True)


def test_yearly_group_caps_each_year_of_yearly_payments():
    # each project 4 吨 × 15万元 = 60 万元 a year for 3 years; two projects: 120 万元 a year → 100 万元
    spec = per_tonne(YEARLY, schedule={"years": 3, "quote": "连续3年"})
    one = _single(spec, [D(4)])
    assert (one.value, one.per_year, one.years, one.group_capped) == (
        D("1800000.00"),
        D("600000.00"),
        3,
        False,
    )
    two = _single(spec, [D(4), D(4)])
    assert two.value == D("3000000.00") and two.basis is AmountBasis.CAPPED and two.group_capped
    # a one-time award counts in one year: 7 + 7 吨 = 210 万元 → 100 万元
    once = _single(per_tonne(YEARLY), [D(7), D(7)])
    assert (once.value, once.group_capped) == (D("1000000.00"), True)


def _spec(key, amount, group):
    return BenefitSpec(
        global_key=f"d/1/{key}",
        name=key,
        kind="lump_sum",
        amount_rule=amount_rules.parse({"cap_group": group}),
        amount=D(amount),
        document_key="d",
    )


def test_best_total_holds_benefits_of_one_group_to_the_limit_together():
    group = {**YEARLY, "limit": "1000000"}
    for amounts, total, capped in (
        (("400000", "500000"), D("900000"), False),  # below: 40 + 50 万元
        (("400000", "600000"), D("1000000"), False),  # at: 40 + 60 万元 = 100 万元
        (("400000", "800000"), D("1000000.00"), True),  # above: 40 + 80 万元 → 100 万元
    ):
        verdicts = [
            explain(_spec(f"b{i}", a, group), {}, as_of=ON, catalog=CATALOG) for i, a in enumerate(amounts)
        ]
        verdicts.append(explain(_spec("free", "200000", None), {}, as_of=ON, catalog=CATALOG))  # in no group
        stack = best_total(verdicts)
        assert stack.total == total + D(200000), amounts
        assert stack.high_total == stack.total and not stack.has_range
        assert bool(stack.capped) is capped
        if capped:
            assert (stack.capped[0].before, stack.capped[0].after) == (D(1200000), D("1000000.00"))
            assert stack.capped[0].note == "同一企业每年累计不超过 100 万元，已按上限计"


def test_the_group_is_worded_in_the_amount_terms():
    rule = amount_rules.parse({"cap_group": TOTAL})
    assert "同一企业累计不超过 300 万元" in amount_rules.describe(rule)


@dataclass
class Items:
    owner: list
    ids: list
    columns: dict


TONNES = st.none() | st.sampled_from([D(0), D(1), D(4), D(7), D("6.67"), D(10), D(20), D(-3)])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    firms=st.lists(
        st.lists(st.tuples(TONNES, st.none() | st.booleans()), max_size=4), min_size=1, max_size=8
    ),
    group=st.sampled_from([None, YEARLY, TOTAL]),
    yearly=st.booleans(),
)
def test_both_paths_agree_on_cap_groups_over_items(firms, group, yearly):
    spec = per_tonne(group, **({"schedule": {"years": 3, "quote": "连续3年"}} if yearly else {}))
    owner, ids, tonnes, ok = [], [], [], []
    for row, projects in enumerate(firms):
        for t, flag in projects:
            owner.append(row)
            ids.append(len(ids) + 1)
            tonnes.append(t)
            ok.append(flag)
    table = FactColumns(
        {}, len(firms), CATALOG, items={"project": Items(owner, ids, {"tonnes": tonnes, "ok": ok})}
    )
    bulk = evaluate_table(spec, table, ON)
    for row, projects in enumerate(firms):
        items = [Item(i, f"p{i}", {"tonnes": t, "ok": flag}) for i, (t, flag) in enumerate(projects, start=1)]
        single = explain(spec, {}, as_of=ON, catalog=CATALOG, items=items or None)
        assert (bulk.status_slug(row), bulk.amount(row)) == (single.status.slug, single.amount), projects
        if group is not None and single.amount.value is not None:
            limit = D(group["limit"]) * (3 if yearly and group["period"] == "year" else 1)
            assert single.amount.value <= limit
