"""Wording of values and conditions in the reader's language (see i18n.py).

The words of a condition, a value and a label are the rule language's one renderer
(policies/rules/render.py), money is policies.money: the engine's reasons read exactly like the policy pages and the API.
Here only what is the engine's own: where a fact value comes from.
"""

from __future__ import annotations

from typing import Any

from matching.engine.i18n import english, gettext
from policies.amount_rules import describe as describe_rule
from policies.money import wan
from policies.rules.render import (
    SYMBOLS,
    UNITS_EN,
    choice_label,
    label,
    plain_number,
    requirement,
    scalar_text,
    unit_text,
    value_text,
    yes_no,
)

requirement_text = requirement  # what a leaf requires, e.g. "新租赁自用工业厂房面积 ≥ 5000 平方米"


def source_labels() -> dict[str, str]:
    """Where a fact value comes from, worded (the codes are stored; words are chosen when read)."""
    return {
        "self_declared": gettext("企业自报"),
        "staff": gettext("工作人员核定"),
        "register": gettext("登记信息"),
        "derived": gettext("系统推算"),
    }


def _join(items: list[str]) -> str:
    return (", " if english() else "、").join(items)


def source_text(source: str | None) -> str:
    return source_labels().get(source or "", source or "")


def rule_terms(spec: Any) -> list[str]:
    """The amount rule's terms worded for people (policies.amount_rules.describe: one wording for the
    policy pages, the API and the engine's readers)."""
    return describe_rule(getattr(spec, "amount_rule", None))


def schedule_text(amount: Any) -> str:
    """How an estimate is paid: per year over N years, by year, or by stage ("" when at once)."""
    parts = []
    if amount.years and amount.per_year is not None:
        parts.append(
            gettext("每年 %(each)s，共 %(n)s 年") % {"each": wan(amount.per_year), "n": amount.years}
            if not amount.payments
            else gettext("共 %(n)s 年：%(years)s")
            % {"n": amount.years, "years": _join([wan(payment.value) for payment in amount.payments])}
        )
    elif amount.payments:
        if amount.by_stage:
            parts.append(_join([f"{payment.label} {wan(payment.value)}" for payment in amount.payments]))
        else:
            parts.append(
                gettext("分年拨付：%(years)s") % {"years": _join([wan(p.value) for p in amount.payments])}
            )
    return "；".join(parts) if not english() else "; ".join(parts)


__all__ = [
    "SYMBOLS",
    "UNITS_EN",
    "choice_label",
    "label",
    "plain_number",
    "requirement",
    "requirement_text",
    "rule_terms",
    "schedule_text",
    "scalar_text",
    "source_labels",
    "source_text",
    "unit_text",
    "value_text",
    "yes_no",
]
