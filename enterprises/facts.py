"""The value of every catalog fact for enterprises on a date: one enterprise (`facts_for`, with the
provenance of each value) or many at once (`facts_table`, a fixed number of queries whatever the
number of enterprises).

Both paths load the same rows into the same columns (`Loaded`: enterprise i is position i of every
column; one enterprise is a table of one row) and call the same derivation functions
(`BUILTIN_GROUPS`), so they cannot disagree; a property test proves they don't.

The derivations work column by column because the bulk evaluation derives thousands of enterprises
at once. Rules that look at one enterprise's rows together (recognitions, projects) are written for
one enterprise (`recognitions_of`, `projects_of`) and called only for the enterprises that have such
rows; all the others (most) share the result of the same function on no rows.

Time conventions (fixtures/facts/README.md), with Y = the as-of year:
- yearly figures are those of the last completed year, Y-1 (growth compares Y-1 with Y-2);
- "this year" events (first recognised, first above scale, newly listed) happened in Y or Y-1;
- recognitions held are those obtained in a year <= Y;
- projects are those of Y-1 and Y, summed per kind.
Unknown stays None. A missing recognition or project means "unknown" unless the enterprise has
declared its list complete (`recognitions_declared`, `projects_declared`): then it means "none".
"""

from __future__ import annotations

import datetime
import gc
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
from django.db import connection
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast

from enterprises import catalog as fact_catalog
from enterprises import taxonomy
from enterprises.copy_read import copy_columns
from enterprises.models import Enterprise, FactValue, Item, Project, Recognition, YearlyFigure
from policies import formulas
from policies.models import Region

logger = logging.getLogger(__name__)

DERIVED = "derived"  # provenance of a value computed from rows of different sources
ONE_BILLION = Decimal(1_000_000_000)
SME_SCALES = {Enterprise.Scale.MEDIUM, Enterprise.Scale.SMALL, Enterprise.Scale.MICRO}
TECH_CENTER_KINDS = {"tech_center_municipal": 1, "tech_center_national": 2}  # higher wins a same-year tie

ENTERPRISE_FIELDS = (
    "id",
    "district",
    "town",
    "registered_region",
    "operating_region",
    "registered_on",
    "legal_form",
    "is_foreign_invested",
    "industry_code",
    "industry_tracks",
    "industry_subtracks",
    "scale",
    "above_scale",
    "above_scale_since",
    "listing_exchange",
    "listed_on",
    "recognitions_declared",
    "projects_declared",
    "source",
)
JSON_FIELDS = ("industry_tracks", "industry_subtracks")


# The rows of the related tables, as read (one enterprise's rows are grouped under its position).
class FigureRow(NamedTuple):
    year: int
    output_value: Decimal | None
    revenue: Decimal | None
    rd_expense: Decimal | None
    employees: int | None
    tax_paid: Decimal | None
    source: str


class RecognitionRow(NamedTuple):
    kind: str
    year: int
    first_time: bool
    grade: str
    source: str


class ProjectRow(NamedTuple):
    kind: str
    year: int
    level: str
    total_investment: Decimal | None
    new_equipment_investment: Decimal | None
    municipal_funding_granted: Decimal | None
    area_m2: Decimal | None
    rent_total: Decimal | None
    contract_amount: Decimal | None
    cost: Decimal | None
    interest_paid: Decimal | None
    guarantee_fee_paid: Decimal | None
    is_new: bool
    self_use: bool
    key_industry_new_project: bool | None
    policy_guaranteed: bool | None
    source: str


class StoredRow(NamedTuple):
    fact_id: int
    value: str | None  # JSON text, typed by the fact (catalog.from_json)
    year: int | None
    valid_from: datetime.date | None
    source: str


Known = tuple[Any, str | None]  # (value, provenance); provenance is None when the value is None
UNKNOWN: Known = (None, None)


class UnknownFactError(KeyError):
    """A code asked for is not in the fact catalog."""


@dataclass(frozen=True)
class ItemSheet:
    """One item's facts (code → typed value; absent = unknown) with its provenance."""

    id: int
    title: str
    values: dict[str, Any]
    source: str


@dataclass(frozen=True)
class ItemRows:
    """Every item of one kind for the enterprises of a table, in (enterprise, id) order: `owner` is
    the row of the item's enterprise in the table, `columns` the item facts (one value per item)."""

    owner: list[int]
    ids: list[int]
    columns: dict[str, list[Any]]
    titles: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def sheets_of(self, row: int) -> list[ItemSheet]:
        return [
            ItemSheet(
                self.ids[i],
                self.titles[i],
                {code: column[i] for code, column in self.columns.items() if column[i] is not None},
                self.sources[i],
            )
            for i, owner in enumerate(self.owner)
            if owner == row
        ]


@dataclass(frozen=True)
class FactSheet:
    values: dict[str, Any]
    sources: dict[str, str]
    items: dict[str, list[ItemSheet]] = field(default_factory=dict)  # kind → the enterprise's items


