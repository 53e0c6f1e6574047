"""One money module (policies/money.py), one fact-type registry (policies/facttypes.py) and one place that
says whether English is active (policies/i18n.py): a second copy of any of them fails here.

The source tree is every *.py and *.html file of the project's packages and templates, except tests
(tests/ folders, test_*.py, conftest.py), migrations, bench/ (measurements that print yuan) and the
three homes themselves. A line is a second copy when it matches one of the patterns below:

money formatter
  - divides or multiplies by 10000 (`/ 10000`, `* 10_000`, `/ TEN_THOUSAND`, `Decimal(10000)`…): yuan ↔ 万元
    conversion outside policies.money. The one allowed line is the snapshot SQL's
    `round(<column> / 10000, 2)`, which renders wan_fixed in the database (portal/tests/test_api_snapshot_sql.py
    compares the two);
  - defines TEN_THOUSAND;
  - builds a 万元 / 亿元 text from a value (`{…} 万元` in an f-string, `%(x)s 万元`, `… + "万元"`);
  - words money in English (`{…} million yuan`);
  - formats money in a template with floatformat / intcomma (templates use the `wan` filter).
fact-value codec
  - defines the bool words (TRUE_WORDS / FALSE_WORDS, or a {"true": True…} mapping), the bool form
    choices (`("true", …)`) or a bool's form value (`"true" if … else "false"`);
  - defines coerce_fact_value / parse_fact_value / from_json / form_value / parse_bool / parse_number /
    parse_date, or a to_json taking a fact type.
English active
  - `.startswith("en")` / `== "en"` on a language, or get_language() compared with LANGUAGE_CODE.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("applications", "enterprises", "matching", "policies", "portal", "templates", "tools", "scripts")
HOMES = {
    "money": {"policies/money.py"},
    "codec": {"policies/facttypes.py"},
    "english": {"policies/i18n.py"},
}

MONEY = [
    re.compile(r"[/*]\s*(10_?000|TEN_THOUSAND)\b"),
    re.compile(r"Decimal\(\s*[\"']?10_?000[\"']?\s*\)"),
    re.compile(r"^\s*TEN_THOUSAND\s*="),
    re.compile(r"\}\s*[万亿]元"),
    re.compile(r"%\(\w+\)[sdf]\s*[万亿]元"),
    re.compile(r"\+\s*[\"'][万亿]元"),
    re.compile(r"\}\s*million yuan"),
    re.compile(r"\|\s*(floatformat|intcomma)"),
]
MONEY_ALLOWED = [re.compile(r"round\([\w.{}]+ / 10000, 2\)")]  # the snapshot SQL's wan_fixed
CODEC = [
    re.compile(r"^\s*(TRUE_WORDS|FALSE_WORDS)\s*="),
    re.compile(r"[\"']true[\"']\s*:\s*True"),
    re.compile(r"\(\s*[\"']true[\"']\s*,\s*_"),
    re.compile(r"[\"']true[\"'] if .+ else [\"']false[\"']"),
    re.compile(
        r"^\s*def (coerce_fact_value|parse_fact_value|from_json|form_value|parse_bool|parse_number|parse_date)\("
    ),
    re.compile(r"^\s*def to_json\(\s*fact_type"),
]
ENGLISH = [
    re.compile(r"startswith\(\s*[\"']en[\"']\s*\)"),
    re.compile(r"get_language\(\)[^\n]*==\s*[\"']en"),
    re.compile(r"get_language\(\)\s*==\s*settings\.LANGUAGE_CODE"),
]


def source_files():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix not in (".py", ".html") or not path.is_file():
                continue
            relative = path.relative_to(ROOT).as_posix()
            parts = relative.split("/")
            if "tests" in parts or "migrations" in parts or parts[-1].startswith("test_"):
                continue
            yield relative, path.read_text(encoding="utf-8")


def copies(patterns, home: set[str], allowed=()) -> list[str]:
    found = []
    for relative, text in source_files():
        if relative in home:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("#"):
                continue
            if any(pattern.search(line) for pattern in patterns) and not any(a.search(line) for a in allowed):
                found.append(f"{relative}:{number}: {line.strip()}")
    return found


def test_one_money_formatter():
    assert copies(MONEY, HOMES["money"], MONEY_ALLOWED) == [], (
        "money is worded and converted by policies.money"
    )


def test_one_fact_value_codec():
    assert copies(CODEC, HOMES["codec"]) == [], "fact values are parsed and serialised by policies.facttypes"


def test_one_place_says_whether_english_is_active():
    assert copies(ENGLISH, HOMES["english"]) == [], "ask policies.i18n.english() / display_lang()"


def test_the_guard_finds_a_copy():
    """The patterns catch the copies this module replaced (so the guard could fail)."""
    replaced = [
        ('return f"{amount / 10000:,.2f} 万元"', MONEY),
        ("TEN_THOUSAND = Decimal(10_000)", MONEY),
        ('    return f"{text}万元"', MONEY),
        ('text = f"{(Decimal(amount) / TEN_THOUSAND):f}"', MONEY),
        ('return f"{amount:,f} million yuan"', MONEY),
        ("{{ total|floatformat:2|intcomma }}", MONEY),
        ('TRUE_WORDS = {"true", "1", "是"}', CODEC),
        ('value = {"true": True, "false": False}.get(value)', CODEC),
        ('BOOL_CHOICES = [("", _("不清楚")), ("true", _("是")), ("false", _("否"))]', CODEC),
        ('return "true" if stored else "false"', CODEC),
        ("def from_json(fact_type, stored):", CODEC),
        ('return "en" if (get_language() or "").startswith("en") else "zh"', ENGLISH),
        ("if translation.get_language() == settings.LANGUAGE_CODE:", ENGLISH),
    ]
    for line, patterns in replaced:
        assert any(pattern.search(line) for pattern in patterns), line
    sql = "|| COALESCE('\"' || round(matching_matchresult.amount / 10000, 2)::text || ' 万元\"', 'null')"
    assert any(pattern.search(sql) for pattern in MONEY_ALLOWED)
