import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from enterprises.models import validate_industry_code
from enterprises.validators import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    credit_code_for,
    credit_code_problem,
    org_code_check_char,
    validate_credit_code,
)

# Published codes of well-known companies (public registers).
REAL_CODES = ["914403001922038216", "91330100799655058B", "9144030071526726XG"]


@pytest.mark.parametrize("code", REAL_CODES)
def test_real_codes_are_valid(code):
    assert credit_code_problem(code) is None


def test_check_character_31_maps_to_zero():
    # Search a prefix whose weighted sum is a multiple of 31: the check value 31 must become "0".
    for serial in range(5000):
        code = credit_code_for(serial)
        total = sum(
            CREDIT_CODE_ALPHABET.index(c) * w
            for c, w in zip(
                code[:17], (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), strict=True
            )
        )
        if total % 31 == 0:
            assert code[17] == "0"
            return
    pytest.fail("no code with sum divisible by 31 in the sample")


def test_org_code_check_uses_x_and_zero():
    assert org_code_check_char("71526726") == "X"
    assert org_code_check_char("19220382") == "1"


def test_wrong_check_character_names_the_expected_one():
    bad = REAL_CODES[0][:17] + "7"
    problem = credit_code_problem(bad)
    assert "第18位应为“6”" in problem
    with pytest.raises(ValidationError) as error:
        validate_credit_code(bad)
    assert error.value.code == "invalid_credit_code"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("91310112", "应为18位"),
        ("91310112MA1GKD2X1" + "o", "大写"),
        ("91310112OA1GKD2X1A", "不允许的字符"),
        ("9131A112MA1GKD2X1A", "不允许的字符"),
    ],
)
def test_malformed_codes_get_clear_messages(code, fragment):
    assert fragment in credit_code_problem(code)


def test_wrong_org_code_check_is_rejected():
    code = credit_code_for(12345)
    wrong_org = code[:16] + ("1" if code[16] != "1" else "2")
    wrong_org += credit_code_check_char(wrong_org)  # the outer check is right, the inner one is not
    assert "组织机构代码" in credit_code_problem(wrong_org)


@given(st.integers(min_value=0, max_value=31**8 - 1))
def test_generated_codes_are_valid_and_single_typos_are_caught(serial):
    code = credit_code_for(serial)
    assert credit_code_problem(code) is None
    position = serial % 17
    replacement = CREDIT_CODE_ALPHABET[(CREDIT_CODE_ALPHABET.index(code[position]) + 1) % 31]
    if position in range(2, 8) and not replacement.isdigit():
        replacement = "0" if code[position] != "0" else "1"
    typo = code[:position] + replacement + code[position + 1 :]
    assert credit_code_problem(typo) is not None


@pytest.mark.parametrize("code", ["3511", "6513", "0111"])
def test_industry_codes_accepted(code):
    validate_industry_code(code)


@pytest.mark.parametrize("code", ["351", "9811", "3501", "35A1", "00111"])
def test_industry_codes_rejected(code):
    with pytest.raises(ValidationError):
        validate_industry_code(code)