@dataclass
class FactTable:
    enterprise_ids: list[int]
    columns: dict[str, list[Any]]
    sources: dict[str, list[str | None]] | None = None  # with_sources=True only
    items: dict[str, ItemRows] = field(default_factory=dict)  # kind → items of these enterprises

    def sheet(self, index: int) -> FactSheet:
        """The row at `index` as facts_for gives it (the table must have been read with sources)."""
        if self.sources is None:
            raise ValueError("this table was read without sources")
        values = {code: column[index] for code, column in self.columns.items()}
        sources = {code: self.sources[code][index] for code, value in values.items() if value is not None}
        items = {kind: rows.sheets_of(index) for kind, rows in self.items.items()}
        return FactSheet(
            values=values, sources=sources, items={kind: got for kind, got in items.items() if got}
        )


class FactColumn:
    """One fact for every enterprise: the values, and their provenance (None where the value is),
    worked out only when read (the bulk evaluation needs values only)."""

    def __init__(self, values: list[Any], sources: list[str | None] | Callable[[], list[str | None]]):
        self.values = values
        self._sources = sources

    @cached_property
    def sources(self) -> list[str | None]:
        return self._sources() if callable(self._sources) else self._sources


@dataclass
class Loaded:
    """Everything the derivations read for n enterprises; enterprise i is position i everywhere."""

    enterprise: dict[str, list[Any]]  # field of ENTERPRISE_FIELDS -> one value per enterprise
    # position -> that enterprise's rows; enterprises without rows are absent
    figures: dict[int, list[FigureRow]] = field(default_factory=dict)
    recognitions: dict[int, list[RecognitionRow]] = field(default_factory=dict)
    projects: dict[int, list[ProjectRow]] = field(default_factory=dict)
    fact_values: dict[int, list[StoredRow]] = field(default_factory=dict)
    # (parent code, name) -> region code (region_codes()); None: read when derived
    regions: Mapping[tuple[str, str], str] | None = None

    @property
    def n(self) -> int:
        return len(self.enterprise["id"])


@dataclass(frozen=True)
class AsOf:
    date: datetime.date

    @property
    def year(self) -> int:
        return self.date.year

    @property
    def last_completed_year(self) -> int:
        return self.date.year - 1

    def is_this_year(self, year: int | None) -> bool:
        return year is not None and self.date.year - 1 <= year <= self.date.year


# ---------------------------------------------------------------- provenance and column helpers


def known(value: Any, source: str | None) -> Known:
    return (value, source if value is not None else None)


def common_source(rows: Iterable[Any]) -> str:
    sources = {row.source for row in rows}
    return sources.pop() if len(sources) == 1 else DERIVED


def known_column(
    values: list[Any], sources: Sequence[str | None] | Callable[[], Sequence[str | None]]
) -> FactColumn:
    """`known` for every row: each value's source (a column, or a function giving it), None where
    the value is unknown."""

    def provenance() -> list[str | None]:
        row_sources = sources() if callable(sources) else sources
        return [s if v is not None else None for v, s in zip(values, row_sources, strict=True)]

    return FactColumn(values, provenance)


def columns_of(codes: Iterable[str], sheets: Sequence[Mapping[str, Known]]) -> dict[str, FactColumn]:
    """Per-enterprise results (code -> Known) turned into columns."""

    def column(code: str) -> FactColumn:
        return FactColumn([sheet[code][0] for sheet in sheets], lambda: [sheet[code][1] for sheet in sheets])

    return {code: column(code) for code in codes}


def unknown_column(n: int) -> FactColumn:
    return FactColumn([None] * n, [None] * n)


# ---------------------------------------------------------------- derivations (one function per group)


def full_years(registered_on: datetime.date | None, on: datetime.date) -> Decimal | None:
    """Completed years since registration on `on` (the anniversary day itself counts)."""
    if registered_on is None:
        return None
    anniversary_passed = (on.month, on.day) >= (registered_on.month, registered_on.day)
    return Decimal(on.year - registered_on.year - (0 if anniversary_passed else 1))


def region_codes() -> dict[tuple[str, str], str]:
    """(parent code, name) → region code, for reading the profile's district and town as regions."""
    return {
        (row["parent__code"] or "", row["name_zh"]): row["code"]
        for row in Region.objects.values("code", "name_zh", "parent__code")
    }


def registered_region(
    district: str | None, town: str | None, codes: dict[tuple[str, str], str]
) -> str | None:
    """The most precise region the registered district and town name (外省市 → the rest of China)."""
    if not district:
        return None
    if district == taxonomy.OUTSIDE_SHANGHAI:
        return codes.get(("CN", taxonomy.OUTSIDE_SHANGHAI))
    code = codes.get((taxonomy.SHANGHAI_REGION, district))
    if code and town:
        return codes.get((code, town), code)
    return code


