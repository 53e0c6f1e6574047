"""The value of every catalog fact for an enterprise on a date: one enterprise (`facts_for`) or many
at once (`facts_table`, set-wise: a fixed number of queries whatever the number of enterprises).

Both paths load the same rows into the same plain dicts (`Bundle`) and call the same derivation
functions (`BUILTIN_GROUPS`), so they cannot disagree; a property test proves they don't.

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
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from enterprises import catalog as fact_catalog
from enterprises import taxonomy
from enterprises.models import Enterprise, FactValue, Project, Recognition, YearlyFigure

logger = logging.getLogger(__name__)

DERIVED = "derived"  # provenance of a value computed from rows of different sources
ONE_BILLION = Decimal(1_000_000_000)
SME_SCALES = {Enterprise.Scale.MEDIUM, Enterprise.Scale.SMALL, Enterprise.Scale.MICRO}
TECH_CENTER_KINDS = {"tech_center_municipal": 1, "tech_center_national": 2}  # higher wins a same-year tie

ENTERPRISE_FIELDS = (
    "id",
    "district",
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
FIGURE_FIELDS = ("year", "output_value", "revenue", "rd_expense", "employees", "tax_paid", "source")
RECOGNITION_FIELDS = ("kind", "year", "first_time", "grade", "source")
PROJECT_FIELDS = (
    "kind",
    "year",
    "level",
    "total_investment",
    "new_equipment_investment",
    "municipal_funding_granted",
    "area_m2",
    "rent_total",
    "contract_amount",
    "cost",
    "interest_paid",
    "guarantee_fee_paid",
    "is_new",
    "self_use",
    "key_industry_new_project",
    "policy_guaranteed",
    "source",
)
FACT_VALUE_FIELDS = ("fact_id", "value", "year", "valid_from", "source")

Known = tuple[Any, str | None]  # (value, provenance); provenance is None when the value is None
UNKNOWN: Known = (None, None)
Row = dict[str, Any]


class UnknownFactError(KeyError):
    """A code asked for is not in the fact catalog."""


@dataclass(frozen=True)
class FactSheet:
    values: dict[str, Any]
    sources: dict[str, str]


@dataclass
class FactTable:
    enterprise_ids: list[int]
    columns: dict[str, list[Any]]


@dataclass
class Bundle:
    """Everything the derivations read for one enterprise, as plain dicts."""

    enterprise: Row
    figures: dict[int, Row] = field(default_factory=dict)  # year -> row
    recognitions: list[Row] = field(default_factory=list)
    projects: list[Row] = field(default_factory=list)
    fact_values: dict[int, list[Row]] = field(default_factory=dict)  # FactDefinition id -> rows


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


# ---------------------------------------------------------------- provenance helpers


def known(value: Any, source: str | None) -> Known:
    return (value, source if value is not None else None)


def common_source(rows: Iterable[Row]) -> str:
    sources = {row["source"] for row in rows}
    return sources.pop() if len(sources) == 1 else DERIVED


# ---------------------------------------------------------------- derivations (one function per group)


def derive_identity(bundle: Bundle, as_of: AsOf) -> dict[str, Known]:
    enterprise = bundle.enterprise
    source = enterprise["source"]
    district = enterprise["district"] or None
    industry_code = enterprise["industry_code"] or None
    scale = enterprise["scale"] or None
    registered_on = enterprise["registered_on"]
    years = None
    if registered_on is not None:
        anniversary_passed = (as_of.date.month, as_of.date.day) >= (registered_on.month, registered_on.day)
        years = Decimal(as_of.date.year - registered_on.year - (0 if anniversary_passed else 1))
    return {
        "district": known(district, source),
        "located_in_minhang": known(None if district is None else district == taxonomy.MINHANG, source),
        "years_since_registration": known(years, source),
        "legal_form": known(enterprise["legal_form"] or None, source),
        "is_foreign_invested": known(enterprise["is_foreign_invested"], source),
        "industry_code": known(industry_code, source),
        "is_manufacturing": known(
            None if industry_code is None else taxonomy.is_manufacturing_code(industry_code), source
        ),
        "industry_tracks": known(frozenset(enterprise["industry_tracks"] or ()) or None, source),
        "industry_subtracks": known(frozenset(enterprise["industry_subtracks"] or ()) or None, source),
        "enterprise_scale": known(scale, source),
        "is_sme": known(None if scale is None else scale in SME_SCALES, source),
    }


def derive_status(bundle: Bundle, as_of: AsOf) -> dict[str, Known]:
    enterprise = bundle.enterprise
    source = enterprise["source"]
    since = enterprise["above_scale_since"]
    above = enterprise["above_scale"]
    if since is not None and since > as_of.year:
        above = False  # not yet included on the as-of date
    if since is not None:
        newly_above = as_of.is_this_year(since)
    else:
        newly_above = False if enterprise["above_scale"] is False else None

    exchange = enterprise["listing_exchange"] or None
    listed_on = enterprise["listed_on"]
    newly_listed = None
    if exchange == Enterprise.Exchange.NONE:
        newly_listed = False
    elif exchange is not None and listed_on is not None:
        if listed_on > as_of.date:
            exchange, newly_listed = Enterprise.Exchange.NONE.value, False
        else:
            newly_listed = as_of.is_this_year(listed_on.year)
    return {
        "is_above_scale": known(above, source),
        "newly_above_scale": known(newly_above, source),
        "listing_exchange": known(exchange, source),
        "newly_listed": known(newly_listed, source),
    }


def derive_figures(bundle: Bundle, as_of: AsOf) -> dict[str, Known]:
    last = bundle.figures.get(as_of.last_completed_year)
    before = bundle.figures.get(as_of.last_completed_year - 1)
    facts: dict[str, Known] = {
        code: known(last[column], last["source"]) if last else UNKNOWN
        for code, column in (
            ("output_value", "output_value"),
            ("revenue", "revenue"),
            ("rd_expense", "rd_expense"),
            ("employees", "employees"),
            ("tax_paid", "tax_paid"),
        )
    }
    output = last["output_value"] if last else None
    output_before = before["output_value"] if before else None
    increase = rate = None
    if output is not None and output_before is not None:
        increase = output - output_before
        if output_before != 0:
            rate = (increase * 100 / output_before).quantize(Decimal("0.01"))
    both = common_source([last, before]) if last and before else None
    facts["output_value_increase"] = known(increase, both)
    facts["output_growth_rate"] = known(rate, both)

    # First crossing of 1 billion: last year >= 1bn and every earlier known year below it.
    # With no earlier figure at all we cannot tell whether it is the first time.
    first_crossed = None
    earlier = [row for year, row in bundle.figures.items() if year < as_of.last_completed_year]
    earlier_known = [row for row in earlier if row["output_value"] is not None]
    if output is not None:
        if output < ONE_BILLION or any(row["output_value"] >= ONE_BILLION for row in earlier_known):
            first_crossed = False
        elif earlier_known:
            first_crossed = True
    facts["output_first_crossed_1bn"] = known(
        first_crossed, common_source([last, *earlier_known]) if last else None
    )
    return facts


def derive_recognitions(bundle: Bundle, as_of: AsOf) -> dict[str, Known]:
    rows = [row for row in bundle.recognitions if row["year"] <= as_of.year]
    if not rows and not bundle.enterprise["recognitions_declared"]:
        return {
            "recognitions": UNKNOWN,
            "recognitions_new": UNKNOWN,
            "tech_center_rating": UNKNOWN,
        }
    source = common_source(rows) if rows else bundle.enterprise["source"]
    new_rows = [row for row in rows if row["first_time"] and as_of.is_this_year(row["year"])]
    rated = [row for row in rows if row["kind"] in TECH_CENTER_KINDS and row["grade"]]
    latest = max(rated, key=lambda row: (row["year"], TECH_CENTER_KINDS[row["kind"]]), default=None)
    return {
        "recognitions": (frozenset(row["kind"] for row in rows), source),
        "recognitions_new": (
            frozenset(row["kind"] for row in new_rows),
            common_source(new_rows) if new_rows else source,
        ),
        "tech_center_rating": known(latest["grade"], latest["source"]) if latest else UNKNOWN,
    }


def derive_projects(bundle: Bundle, as_of: AsOf) -> dict[str, Known]:
    declared = bundle.enterprise["projects_declared"]
    fallback = bundle.enterprise["source"]
    by_kind: dict[str, list[Row]] = defaultdict(list)
    for row in bundle.projects:
        if as_of.is_this_year(row["year"]):
            by_kind[row["kind"]].append(row)

    def total(kinds: Iterable[str], column: str, counts: Callable[[Row], bool] = lambda row: True) -> Known:
        rows = [row for kind in kinds for row in by_kind[kind]]
        if not rows:
            return (Decimal(0), fallback) if declared else UNKNOWN
        counted = [row for row in rows if counts(row)]
        if any(row[column] is None for row in counted):
            return UNKNOWN
        return (sum((row[column] for row in counted), Decimal(0)), common_source(rows))

    def any_flag(kinds: Iterable[str], column: str) -> Known:
        rows = [row for kind in kinds for row in by_kind[kind]]
        if not rows:
            return (False, fallback) if declared else UNKNOWN
        if any(row[column] is True for row in rows):
            return (True, common_source(row for row in rows if row[column] is True))
        if any(row[column] is None for row in rows):
            return UNKNOWN
        return (False, common_source(rows))

    upgrades = by_kind[Project.Kind.TECH_UPGRADE]
    levels = {row["level"] for row in upgrades}
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

    def new_self_use(row: Row) -> bool:
        return row["is_new"] and row["self_use"]

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


@dataclass(frozen=True)
class DerivationGroup:
    codes: frozenset[str]
    derive: Callable[[Bundle, AsOf], dict[str, Known]]
    reads: frozenset[str]  # which related tables the group needs loaded


def _group(
    derive: Callable[[Bundle, AsOf], dict[str, Known]], reads: set[str], codes: set[str]
) -> DerivationGroup:
    return DerivationGroup(frozenset(codes), derive, frozenset(reads))


# The registry of builtin facts: every `derived: builtin` code of fixtures/facts/core.yaml.
BUILTIN_GROUPS: tuple[DerivationGroup, ...] = (
    _group(
        derive_identity,
        set(),
        {
            "district",
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


def stored_value(rows: list[Row], fact_type: str) -> Known:
    """The value in force: the latest dated row (year <= Y, or valid_from <= as-of), else the undated one."""
    if not rows:
        return UNKNOWN
    best = max(
        rows,
        key=lambda row: (
            row["year"] if row["year"] is not None else -1,
            row["valid_from"] or datetime.date.min,
        ),
    )
    return known(fact_catalog.from_json(fact_type, best["value"]), best["source"])


# ---------------------------------------------------------------- the plan: what to load and derive


@dataclass
class Plan:
    """Which catalog codes to produce, which groups compute them and which tables they read."""

    codes: list[str]
    groups: list[DerivationGroup]
    stored: list[tuple[str, int, str]]  # (code, FactDefinition id, type) of the stored facts asked for
    reads: set[str]

    @classmethod
    def make(cls, catalog: Mapping[str, Any], codes: Iterable[str] | None) -> Plan:
        wanted = list(catalog) if codes is None else list(dict.fromkeys(codes))
        unknown = sorted(set(wanted) - set(catalog))
        if unknown:
            raise UnknownFactError(", ".join(unknown))
        builtin = {code for code in wanted if catalog[code].derived == "builtin"}
        missing = builtin - BUILTIN_CODES
        if missing:
            logger.warning(
                "builtin facts without a derivation (always unknown): %s", ", ".join(sorted(missing))
            )
        groups = [group for group in BUILTIN_GROUPS if group.codes & builtin]
        stored = [(code, catalog[code].pk, catalog[code].type) for code in wanted if code not in builtin]
        reads = set().union(*(group.reads for group in groups))
        if stored:
            reads.add("fact_values")
        return cls(codes=wanted, groups=groups, stored=stored, reads=reads)

    def derive(self, bundle: Bundle, as_of: AsOf) -> dict[str, Known]:
        """code -> (value, provenance) for the planned codes (a missing code is unknown)."""
        facts: dict[str, Known] = {}
        for group in self.groups:
            facts.update(group.derive(bundle, as_of))
        fact_values = bundle.fact_values
        for code, fact_id, fact_type in self.stored:
            rows = fact_values.get(fact_id)
            facts[code] = stored_value(rows, fact_type) if rows else UNKNOWN
        return facts


def _load_related(plan: Plan, as_of: AsOf, enterprise_filter: Q) -> dict[str, dict[int, list[Row]]]:
    """Rows of each related table the plan reads, grouped by enterprise id: one query per table."""
    queries = {
        "figures": (YearlyFigure, FIGURE_FIELDS, Q(year__lt=as_of.year)),
        "recognitions": (Recognition, RECOGNITION_FIELDS, Q(year__lte=as_of.year)),
        "projects": (Project, PROJECT_FIELDS, Q(year__gte=as_of.year - 1, year__lte=as_of.year)),
        "fact_values": (
            FactValue,
            FACT_VALUE_FIELDS,
            Q(fact_id__in=[fact_id for _code, fact_id, _type in plan.stored])
            & (Q(year__isnull=True) | Q(year__lte=as_of.year))
            & (Q(valid_from__isnull=True) | Q(valid_from__lte=as_of.date)),
        ),
    }
    loaded: dict[str, dict[int, list[Row]]] = {}
    for table in plan.reads:
        model, fields, condition = queries[table]
        grouped: dict[int, list[Row]] = defaultdict(list)
        for row in (
            model.objects.filter(enterprise_filter, condition).order_by().values("enterprise_id", *fields)
        ):
            grouped[row.pop("enterprise_id")].append(row)
        loaded[table] = grouped
    return loaded


def _bundle(enterprise: Row, related: dict[str, dict[int, list[Row]]]) -> Bundle:
    pk = enterprise["id"]
    fact_values: dict[int, list[Row]] = defaultdict(list)
    for row in related.get("fact_values", {}).get(pk, ()):
        fact_values[row["fact_id"]].append(row)
    return Bundle(
        enterprise=enterprise,
        figures={row["year"]: row for row in related.get("figures", {}).get(pk, ())},
        recognitions=related.get("recognitions", {}).get(pk, []),
        projects=related.get("projects", {}).get(pk, []),
        fact_values=fact_values,
    )


# ---------------------------------------------------------------- public API


def facts_for(
    enterprise: Enterprise, as_of: datetime.date, *, catalog: Mapping[str, Any] | None = None
) -> FactSheet:
    """Every catalog fact for one enterprise on `as_of` (None where unknown), with its provenance."""
    plan = Plan.make(catalog if catalog is not None else fact_catalog.load_catalog(), None)
    moment = AsOf(as_of)
    row = {name: getattr(enterprise, "pk" if name == "id" else name) for name in ENTERPRISE_FIELDS}
    related = _load_related(plan, moment, Q(enterprise_id=enterprise.pk))
    facts = plan.derive(_bundle(row, related), moment)
    values = {code: facts.get(code, UNKNOWN)[0] for code in plan.codes}
    sources = {code: facts[code][1] for code, value in values.items() if value is not None}
    return FactSheet(values=values, sources=sources)


def facts_table(
    queryset: QuerySet[Enterprise], as_of: datetime.date, codes: Iterable[str] | None = None
) -> FactTable:
    """The same values as facts_for for every enterprise of `queryset`, as columns (ordered by id)."""
    plan = Plan.make(fact_catalog.load_catalog(), None if codes is None else list(codes))
    moment = AsOf(as_of)
    ids = queryset.order_by().values("pk")
    related = _load_related(plan, moment, Q(enterprise_id__in=ids))
    enterprise_ids: list[int] = []
    columns: dict[str, list[Any]] = {code: [] for code in plan.codes}
    appenders = [(code, columns[code].append) for code in plan.codes]
    rows = Enterprise.objects.filter(pk__in=ids).order_by("pk").values(*ENTERPRISE_FIELDS)
    for row in rows.iterator(chunk_size=5000):
        enterprise_ids.append(row["id"])
        facts = plan.derive(_bundle(row, related), moment)
        for code, append in appenders:
            append(facts.get(code, UNKNOWN)[0])
    return FactTable(enterprise_ids=enterprise_ids, columns=columns)
