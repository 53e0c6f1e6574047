"""Validators for enterprise identifiers and values.

统一社会信用代码 (GB 32100-2015): 18 characters from a 31-character alphabet (no I, O, Z, S, V).
  1     registration authority (登记管理部门代码)
  2     organisation category (机构类别代码)
  3-8   administrative division of the registering authority (6 digits)
  9-17  subject identifier: the 组织机构代码 of GB 11714, with its own check character at 17
  18    check character over positions 1-17
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_CREDIT_CODE_SHAPE = re.compile(rf"^[{CREDIT_CODE_ALPHABET}]{{2}}\d{{6}}[{CREDIT_CODE_ALPHABET}]{{10}}$")


def credit_code_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters."""
    total = sum(
        CREDIT_CODE_ALPHABET.index(char) * weight
        for char, weight in zip(first17[:17], CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character of an organisation code (digits, letters A=10 … Z=35)."""
    total = sum(int(char, 36) * weight for char, weight in zip(first8[:8], ORG_CODE_WEIGHTS, strict=True))
    remainder = 11 - total % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def complete_credit_code(first16: str) -> str:
    """Append both check characters: positions 1-16 in, a valid 18-character code out (used by generators)."""
    org_code = first16[8:16]
    first17 = first16 + org_code_check_char(org_code)
    return first17 + credit_code_check_char(first17)


def credit_code_problem(value: str) -> str | None:
    """Why `value` is not a valid 统一社会信用代码, in Chinese; None when it is valid."""
    if len(value) != 18:
        return str(_("统一社会信用代码应为18位，当前为%(n)d位。") % {"n": len(value)})
    if value != value.upper():
        return str(_("统一社会信用代码中的字母应为大写。"))
    if not _CREDIT_CODE_SHAPE.match(value):
        return str(_("统一社会信用代码含有不允许的字符（第3-8位应为数字，不使用I、O、Z、S、V）。"))
    expected = credit_code_check_char(value[:17])
    if value[17] != expected:
        return str(
            _("统一社会信用代码校验位错误：第18位应为“%(expected)s”，而不是“%(actual)s”。")
            % {"expected": expected, "actual": value[17]}
        )
    org_expected = org_code_check_char(value[8:16])
    if value[16] != org_expected:
        return str(
            _("统一社会信用代码第9-17位（组织机构代码）校验位错误：第17位应为“%(expected)s”。")
            % {"expected": org_expected}
        )
    return None


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid_credit_code")


def validate_non_negative(value: Decimal | int | None) -> None:
    if value is not None and value < 0:
        raise ValidationError(_("不能为负数。"), code="negative")


def credit_code_for(serial: int, *, division: str = "310112", prefix: str = "91") -> str:
    """A valid code whose organisation code encodes `serial` (0 <= serial < 31**8): demo and test data."""
    if not 0 <= serial < len(CREDIT_CODE_ALPHABET) ** 8:
        raise ValueError("serial out of range")
    digits = []
    for _position in range(8):
        serial, remainder = divmod(serial, len(CREDIT_CODE_ALPHABET))
        digits.append(CREDIT_CODE_ALPHABET[remainder])
    return complete_credit_code(prefix + division + "".join(reversed(digits)))