def derive_identity(data: Loaded, as_of: AsOf) -> dict[str, FactColumn]:
    enterprise = data.enterprise
    source = enterprise["source"]
    district = [value or None for value in enterprise["district"]]
    codes = data.regions if data.regions is not None else region_codes()
    registered = [
        own or registered_region(name, town, codes)
        for own, name, town in zip(enterprise["registered_region"], district, enterprise["town"], strict=True)
    ]
    # Where the enterprise actually operates, when it said so; otherwise where it is registered.
    operating = [own or home for own, home in zip(enterprise["operating_region"], registered, strict=True)]
    industry_code = [value or None for value in enterprise["industry_code"]]
    scale = [value or None for value in enterprise["scale"]]
    return {
        "district": known_column(district, source),
        "registered_region": known_column(registered, source),
        "operating_region": known_column(operating, source),
        "located_in_minhang": known_column(
            [None if value is None else value == taxonomy.MINHANG for value in district], source
        ),
        "years_since_registration": known_column(
            [full_years(value, as_of.date) for value in enterprise["registered_on"]], source
        ),
        "legal_form": known_column([value or None for value in enterprise["legal_form"]], source),
        "is_foreign_invested": known_column(enterprise["is_foreign_invested"], source),
        "industry_code": known_column(industry_code, source),
        "is_manufacturing": known_column(
            [None if code is None else taxonomy.is_manufacturing_code(code) for code in industry_code], source
        ),
        "industry_tracks": known_column(
            [frozenset(value or ()) or None for value in enterprise["industry_tracks"]], source
        ),
        "industry_subtracks": known_column(
            [frozenset(value or ()) or None for value in enterprise["industry_subtracks"]], source
        ),
        "enterprise_scale": known_column(scale, source),
        "is_sme": known_column([None if value is None else value in SME_SCALES for value in scale], source),
    }


def status_of(
    above: bool | None,
    since: int | None,
    exchange: str,
    listed_on: datetime.date | None,
    as_of: AsOf,
) -> tuple[bool | None, bool | None, str | None, bool | None]:
    """(is_above_scale, newly_above_scale, listing_exchange, newly_listed) of one enterprise."""
    newly_above = False if above is False else None
    if since is not None:
        newly_above = as_of.is_this_year(since)
        if since > as_of.year:
            above = False  # not yet included on the as-of date

    exchange = exchange or None
    newly_listed = None
    if exchange == Enterprise.Exchange.NONE:
        newly_listed = False
    elif exchange is not None and listed_on is not None:
        if listed_on > as_of.date:
            exchange, newly_listed = Enterprise.Exchange.NONE.value, False
        else:
            newly_listed = as_of.is_this_year(listed_on.year)
    return above, newly_above, exchange, newly_listed


def derive_status(data: Loaded, as_of: AsOf) -> dict[str, FactColumn]:
    enterprise = data.enterprise
    rows = [
        status_of(above, since, exchange, listed_on, as_of)
        for above, since, exchange, listed_on in zip(
            enterprise["above_scale"],
            enterprise["above_scale_since"],
            enterprise["listing_exchange"],
            enterprise["listed_on"],
            strict=True,
        )
    ]
    codes = ("is_above_scale", "newly_above_scale", "listing_exchange", "newly_listed")
    return {
        code: known_column([row[i] for row in rows], enterprise["source"]) for i, code in enumerate(codes)
    }


