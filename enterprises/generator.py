"""Synthetic but plausible Shanghai enterprises for scale tests (`manage.py generate_enterprises`).

Deterministic for a seed and a reference year. Most enterprises are small; few pass the policy
thresholds; 10-30 % of the facts stay unknown. Rows are built as plain dicts and written in
batches by enterprises.copy_write (COPY on PostgreSQL), history rows included.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from enterprises import taxonomy
from enterprises.copy_write import insert_rows
from enterprises.models import Enterprise, FactValue, Project, Recognition, Source, YearlyFigure
from enterprises.validators import credit_code_for
from policies.models import FactDefinition

SERIAL_BLOCK = 10**8  # serials of one seed: [block * (1 + seed % 8000), +N)

TRADE_NAME_CHARS = (
    "华新创瑞博达联通明远泰恒嘉信宏亿盛凯丰源科睿智航锐晟昊鼎辰德安康宇润和美成天海星浦申沪闵虹莘春江翔"
)
WORDS_BY_DIVISION = {
    "26": "化工科技", "27": "生物医药", "29": "新材料", "33": "精密金属", "34": "机械设备", "35": "智能装备",
    "36": "汽车零部件", "37": "航空科技", "38": "电气", "39": "电子科技", "40": "仪器仪表", "41": "制造",
    "51": "贸易", "64": "网络科技", "65": "信息技术", "72": "管理咨询", "73": "研发", "74": "检测技术",
}  # fmt: skip
DIVISION_WEIGHTS = {
    "26": 5, "27": 6, "29": 5, "33": 6, "34": 9, "35": 9, "36": 6, "37": 2, "38": 8, "39": 9, "40": 4, "41": 2,
    "51": 8, "64": 4, "65": 10, "72": 3, "73": 2, "74": 2,
}  # fmt: skip
TRACKS_BY_DIVISION = {
    "27": ["biomedicine"], "35": ["high_end_equipment", "biomedicine", "artificial_intelligence"],
    "34": ["high_end_equipment"], "37": ["high_end_equipment"], "36": ["new_tracks_future", "high_end_equipment"],
    "38": ["new_tracks_future", "high_end_equipment"], "39": ["new_gen_it", "artificial_intelligence"],
    "40": ["high_end_equipment", "new_gen_it"], "64": ["new_gen_it"], "65": ["new_gen_it", "artificial_intelligence"],
    "73": ["biomedicine", "artificial_intelligence", "new_tracks_future"], "29": ["high_end_equipment"],
}  # fmt: skip
SCALES = [("micro", 45), ("small", 35), ("medium", 12), ("large", 3), ("", 5)]
ABOVE_SCALE_SHARE = {"large": 0.95, "medium": 0.75, "small": 0.2, "micro": 0.01, "": 0.1}
# typical yearly output (yuan) by scale: median of a log-normal
OUTPUT_MEDIAN = {"micro": 1.5e6, "small": 1.5e7, "medium": 1.2e8, "large": 1.2e9, "": 1e7}
EMPLOYEES_MEDIAN = {"micro": 8, "small": 45, "medium": 300, "large": 1500, "": 30}
RECOGNITION_WEIGHTS = {
    "high_tech_enterprise": 40, "sh_specialized_sme": 20, "little_giant": 4, "single_champion": 0.5,
    "tech_center_district": 6, "tech_center_municipal": 4, "tech_center_national": 0.5,
    "smart_factory_municipal": 2, "excellent_scenario_municipal": 2, "cmmm_certified": 3, "dcmm_certified": 2,
    "dsmm_certified": 1, "green_factory": 3, "zero_carbon_factory": 0.5, "sh_innovative_product_catalog": 3,
    "future_industry_star": 0.5, "featured_park_municipal": 0.3, "public_service_platform": 0.3, "unicorn": 0.2,
    "tech_innovation_center_municipal": 0.5, "mfg_innovation_center_municipal": 0.3,
    "smart_mfg_solution_national": 0.3, "green_supply_chain": 0.5, "chain_leader": 0.2,
}  # fmt: skip
PROJECT_WEIGHTS = {
    "tech_upgrade": 30, "factory_lease": 25, "factory_purchase": 6, "loan": 20, "industrial_upstairs": 3,
    "first_of_kind": 4, "event": 3, "mna": 2, "drug_rd": 3,
}  # fmt: skip
OTHER_DISTRICTS = [name for name in taxonomy.SHANGHAI_DISTRICTS if name != taxonomy.MINHANG]


Row = dict[str, Any]


@dataclass
class Draft:
    """One enterprise and its related rows as plain dicts keyed by field attname, not yet saved."""

    enterprise: Row
    figures: list[Row] = field(default_factory=list)
    recognitions: list[Row] = field(default_factory=list)
    projects: list[Row] = field(default_factory=list)
    fact_values: list[Row] = field(default_factory=list)


class EnterpriseGenerator:
    def __init__(self, *, seed: int, reference_year: int | None = None, unknown_share: float = 0.15):
        self.random = random.Random(seed)
        self.seed = seed
        self.year = reference_year or timezone.localdate().year
        self.unknown_share = unknown_share
        self.next_serial = SERIAL_BLOCK * (1 + seed % 8000)
        stored = FactDefinition.objects.filter(
            code__in=["is_industry_association", "is_park_developer", "ic_industry_entity"]
        )
        self.stored_facts = {row.code: row for row in stored}

    # ---------------------------------------------------------------- small helpers
    def maybe(self, value, unknown_share: float | None = None):
        """The value, or None (unknown) with the generator's unknown share."""
        share = self.unknown_share if unknown_share is None else unknown_share
        return None if self.random.random() < share else value

    def pick(self, weights: dict | list):
        items = list(weights.items()) if isinstance(weights, dict) else weights
        values, counts = zip(*items, strict=True)
        return self.random.choices(values, weights=counts)[0]

    def money(self, median: float, sigma: float = 1.0) -> Decimal:
        return Decimal(round(self.random.lognormvariate(0, sigma) * median, -3)).quantize(Decimal("1"))

    def credit_code(self, district: str) -> str:
        division = taxonomy.SHANGHAI_DISTRICTS.get(district, "320500")
        self.next_serial += 1
        return credit_code_for(self.next_serial, division=division)

    # ---------------------------------------------------------------- one enterprise
    def draft(self) -> Draft:
        rnd = self.random
        roll = rnd.random()
        district = (
            taxonomy.MINHANG
            if roll < 0.7
            else taxonomy.OUTSIDE_SHANGHAI
            if roll < 0.73
            else rnd.choice(OTHER_DISTRICTS)
        )
        division = self.pick(DIVISION_WEIGHTS)
        industry_code = f"{division}{rnd.randint(1, 9)}{rnd.randint(0, 9)}"
        trade_name = "".join(rnd.sample(TRADE_NAME_CHARS, 2))
        scale = self.pick(SCALES)
        tracks: list[str] = []
        if division in TRACKS_BY_DIVISION and rnd.random() < 0.75:
            tracks = rnd.sample(
                TRACKS_BY_DIVISION[division],
                k=min(len(TRACKS_BY_DIVISION[division]), rnd.choice([1, 1, 1, 2])),
            )
        subtracks = sorted(
            {rnd.choice(taxonomy.INDUSTRY_SUBTRACKS[track])[0] for track in tracks if rnd.random() < 0.7}
        )
        founded = datetime.date(
            self.year - 1 - min(int(rnd.expovariate(1 / 9)), 35), rnd.randint(1, 12), rnd.randint(1, 28)
        )
        above = rnd.random() < ABOVE_SCALE_SHARE[scale]
        exchange = ""
        listed_on = None
        if rnd.random() > 0.1:
            exchange = "none"
            first_listing_year = max(founded.year + 3, 2000)
            if scale in ("large", "medium") and first_listing_year < self.year and rnd.random() < 0.12:
                exchange = self.pick({"sse": 5, "szse": 3, "bse": 1, "hkex": 1, "overseas_other": 0.3})
                listing_day = datetime.date(
                    rnd.randint(first_listing_year, self.year - 1), rnd.randint(1, 12), rnd.randint(1, 28)
                )
                listed_on = self.maybe(listing_day, 0.1)
        enterprise = dict(
            name=f"上海{trade_name}{WORDS_BY_DIVISION[division]}{'股份' if scale == 'large' else ''}有限公司",
            credit_code=self.credit_code(district),
            district=district,
            town=rnd.choice(taxonomy.MINHANG_TOWNS) if district == taxonomy.MINHANG else "",
            address="",
            registered_on=self.maybe(founded, 0.05),
            legal_form=self.maybe(
                self.pick(
                    {"llc": 80, "joint_stock": 10, "partnership": 3, "branch": 5, "non_legal_person": 2}
                ),
                0.05,
            )
            or "",
            industry_code=self.maybe(industry_code, 0.05) or "",
            industry_tracks=tracks,
            industry_subtracks=subtracks,
            scale=scale,
            is_foreign_invested=self.maybe(rnd.random() < 0.08),
            above_scale=self.maybe(above, 0.1),
            above_scale_since=self.maybe(rnd.randint(max(founded.year, 2005), self.year), 0.2)
            if above
            else None,
            listing_exchange=exchange,
            listed_on=listed_on,
            recognitions_declared=rnd.random() < 0.85,
            projects_declared=rnd.random() < 0.8,
            source=self.pick({Source.SELF_DECLARED: 6, Source.REGISTER: 3, Source.STAFF: 1}),
        )
        draft = Draft(enterprise)
        self.add_figures(draft, scale, founded)
        self.add_recognitions(draft, founded)
        self.add_projects(draft, scale)
        self.add_fact_values(draft, division)
        return draft

    def add_figures(self, draft: Draft, scale: str, founded: datetime.date) -> None:
        rnd = self.random
        if rnd.random() < 0.1:
            return
        output = self.money(OUTPUT_MEDIAN[scale], 0.8)
        employees = max(1, int(rnd.lognormvariate(0, 0.5) * EMPLOYEES_MEDIAN[scale]))
        source = self.pick({Source.SELF_DECLARED: 5, Source.REGISTER: 5})
        for year in range(max(self.year - 3, founded.year), self.year):
            growth = Decimal(str(round(rnd.gauss(0.08, 0.15), 3)))
            output = max(Decimal(0), (output * (1 + growth)).quantize(Decimal("1")))
            draft.figures.append(
                dict(
                    year=year,
                    output_value=self.maybe(output),
                    revenue=self.maybe((output * Decimal("1.15")).quantize(Decimal("1"))),
                    rd_expense=self.maybe(
                        (output * Decimal(str(round(rnd.uniform(0.01, 0.08), 3)))).quantize(Decimal("1")),
                        0.25,
                    ),
                    employees=self.maybe(employees),
                    tax_paid=self.maybe((output * Decimal("0.04")).quantize(Decimal("1")), 0.3),
                    source=source,
                )
            )

    def add_recognitions(self, draft: Draft, founded: datetime.date) -> None:
        rnd = self.random
        count = self.pick({0: 75, 1: 15, 2: 7, 3: 3})
        kinds = set()
        for _ in range(count):
            kinds.add(self.pick(RECOGNITION_WEIGHTS))
        for kind in sorted(kinds):
            year = rnd.randint(max(founded.year, self.year - 8), self.year)
            level = (
                "national"
                if kind.endswith("national") or kind in ("little_giant", "single_champion")
                else "municipal"
            )
            grade = ""
            if kind.startswith("tech_center_") and kind != "tech_center_district" and rnd.random() < 0.6:
                grade = self.pick({"excellent": 2, "good": 5, "pass": 3, "fail": 0.5})
            draft.recognitions.append(
                dict(
                    kind=kind,
                    level=level,
                    year=year,
                    certificate_no=f"{year}-{rnd.randint(10000, 99999)}",
                    first_time=rnd.random() < 0.8,
                    grade=grade,
                    source=self.pick({Source.REGISTER: 6, Source.SELF_DECLARED: 4}),
                )
            )

    def add_projects(self, draft: Draft, scale: str) -> None:
        rnd = self.random
        count = self.pick({0: 80, 1: 15, 2: 5})
        size = {"large": 8.0, "medium": 3.0, "small": 1.0, "micro": 0.3, "": 1.0}[scale]
        for _ in range(count):
            kind = self.pick(PROJECT_WEIGHTS)
            project: Row = {
                "kind": kind,
                "year": rnd.choice([self.year - 1, self.year]),
                "source": Source.SELF_DECLARED,
            }
            if kind == "tech_upgrade":
                project["level"] = self.pick({"district": 4, "municipal": 1})
                project["total_investment"] = self.maybe(self.money(6e6 * size, 1.0))
                if project.get("total_investment") is not None:
                    project["new_equipment_investment"] = self.maybe(
                        (project["total_investment"] * Decimal("0.6")).quantize(Decimal("1"))
                    )
                if project["level"] == "municipal":
                    project["municipal_funding_granted"] = self.maybe(self.money(1.5e6 * size, 0.7), 0.3)
            elif kind in ("factory_lease", "factory_purchase"):
                project["area_m2"] = self.maybe(Decimal(round(rnd.lognormvariate(0, 0.9) * 900 * size)))
                project["is_new"] = rnd.random() < 0.9
                project["self_use"] = rnd.random() < 0.95
                project["key_industry_new_project"] = self.maybe(rnd.random() < 0.3, 0.3)
                if kind == "factory_lease" and project.get("area_m2") is not None:
                    project["rent_total"] = self.maybe(
                        (project["area_m2"] * Decimal(rnd.randint(900, 2000))).quantize(Decimal("1"))
                    )
            elif kind == "industrial_upstairs":
                project["area_m2"] = Decimal(rnd.randint(300, 4000))
                project["rent_total"] = self.maybe(
                    (project["area_m2"] * Decimal(1500)).quantize(Decimal("1"))
                )
            elif kind == "loan":
                principal = self.money(3e6 * size, 0.6)
                project["policy_guaranteed"] = self.maybe(rnd.random() < 0.7, 0.1)
                project["interest_paid"] = self.maybe((principal * Decimal("0.035")).quantize(Decimal("1")))
                project["guarantee_fee_paid"] = self.maybe(
                    (principal * Decimal("0.01")).quantize(Decimal("1")), 0.3
                )
            elif kind in ("mna", "first_of_kind"):
                project["contract_amount"] = self.maybe(self.money(5e6 * size, 1.0))
            else:  # drug_rd, event
                project["cost"] = self.maybe(self.money((2e7 if kind == "drug_rd" else 2e5) * size, 0.8))
            draft.projects.append(project)

    def add_fact_values(self, draft: Draft, division: str) -> None:
        rnd = self.random
        for code, share in (
            ("is_industry_association", 0.2),
            ("is_park_developer", 0.15),
            ("ic_industry_entity", 0.25),
        ):
            definition = self.stored_facts.get(code)
            if definition is None or rnd.random() > share:
                continue
            truth = {
                "is_industry_association": 0.01,
                "is_park_developer": 0.02,
                "ic_industry_entity": 0.3 if division == "39" else 0.01,
            }[code]
            draft.fact_values.append(
                {"fact_id": definition.pk, "value": rnd.random() < truth, "source": Source.SELF_DECLARED}
            )

    # ---------------------------------------------------------------- writing
    def drafts(self, count: int) -> Iterator[Draft]:
        for _ in range(count):
            yield self.draft()


