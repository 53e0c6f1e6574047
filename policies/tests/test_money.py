"""policies.money: one wording per context for the same yuan, and its rounding rules."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from policies import facttypes, money
from policies.rules import CatalogFact

TEN_MILLION = Decimal("10000000")


def test_ten_million_yuan_reads_one_way_per_context():
    assert money.wan(TEN_MILLION) == "1000 万元"  # pages, e-mail, notices, reasons
    assert money.wan_fixed(TEN_MILLION) == "1000.00 万元"  # the API's *_wan fields
    assert money.wan_number(TEN_MILLION) == Decimal("1000") and money.wan_input(TEN_MILLION) == "1000"
    with translation.override("en"):
        assert money.wan(TEN_MILLION) == "10 million yuan"
        assert money.wan_fixed(TEN_MILLION) == "1000.00 万元"  # a contract, not a wording


@pytest.mark.parametrize(
    ("yuan", "people", "api"),
    [
        (Decimal("100000000"), "10000 万元", "10000.00 万元"),  # never 亿元
        (Decimal("0"), "0 万元", "0.00 万元"),
        (Decimal("16666666.666666"), "1666.666667 万元", "1666.67 万元"),  # to the fen, half up
        (Decimal("50.005"), "0.005001 万元", "0.01 万元"),
        (Decimal("12345678.9"), "1234.56789 万元", "1234.57 万元"),
    ],
)
def test_rounding_is_half_up_to_the_fen_for_people_and_to_two_wan_decimals_for_the_api(yuan, people, api):
    assert money.wan(yuan) == people and money.wan_fixed(yuan) == api


def test_not_stated_stays_none_and_typed_wan_become_yuan():
    assert money.wan_fixed(None) is None and money.wan_number(None) is None and money.wan_input(None) == ""
    assert money.yuan_from_wan(Decimal("1000")) == Decimal("10000000.00")
    assert money.yuan_from_wan(Decimal("0.0000005")) == Decimal("0.01")  # half a fen rounds up
    assert money.yuan_from_wan(None) is None
    assert money.parse_wan("1,200.5") == Decimal("12005000.0") and money.parse_wan("1，200") == Decimal(
        12000000
    )
    assert money.parse_wan("很多") == "很多" and money.parse_wan("") == "" and money.parse_wan("NaN") == "NaN"


def test_the_registry_accepts_the_same_words_everywhere():
    assert facttypes.parse_bool("是") is True and facttypes.parse_bool("No") is False
    assert facttypes.parse_bool("也许") is None
    assert facttypes.parse_number("1，234.5") == Decimal("1234.5") and facttypes.parse_number(True) is None
    assert facttypes.parse_number("Infinity") is None
    assert str(facttypes.parse_date("2024/03/01")) == "2024-03-01" and facttypes.parse_date("03/01") is None


def test_the_registry_parses_serialises_and_shows_a_value_without_a_database():
    output = CatalogFact(code="output", type="money", label_zh="工业总产值")
    typed = facttypes.parse_fact_value(output, "12,000,000")
    assert typed == Decimal("12000000") and facttypes.to_json("money", typed) == "12000000"
    assert facttypes.from_json("money", "12000000") == typed
    assert (
        facttypes.form_value(output, "12000000") == "1200"
        and facttypes.value_text(output, typed) == "1200 万元"
    )
    flag = CatalogFact(code="is_new", type="bool", label_zh="新项目")
    assert facttypes.form_value(flag, True) == "true" and facttypes.parse_fact_value(flag, "true") is True
    with pytest.raises(ValidationError, match="新项目"):
        facttypes.parse_fact_value(flag, "也许")