def growth(output: Decimal | None, output_before: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """(increase, rate in percent to 0.01) of the output over the year before; None when unknown."""
    if output is None or output_before is None:
        return None, None
    increase = output - output_before
    if output_before == 0:
        return increase, None
    return increase, (increase * 100 / output_before).quantize(Decimal("0.01"))


def first_crossed_1bn(output: Decimal | None, earlier_outputs: list[Decimal]) -> bool | None:
    """Last year >= 1 billion and every earlier known year below it. With no earlier figure at all
    we cannot tell whether it is the first time."""
    if output is None:
        return None
    if output < ONE_BILLION or any(earlier >= ONE_BILLION for earlier in earlier_outputs):
        return False
    return True if earlier_outputs else None


FIGURE_CODES = ("output_value", "revenue", "rd_expense", "employees", "tax_paid")  # columns of the last year


def derive_figures(data: Loaded, as_of: AsOf) -> dict[str, FactColumn]:
    n, last_year = data.n, as_of.last_completed_year
    last: list[FigureRow | None] = [None] * n  # the figures of the last completed year
    before: list[FigureRow | None] = [None] * n  # of the year before it
    earlier_known: dict[int, list[FigureRow]] = {}  # position -> years before the last, output known
    for position, rows in data.figures.items():
        for row in rows:  # read up to the last completed year
            if row.year == last_year:
                last[position] = row
                continue
            if row.year == last_year - 1:
                before[position] = row
            if row.output_value is not None:
                earlier_known.setdefault(position, []).append(row)

    last_source = [None if row is None else row.source for row in last]
    facts = {
        code: known_column([None if row is None else getattr(row, code) for row in last], last_source)
        for code in FIGURE_CODES
    }
    increase: list[Decimal | None] = [None] * n
    rate: list[Decimal | None] = [None] * n
    crossed: list[bool | None] = [None] * n
    for position, row in enumerate(last):
        if row is None:
            continue
        previous = before[position]
        if previous is not None:
            increase[position], rate[position] = growth(row.output_value, previous.output_value)
        earlier = [other.output_value for other in earlier_known.get(position, [])]
        crossed[position] = first_crossed_1bn(row.output_value, earlier)

    def both_years_source() -> list[str | None]:
        return [
            None if row is None or previous is None else common_source((row, previous))
            for row, previous in zip(last, before, strict=True)
        ]

    def crossed_source() -> list[str | None]:
        return [
            None if row is None else common_source((row, *earlier_known.get(position, [])))
            for position, row in enumerate(last)
        ]

    facts["output_value_increase"] = known_column(increase, both_years_source)
    facts["output_growth_rate"] = known_column(rate, both_years_source)
    facts["output_first_crossed_1bn"] = known_column(crossed, crossed_source)
    return facts


def by_enterprise(
    data: Loaded,
    rows_by_position: Mapping[int, list[Any]],
    declared_field: str,
    derive_one: Callable[[list[Any], bool, str, AsOf], dict[str, Known]],
    as_of: AsOf,
) -> dict[str, FactColumn]:
    """Columns of a rule written for one enterprise's rows (`derive_one(rows, declared, source,
    as_of)`): called for each enterprise with rows; the others (without rows) share its result on no
    rows, once per (declared-complete flag, enterprise source)."""
    keys = list(zip(data.enterprise[declared_field], data.enterprise["source"], strict=True))
    without_rows = {key: derive_one([], *key, as_of) for key in set(keys)}
    sheets = [without_rows[key] for key in keys]
    for position, rows in rows_by_position.items():
        sheets[position] = derive_one(rows, *keys[position], as_of)
    codes = derive_one([], False, "", as_of)  # the codes the rule returns, also when there is no row
    return columns_of(codes, sheets)


def recognitions_of(
    rows: list[RecognitionRow], declared: bool, fallback: str, as_of: AsOf
) -> dict[str, Known]:
    """One enterprise's recognitions held (the rows obtained in a year <= Y)."""
    if not rows and not declared:
        return {
            "recognitions": UNKNOWN,
            "recognitions_new": UNKNOWN,
            "tech_center_rating": UNKNOWN,
        }
    source = common_source(rows) if rows else fallback
    new_rows = [row for row in rows if row.first_time and as_of.is_this_year(row.year)]
    rated = [row for row in rows if row.kind in TECH_CENTER_KINDS and row.grade]
    latest = max(rated, key=lambda row: (row.year, TECH_CENTER_KINDS[row.kind]), default=None)
    return {
        "recognitions": (frozenset(row.kind for row in rows), source),
        "recognitions_new": (
            frozenset(row.kind for row in new_rows),
            common_source(new_rows) if new_rows else source,
        ),
        "tech_center_rating": known(latest.grade, latest.source) if latest else UNKNOWN,
    }


def derive_recognitions(data: Loaded, as_of: AsOf) -> dict[str, FactColumn]:
    return by_enterprise(data, data.recognitions, "recognitions_declared", recognitions_of, as_of)


def projects_of(rows: list[ProjectRow], declared: bool, fallback: str, as_of: AsOf) -> dict[str, Known]:
    """One enterprise's projects of Y-1 and Y (the rows read), summed or flagged per kind."""
    by_kind: dict[str, list[ProjectRow]] = defaultdict(list)
    for row in rows:
        by_kind[row.kind].append(row)

    def total(
        kinds: Iterable[str], column: str, counts: Callable[[ProjectRow], bool] = lambda row: True
    ) -> Known:
        rows = [row for kind in kinds for row in by_kind[kind]]
        if not rows:
            return (Decimal(0), fallback) if declared else UNKNOWN
        amounts = [getattr(row, column) for row in rows if counts(row)]
        if any(amount is None for amount in amounts):
            return UNKNOWN
        return (sum(amounts, Decimal(0)), common_source(rows))

    def any_flag(kinds: Iterable[str], column: str) -> Known:
        rows = [row for kind in kinds for row in by_kind[kind]]
        if not rows:
            return (False, fallback) if declared else UNKNOWN
        flagged = [row for row in rows if getattr(row, column) is True]
        if flagged:
            return (True, common_source(flagged))
        if any(getattr(row, column) is None for row in rows):
            return UNKNOWN
        return (False, common_source(rows))

    upgrades = by_kind[Project.Kind.TECH_UPGRADE]
    levels = {row.level for row in upgrades}
    level = next((lvl for lvl in ("municipal", "district") if lvl in levels), None)
    if upgrades:
        upgrade_level: Known = known(level, common_source(upgrades))
    else:
        # A declared-complete project list with no upgrade project is a known "none".
        upgrade_level = ("none", fallback) if declared else UNKNOWN
    upstairs = by_kind[Project.Kind.INDUSTRIAL_UPSTAIRS]
    if upstairs:
        in_upstairs: Known = (True, common_source(upstairs))
    else:
        in_upstairs = (False, fallback) if declared else UNKNOWN

    def new_self_use(row: ProjectRow) -> bool:
        return row.is_new and row.self_use

    kind = Project.Kind
    return {
        "tech_upgrade_level": upgrade_level,
        "tech_upgrade_total_investment": total([kind.TECH_UPGRADE], "total_investment"),
        "new_equipment_investment": total([kind.TECH_UPGRADE], "new_equipment_investment"),
        "municipal_funding_granted": total([kind.TECH_UPGRADE], "municipal_funding_granted"),
        "new_factory_purchase_area_m2": total([kind.FACTORY_PURCHASE], "area_m2", new_self_use),
        "new_factory_lease_area_m2": total([kind.FACTORY_LEASE], "area_m2", new_self_use),
        "rent_total": total([kind.FACTORY_LEASE, kind.INDUSTRIAL_UPSTAIRS], "rent_total"),
        "is_new_key_industry_project": any_flag(
            [kind.FACTORY_PURCHASE, kind.FACTORY_LEASE], "key_industry_new_project"
        ),
        "in_industrial_upstairs_project": in_upstairs,
        "mna_amount": total([kind.MNA], "contract_amount"),
        "first_of_kind_contract_amount": total([kind.FIRST_OF_KIND], "contract_amount"),
        "innovative_drug_rd_spend": total([kind.DRUG_RD], "cost"),
        "event_cost": total([kind.EVENT], "cost"),
        "loan_interest_paid": total([kind.LOAN], "interest_paid"),
        "loan_guarantee_fee_paid": total([kind.LOAN], "guarantee_fee_paid"),
        "has_policy_guaranteed_loan": any_flag([kind.LOAN], "policy_guaranteed"),
    }


def derive_projects(data: Loaded, as_of: AsOf) -> dict[str, FactColumn]:
    return by_enterprise(data, data.projects, "projects_declared", projects_of, as_of)


@dataclass(frozen=True)
class DerivationGroup:
    codes: frozenset[str]
    derive: Callable[[Loaded, AsOf], dict[str, FactColumn]]
    reads: frozenset[str]  # which related tables the group needs loaded


def _group(
    derive: Callable[[Loaded, AsOf], dict[str, FactColumn]], reads: set[str], codes: set[str]
) -> DerivationGroup:
    return DerivationGroup(frozenset(codes), derive, frozenset(reads))


# The registry of builtin facts: every `derived: builtin` code of fixtures/facts/core.yaml.
BUILTIN_GROUPS: tuple[DerivationGroup, ...] = (
    _group(
        derive_identity,
        set(),
        {
            "district",
            "registered_region",
            "operating_region",
            "located_in_minhang",
            "years_since_registration",
            "legal_form",
            "is_foreign_invested",
            "industry_code",
            "is_manufacturing",
            "industry_tracks",
            "industry_subtracks",
            "enterprise_scale",
            "is_sme",
        },
    ),
    _group(derive_status, set(), {"is_above_scale", "newly_above_scale", "listing_exchange", "newly_listed"}),
    _group(
        derive_figures,
        {"figures"},
        {
            "output_value",
            "output_value_increase",
            "output_growth_rate",
            "output_first_crossed_1bn",
            "revenue",
            "rd_expense",
            "employees",
            "tax_paid",
        },
    ),
    _group(derive_recognitions, {"recognitions"}, {"recognitions", "recognitions_new", "tech_center_rating"}),
    _group(
        derive_projects,
        {"projects"},
        {
            "tech_upgrade_level",
            "tech_upgrade_total_investment",
            "new_equipment_investment",
            "municipal_funding_granted",
            "new_factory_purchase_area_m2",
            "new_factory_lease_area_m2",
            "rent_total",
            "is_new_key_industry_project",
            "in_industrial_upstairs_project",
            "mna_amount",
            "first_of_kind_contract_amount",
            "innovative_drug_rd_spend",
            "event_cost",
            "loan_interest_paid",
            "loan_guarantee_fee_paid",
            "has_policy_guaranteed_loan",
        },
    ),
)
BUILTIN_CODES: frozenset[str] = frozenset().union(*(group.codes for group in BUILTIN_GROUPS))


def in_force_key(row: StoredRow) -> tuple[int, datetime.date]:
    """Stored values in force: the latest dated row (year <= Y, or valid_from <= as-of), else the
    undated one (the rows read are those already in force)."""
    return (row.year if row.year is not None else -1, row.valid_from or datetime.date.min)


def derive_stored(data: Loaded, stored: list[tuple[str, int, str]]) -> dict[str, FactColumn]:
    """The stored facts asked for ((code, FactDefinition id, type)): the value in force, typed."""
    values = {code: [None] * data.n for code, _fact_id, _type in stored}
    sources: dict[str, list[str | None]] = {code: [None] * data.n for code, _fact_id, _type in stored}
    facts = {fact_id: (code, fact_type) for code, fact_id, fact_type in stored}
    typed: dict[tuple[str, str | None], Any] = {}  # each distinct JSON text decoded once per type
    for position, rows in data.fact_values.items():
        in_force: dict[int, StoredRow] = {}
        for row in rows:
            if row.fact_id not in facts:  # a row of the other list (stored / declared)
                continue
            current = in_force.get(row.fact_id)
            if current is None or in_force_key(row) > in_force_key(current):
                in_force[row.fact_id] = row
        for fact_id, row in in_force.items():
            code, fact_type = facts[fact_id]
            if (fact_type, row.value) not in typed:
                decoded = None if row.value is None else json.loads(row.value)
                typed[fact_type, row.value] = fact_catalog.from_json(fact_type, decoded)
            values[code][position], sources[code][position] = known(typed[fact_type, row.value], row.source)
    return {code: FactColumn(values[code], sources[code]) for code in values}


# ---------------------------------------------------------------- the plan: what to load and derive


@dataclass
class Plan:
    """Which catalog codes to produce, which groups compute them and which tables they read."""

    codes: list[str]
    groups: list[DerivationGroup]
    stored: list[tuple[str, int, str]]  # (code, FactDefinition id, type) of the stored facts asked for
    reads: set[str]
    formulas: list[tuple[str, formulas.Formula]] = field(default_factory=list)  # in dependency order
    # Builtin facts asked for, read as stored too: a value the enterprise declared (the self-check's
    # answer) stands in while the rows it is derived from are not entered; derived values win.
    declared: list[tuple[str, int, str]] = field(default_factory=list)

    @classmethod
    def make(cls, catalog: Mapping[str, Any], codes: Iterable[str] | None) -> Plan:
        wanted = list(catalog) if codes is None else list(dict.fromkeys(codes))
        unknown = sorted(set(wanted) - set(catalog))
        if unknown:
            raise UnknownFactError(", ".join(unknown))
        # item facts belong to items (item_rows), not to the enterprise
        wanted = [code for code in wanted if not getattr(catalog[code], "item_kind", "")]
        formula_codes = formulas.order(
            [code for code in wanted if catalog[code].derived == "formula"], catalog
        )
        inputs = set().union(*(formulas.formula_closure(code, catalog) for code in formula_codes))
        formula_codes = formulas.order(
            [*formula_codes, *(code for code in inputs if catalog[code].derived == "formula")], catalog
        )
        computed = list(dict.fromkeys([*wanted, *sorted(inputs)]))
        basic = [code for code in computed if catalog[code].derived != "formula"]
        builtin = {code for code in basic if catalog[code].derived == "builtin"}
        missing = builtin - BUILTIN_CODES
        if missing:
            logger.warning(
                "builtin facts without a derivation (always unknown): %s", ", ".join(sorted(missing))
            )
        groups = [group for group in BUILTIN_GROUPS if group.codes & builtin]
        stored = [(code, catalog[code].pk, catalog[code].type) for code in basic if code not in builtin]
        declared = [(code, catalog[code].pk, catalog[code].type) for code in basic if code in builtin]
        reads = set().union(*(group.reads for group in groups))
        if stored or declared:
            reads.add("fact_values")
        parsed = formulas.plan(formula_codes, catalog)
        return cls(
            codes=wanted, groups=groups, stored=stored, reads=reads, formulas=parsed, declared=declared
        )

    def derive(self, data: Loaded, as_of: AsOf) -> dict[str, FactColumn]:
        """code -> column for the planned codes (a code without a derivation is unknown)."""
        derived: dict[str, FactColumn] = {}
        for group in self.groups:
            derived.update(group.derive(data, as_of))
        derived.update(derive_stored(data, self.stored))
        if data.fact_values:
            for code, column in derive_stored(data, self.declared).items():
                derived[code] = with_declared(derived.get(code) or unknown_column(data.n), column)
        for code, formula in self.formulas:  # in dependency order, over the declared values too
            derived[code] = formula_column(formula, derived, data.n, as_of.date)
        return {code: derived[code] if code in derived else unknown_column(data.n) for code in self.codes}


def with_declared(derived: FactColumn, declared: FactColumn) -> FactColumn:
    """The derived value where known, else the declared one (with its source)."""
    if all(value is None for value in declared.values):
        return derived
    values = [d if d is not None else s for d, s in zip(derived.values, declared.values, strict=True)]

    def provenance() -> list[str | None]:
        return [
            d_source if d is not None else s_source
            for d, d_source, s_source in zip(derived.values, derived.sources, declared.sources, strict=True)
        ]

    return FactColumn(values, provenance)


# ---------------------------------------------------------------- loading


# table -> (model, row type, which rows the derivations read on the as-of date)
def _related_queries(plan: Plan, as_of: AsOf) -> dict[str, tuple[Any, type, Q]]:
    return {
        "figures": (YearlyFigure, FigureRow, Q(year__lt=as_of.year)),
        "recognitions": (Recognition, RecognitionRow, Q(year__lte=as_of.year)),
        "projects": (Project, ProjectRow, Q(year__gte=as_of.year - 1, year__lte=as_of.year)),
        "fact_values": (
            FactValue,
            StoredRow,
            Q(fact_id__in=[fact_id for _code, fact_id, _type in (*plan.stored, *plan.declared)])
            & (Q(year__isnull=True) | Q(year__lte=as_of.year))
            & (Q(valid_from__isnull=True) | Q(valid_from__lte=as_of.date)),
        ),
    }


def _load_related(data: Loaded, plan: Plan, as_of: AsOf, enterprises: Q) -> None:
    """The rows of each related table the plan reads, grouped by position: one query per table.
    `enterprises` selects the enterprise_id of the rows; rows of other enterprises are dropped."""
    position_of = {pk: position for position, pk in enumerate(data.enterprise["id"])}
    for table, (model, row_type, condition) in _related_queries(plan, as_of).items():
        if table not in plan.reads:
            continue
        make, grouped = row_type._make, getattr(data, table)
        rows = model.objects.filter(enterprises, condition).order_by()
        if by_copy():
            columns = copy_columns(rows.values_list("enterprise_id", *row_type._fields))
            read: Iterable[tuple] = zip(*columns, strict=True) if columns and columns[0] else ()
        else:
            fields = [Cast(name, TextField()) if name == "value" else name for name in row_type._fields]
            read = rows.values_list("enterprise_id", *fields)  # JSON as text: decoded once per text
        for row in read:
            position = position_of.get(row[0])
            if position is not None:
                grouped.setdefault(position, []).append(make(row[1:]))


def json_decoded(texts: list[str | None]) -> list[Any]:
    """json.loads of each text, once per distinct text (many enterprises share a few lists)."""
    decoded = {text: None if text is None else json.loads(text) for text in set(texts)}
    return [decoded[text] for text in texts]


def is_dense(ids: Sequence[int]) -> bool:
    """Whether sorted ids fill at least half of their range (a chunk of the bulk evaluation): such a
    set is read as an id range, which the database answers from the index much faster than a long
    IN list; the rows of other enterprises in the range are dropped."""
    return bool(ids) and 2 * len(ids) >= ids[-1] - ids[0] + 1


def by_copy() -> bool:
    """Whether the bulk readers read by COPY (PostgreSQL; SQLite, the embedded default, through the
    cursor: both give the same values, enterprises/tests/test_copy_read.py)."""
    return connection.vendor == "postgresql" and READ_BY_COPY


# Off by default: measured on 100,000 enterprises in 5,000-id chunks (bench/README.md), psycopg2's
# C decoding of the cursor rows was faster than COPY split by numpy, since the derivations need a
# Python object per value either way. The tests read through both and compare.
READ_BY_COPY = False


@contextmanager
def reading_by_copy(enabled: bool = True) -> Iterator[None]:
    """Read the bulk tables by COPY (or not) inside the block (the tests, the benchmark)."""
    global READ_BY_COPY
    before, READ_BY_COPY = READ_BY_COPY, enabled
    try:
        yield
    finally:
        READ_BY_COPY = before


def _enterprise_columns(rows_of: QuerySet, wanted: set[int] | None) -> list[list[Any]]:
    """The enterprise rows of `rows_of` as columns (ENTERPRISE_FIELDS order, JSON as text); with
    `wanted`, only the rows of those ids."""
    if by_copy():
        columns = copy_columns(rows_of.values_list(*ENTERPRISE_FIELDS))
        if wanted is not None and columns[0]:
            keep = np.isin(np.asarray(columns[0], dtype=np.int64), np.fromiter(wanted, dtype=np.int64))
            if not keep.all():
                columns = [np.asarray(column, dtype=object)[keep].tolist() for column in columns]
        return columns
    fields = [Cast(name, TextField()) if name in JSON_FIELDS else name for name in ENTERPRISE_FIELDS]
    rows = list(rows_of.values_list(*fields))
    if wanted is not None:
        rows = [row for row in rows if row[0] in wanted]
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in ENTERPRISE_FIELDS]


