"""Display of policy figures: money in 万元 (yuan in English), ratios as percentages or 1:x matching."""

from django import template

from policies import money
from policies.rules import plain_number

register = template.Library()


@register.filter
def wan(yuan) -> str:
    """10000000 -> "1000 万元", in English "10 million yuan" (policies.money; None stays empty: "not stated" is shown by
    the template, never as 0)."""
    return "" if yuan is None else money.wan(yuan)


@register.filter
def ratio_text(benefit) -> str:
    """0.3 -> "30%"; a matching benefit's 0.5 -> "1:0.5" as the texts print it."""
    if benefit.ratio is None:
        return ""
    if benefit.kind == "matching":
        return f"1:{plain_number(benefit.ratio)}"
    return f"{plain_number(benefit.ratio * 100)}%"


@register.filter
def rule_terms(benefit) -> list[str]:
    """The benefit's amount rule (per-unit rates, ranges, schedules …) in words."""
    from policies import amount_rules

    try:
        return amount_rules.describe(amount_rules.parse(benefit.amount_rule))
    except ValueError:
        return []
