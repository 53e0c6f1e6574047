"""Wording of values and conditions in the reader's language (see i18n.py).

The words of a condition, a value, a label and money are the rule language's one renderer
(policies/rules/render.py): the engine's reasons read exactly like the policy pages and the API.
Here only what is the engine's own: where a fact value comes from.
"""

from __future__ import annotations

from matching.engine.i18n import gettext
from policies.rules.render import (
    SYMBOLS,
    UNITS_EN,
    choice_label,
    label,
    money_en,
    plain_number,
    requirement,
    scalar_text,
    unit_text,
    value_text,
    wan,
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


def source_text(source: str | None) -> str:
    return source_labels().get(source or "", source or "")


__all__ = [
    "SYMBOLS",
    "UNITS_EN",
    "choice_label",
    "label",
    "money_en",
    "plain_number",
    "requirement",
    "requirement_text",
    "scalar_text",
    "source_labels",
    "source_text",
    "unit_text",
    "value_text",
    "wan",
    "yes_no",
]