def _load_table(
    enterprises: QuerySet[Enterprise] | Iterable[int],
    plan: Plan,
    as_of: AsOf,
    regions: Mapping[tuple[str, str], str] | None = None,
) -> Loaded:
    rows_of = Enterprise.objects.order_by("pk")
    if isinstance(enterprises, QuerySet):
        selected: Any = enterprises.order_by().values("pk")  # as a subquery
        columns = _enterprise_columns(rows_of.filter(pk__in=selected), None)
    else:
        selected = sorted(set(enterprises))
        if is_dense(selected):
            rows_in_range = rows_of.filter(pk__gte=selected[0], pk__lte=selected[-1])
            columns = _enterprise_columns(rows_in_range, set(selected))
        else:
            columns = _enterprise_columns(rows_of.filter(pk__in=selected), None)
    data = Loaded(enterprise=dict(zip(ENTERPRISE_FIELDS, columns, strict=True)), regions=regions)
    for name in JSON_FIELDS:  # read as text: decoding each row's JSON would cost more than the rest
        data.enterprise[name] = json_decoded(data.enterprise[name])
    ids = data.enterprise["id"]
    if ids:
        in_range = Q(enterprise_id__gte=ids[0], enterprise_id__lte=ids[-1])
        _load_related(data, plan, as_of, in_range if is_dense(ids) else Q(enterprise_id__in=selected))
    return data


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector. Reading a table allocates some hundred thousand row
    tuples and lists, none in a reference cycle (reference counting frees them); the collector
    would run every few hundred allocations and scan every one of them again: about 40 % of the
    time of facts_table on 100,000 enterprises."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------- public API


