"""Cap groups in policy files: the loader stores each benefit's group in its amount rule, and refuses
an unknown group, a limit not above 0, a quote not in the cited clause, naming file, clause and field,
with the database unchanged."""

import pytest

from policies.models import Benefit, PolicyDocument
from policies.rules.caps import lint_cap_groups
from policies.tests.test_rule_model_input import _county_benefit, _edit, _load, fixture_dir  # noqa: F401

QUOTE = "同一企业每年累计不超过200万元"


def _with_group(data, **changes):
    clause = next(c for c in data["clauses"] if c["number"] == "3")
    clause["text"] += QUOTE + "。"
    group = {"key": "test-liuhe-yearly", "name": "每年累计上限", "period": "year", "limit": 2000000,
             "clause": "3", "quote": QUOTE}  # fmt: skip
    group.update(changes)
    data["cap_groups"] = [group]
    for key in ("new-project-award", "equipment"):
        _county_benefit(data, key)["cap_group"] = "test-liuhe-yearly"


@pytest.mark.django_db
def test_a_cap_group_is_stored_with_each_benefit_that_names_it(fixture_dir):  # noqa: F811
    _edit(fixture_dir / "a_county.yaml", _with_group)
    reports, errors = _load(fixture_dir)
    assert [m for e in errors for m in e.messages] == []
    stored = Benefit.objects.get(clause__document__key="test-liuhe-industry", key="equipment").amount_rule
    assert stored["cap_group"] == {"key": "test-liuhe-yearly", "name": "每年累计上限", "period": "year",
                                   "limit": "2000000", "clause": "3", "quote": QUOTE}  # fmt: skip


BAD = {
    "an unknown group": (lambda d: _county_benefit(d, "equipment").update(cap_group="nobody"), "benefit equipment: cap_group: nobody"),
    "a limit of 0": ({"limit": 0}, "cap group test-liuhe-yearly: limit"),
    "a negative limit": ({"limit": -1}, "cap group test-liuhe-yearly: limit"),
    "a quote not in the clause": ({"quote": "同一企业每年累计不超过300万元"}, "cap group test-liuhe-yearly: quote: not in clause 3"),
    "a clause not in the file": ({"clause": "9"}, "cap group test-liuhe-yearly: clause: 9"),
    "a period that is no period": ({"period": "month"}, "period"),
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD))
def test_the_loader_refuses_bad_cap_groups(fixture_dir, case):  # noqa: F811
    change, words = BAD[case]

    def edit(data):
        if callable(change):
            _with_group(data)
            change(data)
        else:
            _with_group(data, **change)

    _edit(fixture_dir / "a_county.yaml", edit)
    reports, errors = _load(fixture_dir)
    assert [error.path.name for error in errors] == ["a_county.yaml"]
    message = "\n".join(errors[0].messages)
    assert words in message and "a_county.yaml" in message, message
    assert not PolicyDocument.objects.filter(key="test-liuhe-industry").exists()


@pytest.mark.django_db
def test_a_bad_cap_group_leaves_the_loaded_document_as_it_was(fixture_dir):  # noqa: F811
    _edit(fixture_dir / "a_county.yaml", _with_group)
    assert not _load(fixture_dir)[1]
    before = Benefit.objects.get(clause__document__key="test-liuhe-industry", key="equipment").amount_rule
    _edit(fixture_dir / "a_county.yaml", lambda d: d["cap_groups"][0].update(limit=0))
    errors = _load(fixture_dir)[1]
    assert [error.path.name for error in errors] == ["a_county.yaml"]
    after = Benefit.objects.get(clause__document__key="test-liuhe-industry", key="equipment").amount_rule
    assert after == before


def test_lint_names_every_problem():
    texts = {"1": "同一企业累计不超过300万元。"}
    good = {
        "key": "g",
        "name": "n",
        "period": "total",
        "limit": "3000000",
        "clause": "1",
        "quote": "同一企业累计不超过300万元",
    }
    assert lint_cap_groups([good], texts, [("clause 1, benefit b", "g")]) == []
    problems = lint_cap_groups(
        [good, {**good, "limit": "0", "period": "week"}], texts, [("clause 1, benefit b", "h")]
    )
    assert problems == [
        "cap group g: key: appears 2 times",
        "cap group g: period: must be year or total (got 'week')",
        "cap group g: limit: must be an amount above 0 (got '0')",
        "clause 1, benefit b: cap_group: h is not among this file's cap_groups",
    ]