def write_batch(
    drafts: list[Draft], *, fresh_code: Callable[[Draft], str], with_history: bool = True
) -> None:
    """Insert one batch: enterprises first (their ids), then their rows, in one transaction.

    Codes already in the database (an earlier run, the demo data) are replaced with fresh ones.
    """
    by_code = {draft.enterprise["credit_code"]: draft for draft in drafts}
    taken = set(
        Enterprise.objects.filter(credit_code__in=list(by_code)).values_list("credit_code", flat=True)
    )
    while taken:
        for code in taken:
            draft = by_code.pop(code)
            draft.enterprise["credit_code"] = fresh_code(draft)
            by_code[draft.enterprise["credit_code"]] = draft
        taken = set(
            Enterprise.objects.filter(credit_code__in=list(by_code)).values_list("credit_code", flat=True)
        )
    # synthetic scale data: not recorded for re-evaluation (record=False), a full run evaluates it
    with transaction.atomic():
        insert_rows(
            Enterprise, [draft.enterprise for draft in drafts], with_history=with_history, record=False
        )
        for model, attribute in (
            (YearlyFigure, "figures"),
            (Recognition, "recognitions"),
            (Project, "projects"),
            (FactValue, "fact_values"),
        ):
            rows = []
            for draft in drafts:
                for row in getattr(draft, attribute):
                    row["enterprise_id"] = draft.enterprise["id"]
                    rows.append(row)
            insert_rows(model, rows, with_history=with_history, record=False)


def generate(
    count: int,
    *,
    seed: int,
    batch_size: int = 5000,
    with_history: bool = True,
    reference_year: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Create `count` enterprises; returns how many were written."""
    generator = EnterpriseGenerator(seed=seed, reference_year=reference_year)
    written = 0
    while written < count:
        drafts = list(generator.drafts(min(batch_size, count - written)))
        write_batch(
            drafts,
            fresh_code=lambda draft: generator.credit_code(draft.enterprise["district"]),
            with_history=with_history,
        )
        written += len(drafts)
        if progress:
            progress(written)
    return written