def facts_for(
    enterprise: Enterprise,
    as_of: datetime.date,
    *,
    catalog: Mapping[str, Any] | None = None,
    regions: Mapping[tuple[str, str], str] | None = None,
) -> FactSheet:
    """Every catalog fact for one enterprise on `as_of` (None where unknown), with its provenance.
    `regions`: region_codes() when the caller already holds it (read here otherwise)."""
    catalog = catalog if catalog is not None else fact_catalog.load_catalog()
    plan = Plan.make(catalog, None)
    moment = AsOf(as_of)
    data = Loaded(
        enterprise={
            name: [getattr(enterprise, "pk" if name == "id" else name)] for name in ENTERPRISE_FIELDS
        },
        regions=regions,
    )
    _load_related(data, plan, moment, Q(enterprise_id=enterprise.pk))
    columns = plan.derive(data, moment)
    values = {code: column.values[0] for code, column in columns.items()}
    sources = {code: columns[code].sources[0] for code, value in values.items() if value is not None}
    items: dict[str, list[ItemSheet]] = {}
    for row in Item.objects.filter(enterprise_id=enterprise.pk).order_by("kind", "pk"):
        items.setdefault(row.kind, []).append(
            ItemSheet(
                row.pk,
                row.title,
                _item_values(row.values, catalog, row.kind, as_of, item_formulas(catalog, row.kind)),
                row.source,
            )
        )
    return FactSheet(values=values, sources=sources, items=items)


