"""engine.input_digests: a full run skips the enterprises whose digest is as stored, so the digest
must change with every input a verdict reads (a fact value, an item, the plan) and with nothing else."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from matching.engine import FactColumns, input_digests
from matching.engine.fingerprint import plan_signature
from matching.tests.engine_support import CATALOG, spec

CODES = ["area", "district", "employees", "recognitions", "registered_on"]


@dataclass
class Items:
    owner: list[int]
    ids: list[int]
    columns: dict[str, list] = field(default_factory=dict)


def digests(columns: dict, items: Items | None = None, signature: int = 7, codes=CODES) -> list[int]:
    n = len(next(iter(columns.values())))
    table = FactColumns(columns, n, CATALOG, {"project": items} if items else None)
    return input_digests(table, [*codes, "investment"], signature).tolist()


def base() -> dict:
    return {
        "area": [Decimal("5000"), Decimal("5000.00"), None],
        "district": ["闵行区", "闵行区", "浦东新区"],
        "employees": [10, 10, None],
        "recognitions": [frozenset({"little_giant"}), frozenset({"little_giant"}), frozenset()],
        "registered_on": [dt.date(2020, 1, 1), dt.date(2020, 1, 1), None],
    }


def test_equal_inputs_equal_digests_and_any_changed_value_changes_its_row_only():
    first = digests(base())
    assert first[0] == first[1] != first[2]  # 5000 and 5000.00 are one value
    assert digests(base()) == first
    for code, value in [
        ("area", Decimal("4999.99")),
        ("district", "徐汇区"),
        ("employees", None),
        ("recognitions", frozenset()),
        ("registered_on", dt.date(2020, 1, 2)),
    ]:
        changed = base()
        changed[code][1] = value
        after = digests(changed)
        assert after[1] != first[1] and after[0] == first[0] and after[2] == first[2], code


def test_items_count_by_id_and_value_in_any_order_and_the_plan_counts_too():
    items = Items(owner=[0, 0, 1], ids=[11, 12, 13], columns={"investment": [Decimal(1), Decimal(2), None]})
    with_items = digests(base(), items)
    assert with_items[0] != digests(base())[0] and with_items[1] != with_items[0]
    swapped = Items(owner=[0, 0, 1], ids=[12, 11, 13], columns={"investment": [Decimal(2), Decimal(1), None]})
    assert digests(base(), swapped) == with_items
    other_id = Items(
        owner=[0, 0, 1], ids=[11, 14, 13], columns={"investment": [Decimal(1), Decimal(2), None]}
    )
    assert digests(base(), other_id)[0] != with_items[0]
    other_value = Items(
        owner=[0, 0, 1], ids=[11, 12, 13], columns={"investment": [Decimal(1), Decimal(3), None]}
    )
    assert digests(base(), other_value)[0] != with_items[0]
    assert digests(base(), other_value)[1:] == with_items[1:]  # the other enterprises' items are theirs
    assert digests(base(), signature=8) != digests(base())
    assert digests(base(), codes=CODES[:-1]) != digests(base())  # a fact more or less read


def test_the_plan_signature_follows_every_benefit_its_version_and_the_regions():
    specs = [spec(benefit_id=1, global_key="a"), spec(benefit_id=2, global_key="b")]
    signature = plan_signature(specs, "in_force", {("district", "闵行区"): "310112"})
    assert signature == plan_signature(specs, "in_force", {("district", "闵行区"): "310112"})
    assert isinstance(signature, int) and 0 <= signature < 2**64
    assert plan_signature(specs[:1], "in_force", {("district", "闵行区"): "310112"}) != signature
    bumped = [specs[0], spec(benefit_id=2, global_key="b", version=specs[1].version + 1)]
    assert plan_signature(bumped, "in_force", {("district", "闵行区"): "310112"}) != signature
    assert plan_signature(specs, "in_force", {("district", "闵行区"): "310113"}) != signature
    assert np.uint64(signature)  # fits the digest's seed
