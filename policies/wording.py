"""Words shared by the policy pages and the engine's reasons: the rule language's renderer
(policies/rules/render.py) holds them; these names stay for older imports."""

from policies.rules.render import MILLION, SYMBOLS, TEN_THOUSAND, UNITS_EN, money_en, money_zh, shown_yuan

__all__ = ["MILLION", "SYMBOLS", "TEN_THOUSAND", "UNITS_EN", "money_en", "money_zh", "shown_yuan"]