def formula_column(
    formula: formulas.Formula, derived: Mapping[str, FactColumn], n: int, on: datetime.date
) -> FactColumn:
    """A formula fact for every row, from the columns of its inputs (unknown input → unknown)."""
    inputs = {name: derived[name].values if name in derived else [None] * n for name in formula.inputs}
    names = sorted(inputs)
    columns = [inputs[name] for name in names]
    values = (
        [
            formulas.evaluate(formula, dict(zip(names, row, strict=True)), on)
            for row in zip(*columns, strict=True)
        ]
        if names
        else [formulas.evaluate(formula, {}, on)] * n
    )
    return FactColumn(values, lambda: [DERIVED if value is not None else None for value in values])


def item_formulas(catalog: Mapping[str, Any], kind: str) -> list[tuple[str, formulas.Formula]]:
    """The formula facts of one item kind, planned once for all its items."""
    codes = [
        code
        for code, definition in catalog.items()
        if getattr(definition, "item_kind", "") == kind and getattr(definition, "formula", "")
    ]
    return formulas.plan(codes, catalog)


def _item_values(
    stored: Mapping[str, Any],
    catalog: Mapping[str, Any],
    kind: str,
    on: datetime.date,
    steps: list[tuple[str, formulas.Formula]],
) -> dict[str, Any]:
    """Typed values of an item's JSON, with the kind's formula facts (`steps`) computed from them on
    the as-of date; facts no longer of the kind (or no longer fitting) are unknown."""
    typed = {}
    for code, value in (stored or {}).items():
        definition = catalog.get(code)
        if definition is not None and getattr(definition, "item_kind", "") == kind:
            typed[code] = fact_catalog.from_json(definition.type, value)
    # a formula fact is computed from the item's values; a stored value only stands in where it cannot be
    computed = {code for code, _formula in steps}
    inputs = {code: value for code, value in typed.items() if code not in computed}
    derived = formulas.apply(steps, inputs, on)
    for code in computed & typed.keys():
        if derived.get(code) is None:
            derived[code] = typed[code]
    return derived


