"""Money, once: Decimal yuan in, the words and numbers people see out; every rounding rule is here.

Money is stored as Decimal yuan (to the fen); "not stated" is None, never 0. People read and type it in
万元 (yuan in English). One wording per context, for 10,000,000 yuan:

=====================  =====================================  ==================  ======================
context                function                               Chinese             English
=====================  =====================================  ==================  ======================
people: pages, e-mail  wan(yuan)                              "1000 万元"          "10 million yuan"
 notices, engine                                                                   ("500,000 yuan" below
 reasons, self-check,                                                               a million)
 error messages
API display fields     wan_fixed(yuan)  (the *_wan fields)    "1000.00 万元"       "1000.00 万元" (the same:
 (*_wan)                                                                           a documented contract)
inputs, admin lists,   wan_number(yuan) / wan_input(yuan)     Decimal("1000") /   the same
 spreadsheet columns                                          "1000"
 headed （万元）
typed 万元 back        yuan_from_wan(wan) (model money        Decimal("10000000.00")
                       fields, to the fen) / parse_wan(text)
                       (fact answers: exact, a non-number
                       passes through for the fact codec's
                       message)
=====================  =====================================  ==================  ======================

Rounding: an amount shown to people is rounded to the fen, half up (shown_yuan), then printed without
trailing zeros (16666666.666… → "1666.666667 万元", 0 → "0 万元"); never in 亿元 and never with a thousands
separator in Chinese. The API's *_wan strings round the 万元 to two decimals, half up (the snapshot SQL in
portal/api/v1/matches.py does the same with round(amount / 10000, 2)). Typed 万元 become yuan to the fen,
half up.

Whether English is active is policies.i18n.english() (the one place); this module only asks it.
Pure: no ORM, no configured Django needed (then Chinese).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from policies.i18n import english

TEN_THOUSAND = Decimal(10_000)
MILLION = Decimal(1_000_000)
CENT = Decimal("0.01")

__all__ = [
    "CENT",
    "MILLION",
    "TEN_THOUSAND",
    "money_en",
    "money_zh",
    "parse_wan",
    "shown_yuan",
    "wan",
    "wan_fixed",
    "wan_input",
    "wan_number",
    "yuan_from_wan",
]


def shown_yuan(yuan: Any) -> Decimal:
    """An amount as shown to people: to the fen, the precision money is stored in, so a computed
    amount never reads "1666.666666666666666666666667 万元" and a stored one reads exactly."""
    amount = Decimal(str(yuan))
    if not amount.is_finite():
        return amount
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _plain(number: Decimal) -> str:
    """5000 not 5E+3, 0.3 not 0.30, 0 not 0E+2."""
    return format(number.normalize(), "f") if number else "0"


def money_zh(yuan: Any) -> str:
    """12000000 → "1200 万元"; 16666666.666… → "1666.666667 万元" (to the fen, trailing zeros dropped)."""
    return f"{_plain(shown_yuan(yuan) / TEN_THOUSAND)} 万元"


def money_en(yuan: Any) -> str:
    """500000 → "500,000 yuan"; 12000000 → "12 million yuan" (to the fen, see shown_yuan)."""
    amount = shown_yuan(yuan)
    if abs(amount) >= MILLION:
        return f"{(amount / MILLION).normalize():,f} million yuan"
    return f"{amount.normalize():,f} yuan"


def wan(yuan: Any) -> str:
    """Money for people in the reader's language: 10000000 → "1000 万元", in English "10 million yuan".
    Callers decide how None ("not stated") reads (—, empty, 未给出); it is never shown as 0."""
    return money_en(yuan) if english() else money_zh(yuan)


def wan_fixed(yuan: Any) -> str | None:
    """The API's display string: 10000000 → "1000.00 万元" (two decimals, half up); None stays None."""
    if yuan is None:
        return None
    return f"{(Decimal(str(yuan)) / TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)} 万元"


def wan_number(yuan: Any) -> Decimal | None:
    """Stored yuan as the 万元 number a person types or a （万元） column holds: 10000000.00 → 1000,
    never 1E+3 (exact: no rounding); None stays None."""
    if yuan is None:
        return None
    return Decimal(_plain(Decimal(str(yuan)) / TEN_THOUSAND))


def wan_input(yuan: Any) -> str:
    """wan_number as text for an input or an admin column: "1000"; "" for None."""
    number = wan_number(yuan)
    return "" if number is None else format(number, "f")


def yuan_from_wan(wan_amount: Decimal | None) -> Decimal | None:
    """A typed 万元 amount as stored yuan, to the fen (half up): 1000 → Decimal("10000000.00")."""
    if wan_amount is None:
        return None
    return (Decimal(str(wan_amount)) * TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_wan(text: Any) -> Any:
    """A fact answer typed in 万元 as yuan: "1,200.5" → Decimal("12005000.0") (exact: the fact keeps what
    was typed). A blank, a non-text or text that is no finite number passes through unchanged, so the
    fact codec accepts it (blank: unknown) or refuses it with its message."""
    if not isinstance(text, str) or not text.strip():
        return text
    try:
        number = Decimal(text.strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return text
    return number * TEN_THOUSAND if number.is_finite() else text
