"""Derived facts by formula, declared as data in the catalog: a small safe expression language.

    investment / land_area_mu                      亩均投资强度
    years_between(registered_on_date, as_of)       成立年限
    days_between(grid_date, as_of) <= 365          (conditions compare the number: 并网后一年内)
    min(output_value * 0.1, 5000000)

Grammar (parsed with Python's `ast` in eval mode, then checked node by node — never `eval`):
numbers, fact codes, `as_of` (the evaluation date), + - * / and unary minus, parentheses, and the
functions min, max, abs, years_between(date, date), days_between(date, date). Anything else is
refused with the offending piece named. Values are Decimal (dates for date facts); a missing input
or a division by zero makes the result unknown (None), never 0 and never an error at evaluation.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

AS_OF = "as_of"
NUMBER_FUNCTIONS = {"min": 2, "max": 2, "abs": 1}
DATE_FUNCTIONS = {"years_between": 2, "days_between": 2}
NUMERIC_TYPES = ("int", "decimal", "money")


class FormulaError(ValueError):
    """A formula that does not parse or names what it may not; the message says what."""


@dataclass(frozen=True)
class Formula:
    text: str
    tree: ast.expression
    inputs: frozenset[str]  # the fact codes it reads


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Formula:
    """The formula of `text` (cached: catalogs repeat the same few formulas for every row)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"not a formula: {exc.msg}") from None
    names: set[str] = set()
    _check(tree.body, names)
    return Formula(text, tree, frozenset(names - {AS_OF}))


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def _check(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"only numbers may be written in a formula, not {node.value!r}")
    elif isinstance(node, ast.Name):
        names.add(node.id)
    elif isinstance(node, ast.BinOp):
        if not isinstance(node.op, _ARITHMETIC):
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed (use + - * /)")
        _check(node.left, names)
        _check(node.right, names)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        _check(node.operand, names)
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.keywords:
            raise FormulaError("only min, max, abs, years_between, days_between may be called")
        arity = {**NUMBER_FUNCTIONS, **DATE_FUNCTIONS}.get(node.func.id)
        if arity is None:
            raise FormulaError(f"unknown function {node.func.id!r}")
        if len(node.args) != arity and not (node.func.id in ("min", "max") and len(node.args) >= 2):
            raise FormulaError(f"{node.func.id} takes {arity} arguments")
        for argument in node.args:
            _check(argument, names)
    else:
        raise FormulaError(f"{type(node).__name__} is not allowed in a formula")


def catalog_problems(code: str, formula: Formula, catalog: Mapping[str, Any]) -> list[str]:
    """Inputs unknown to the catalog, of a type arithmetic cannot read, or forming a cycle."""
    problems = []
    for name in sorted(formula.inputs):
        fact = catalog.get(name)
        if fact is None:
            problems.append(f"formula names unknown fact {name!r}")
        elif fact.type not in (*NUMERIC_TYPES, "date"):
            problems.append(f"formula input {name} is a {fact.type} fact (numbers and dates only)")
    if not problems and code in formula_closure(code, catalog, start=formula.inputs):
        problems.append(f"formula of {code} depends on itself (a cycle)")
    return problems


def formula_closure(
    code: str, catalog: Mapping[str, Any], *, start: frozenset[str] | None = None
) -> set[str]:
    """Every fact `code`'s formula reads, directly or through other formulas."""
    seen: set[str] = set()
    pending = list(start if start is not None else inputs_of(catalog.get(code)))
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(inputs_of(catalog.get(name)))
    return seen


def inputs_of(fact: Any) -> frozenset[str]:
    text = getattr(fact, "formula", "") or ""
    if not text:
        return frozenset()
    try:
        return parse(text).inputs
    except FormulaError:
        return frozenset()


def order(codes: list[str], catalog: Mapping[str, Any]) -> list[str]:
    """Formula facts of `codes` in an order where each comes after the formula facts it reads."""
    placed: list[str] = []
    done: set[str] = set()

    def visit(code: str, path: tuple[str, ...]) -> None:
        if code in done or code in path:
            return
        for name in sorted(inputs_of(catalog.get(code))):
            if getattr(catalog.get(name), "formula", ""):
                visit(name, (*path, code))
        done.add(code)
        placed.append(code)

    for code in codes:
        visit(code, ())
    return placed


def evaluate(formula: Formula, values: Mapping[str, Any], as_of: dt.date) -> Decimal | None:
    """The value for one set of inputs (None: an input is unknown, or a division by zero)."""
    try:
        result = _value(formula.tree.body, values, as_of)
    except (_Unknown, InvalidOperation, ZeroDivisionError):
        return None
    if isinstance(result, dt.date) or not result.is_finite():
        return None
    return result


class _Unknown(Exception):
    pass


def _number(value: Any) -> Decimal:
    if value is None:
        raise _Unknown
    if isinstance(value, dt.date):
        raise _Unknown  # a date where a number is needed: the formula cannot say
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _value(node: ast.AST, values: Mapping[str, Any], as_of: dt.date) -> Any:
    if isinstance(node, ast.Constant):
        return Decimal(str(node.value))
    if isinstance(node, ast.Name):
        value = as_of if node.id == AS_OF else values.get(node.id)
        if value is None:
            raise _Unknown
        return value
    if isinstance(node, ast.UnaryOp):
        operand = _number(_value(node.operand, values, as_of))
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _number(_value(node.left, values, as_of))
        right = _number(_value(node.right, values, as_of))
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise ZeroDivisionError
        return left / right
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    name = node.func.id
    arguments = [_value(argument, values, as_of) for argument in node.args]
    if name in DATE_FUNCTIONS:
        start, end = arguments
        if not isinstance(start, dt.date) or not isinstance(end, dt.date):
            raise _Unknown
        if name == "days_between":
            return Decimal((end - start).days)
        passed = (end.month, end.day) >= (start.month, start.day)
        return Decimal(end.year - start.year - (0 if passed else 1))
    numbers = [_number(argument) for argument in arguments]
    if name == "abs":
        return abs(numbers[0])
    return min(numbers) if name == "min" else max(numbers)


def plan(codes: list[str], catalog: Mapping[str, Any]) -> list[tuple[str, Formula]]:
    """The formula facts of `codes`, parsed, in dependency order: what `apply` computes."""
    return [(code, parse(catalog[code].formula)) for code in order(codes, catalog)]


def apply(steps: list[tuple[str, Formula]], values: Mapping[str, Any], as_of: dt.date) -> dict[str, Any]:
    """`values` with each planned formula fact that is not given computed from them."""
    result = dict(values)
    for code, formula in steps:
        if result.get(code) is None:
            value = evaluate(formula, result, as_of)
            if value is not None:
                result[code] = value
    return result


def complete(values: Mapping[str, Any], catalog: Mapping[str, Any], as_of: dt.date) -> dict[str, Any]:
    """`values` with every formula fact of the catalog that is not given computed from them (answers
    of the self-check, scenario facts: the same values facts_for derives from stored rows)."""
    return apply(
        plan([code for code, fact in catalog.items() if getattr(fact, "formula", "")], catalog), values, as_of
    )