def item_rows(
    enterprise_ids: list[int],
    catalog: Mapping[str, Any],
    codes: Iterable[str] | None = None,
    on: datetime.date | None = None,
) -> dict[str, ItemRows]:
    """The items of these enterprises, by kind, as columns of the item facts (of `codes`, or all)."""
    on = on or datetime.date.today()
    wanted = None if codes is None else set(codes)
    kinds: dict[str, list[str]] = {}
    for code, definition in catalog.items():
        kind = getattr(definition, "item_kind", "")
        if kind and (wanted is None or code in wanted):
            kinds.setdefault(kind, []).append(code)
    if not kinds or not enterprise_ids:
        return {}
    position_of = {pk: position for position, pk in enumerate(enterprise_ids)}
    steps = {kind: item_formulas(catalog, kind) for kind in kinds}
    ordered = sorted(enterprise_ids)
    selected = (
        Q(enterprise_id__gte=ordered[0], enterprise_id__lte=ordered[-1])
        if is_dense(ordered)
        else Q(enterprise_id__in=ordered)
    )
    rows: Iterable[tuple] = (
        Item.objects.filter(selected, kind__in=list(kinds))
        .order_by("enterprise_id", "pk")
        .values_list("kind", "enterprise_id", "pk", "values", "title", "source")
    )
    if by_copy():  # the JSON comes as text: decoded once per distinct text
        kind_c, owner_c, pk_c, values_c, title_c, source_c = copy_columns(rows)
        rows = zip(kind_c, owner_c, pk_c, json_decoded(values_c), title_c, source_c, strict=True)
    found = {kind: ItemRows([], [], {code: [] for code in codes}) for kind, codes in kinds.items()}
    for kind, enterprise_id, pk, stored, title, source in rows:
        position = position_of.get(enterprise_id)
        if position is None:
            continue
        table = found[kind]
        table.owner.append(position)
        table.ids.append(pk)
        table.titles.append(title)
        table.sources.append(source)
        values = _item_values(stored, catalog, kind, on, steps[kind])
        for code, column in table.columns.items():
            column.append(values.get(code))
    return found


def facts_table(
    enterprises: QuerySet[Enterprise] | Iterable[int],
    as_of: datetime.date,
    codes: Iterable[str] | None = None,
    *,
    with_sources: bool = False,
    catalog: Mapping[str, Any] | None = None,
    regions: Mapping[tuple[str, str], str] | None = None,
) -> FactTable:
    """The same values as facts_for for every enterprise of `enterprises` (a queryset, or ids: a
    chunk of consecutive ids is read fastest), as columns ordered by id; with_sources: their
    provenance too (FactTable.sheet gives one enterprise's FactSheet). `catalog`, `regions`
    (region_codes()): when the caller already holds them (read here otherwise)."""
    catalog = catalog if catalog is not None else fact_catalog.load_catalog()
    codes = None if codes is None else list(codes)
    plan = Plan.make(catalog, codes)
    moment = AsOf(as_of)
    with cyclic_gc_paused():
        data = _load_table(enterprises, plan, moment, regions)
        columns = plan.derive(data, moment)
    return FactTable(
        enterprise_ids=data.enterprise["id"],
        columns={code: column.values for code, column in columns.items()},
        sources={code: column.sources for code, column in columns.items()} if with_sources else None,
        items=item_rows(data.enterprise["id"], catalog, codes, as_of),
    )
