"""Load the fact catalog and the policy fixtures (YAML) into the database.

One file is one transaction: a file with any error changes nothing, and the error names the file, the
clause (and benefit) and the field. Rows are matched by stable keys — document key, heading number, clause
number, benefit key — so a second run of the same files reports everything unchanged and writes nothing.
Clauses, headings and benefits that disappeared from a file are deleted and reported as removed; their
history rows keep what they said.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError

from policies import amount_rules, formulas, services
from policies.citations import quote_problems
from policies.fidelity import FidelityFileSpec, found_in, seeds_dir, source_path
from policies.models import (
    Benefit,
    Clause,
    ExclusionGroup,
    FactDefinition,
    Heading,
    ItemKind,
    PolicyDocument,
    Region,
)
from policies.rules import jsonable
from policies.rules.caps import lint_cap_groups

# --- file schema -------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class ChoiceSpec(_Strict):
    value: str = Field(min_length=1)
    label_zh: str = Field(min_length=1)
    label_en: str = ""


class FactSpec(_Strict):
    code: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal[tuple(FactDefinition.Type.values)]  # type: ignore[valid-type]
    unit: str | None = None
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    description: str | None = None
    choices: list[ChoiceSpec] = []
    derived: Literal[tuple(FactDefinition.Derivation.values)] = "stored"  # type: ignore[valid-type]
    item_kind: str | None = None  # a fact of each item of this kind (fixtures/items/), not of the enterprise
    formula: str | None = None  # derived: formula — an expression over other facts (policies/formulas.py)


class ItemKindSpec(_Strict):
    code: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    description: str | None = None


class ItemKindFileSpec(_Strict):
    item_kinds: list[ItemKindSpec] = Field(min_length=1)


class SupersededSpec(_Strict):
    key: str | None = None  # the replaced document's key, when it is loaded too
    number: str | None = None  # its 文号 as the text prints it
    quote: str = Field(min_length=1)  # 同时废止… (words of the replacing text)


class DocumentSpec(_Strict):
    key: str = Field(min_length=1, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    issuer: str = Field(min_length=1)
    level: Literal[tuple(PolicyDocument.Level.values)]  # type: ignore[valid-type]
    number: str | None = None
    source_file: str = Field(min_length=1)
    published_on: datetime.date | None = None
    effective_from: datetime.date | None = None
    effective_to: datetime.date | None = None
    status: Literal[tuple(PolicyDocument.Status.values)]  # type: ignore[valid-type]
    preamble: str | None = None
    notes: str | None = None
    jurisdiction: str | None = None  # a region code of fixtures/regions/
    applicability: dict[str, Any] | None = None  # a condition; every leaf names its clause
    supersedes: list[SupersededSpec] = []


class RegionSpec(_Strict):
    code: str = Field(min_length=1, max_length=40)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    level: Literal[tuple(Region.Level.values)]  # type: ignore[valid-type]
    parent: str | None = None


class RegionFileSpec(_Strict):
    regions: list[RegionSpec] = Field(min_length=1)


class ExclusionSpec(_Strict):
    """A group of benefits that cannot all be collected; benefits of any document may name it."""

    key: str = Field(min_length=1, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    rule: Literal[tuple(ExclusionGroup.Rule.values)]  # type: ignore[valid-type]
    clause: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class CapGroupSpec(_Strict):
    """A per-enterprise cap over benefits of this document ("同一企业每年累计不超过X万元"): `period`
    year (per calendar year) or total; benefits name it by `cap_group`."""

    key: str = Field(min_length=1, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    period: Literal["year", "total"]
    limit: Decimal  # above 0: checked by policies.rules.caps.lint_cap_groups, naming the group
    clause: str = Field(min_length=1)
    quote: str = Field(min_length=1)


class HeadingSpec(_Strict):
    number: str = Field(min_length=1)
    title: str = Field(min_length=1)


class FigureSpec(_Strict):
    phrase: str = Field(min_length=1)
    why: str = Field(min_length=1)


Dated = list[amount_rules.DatedValue]


class BenefitSpec(_Strict):
    key: str = Field(min_length=1, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    kind: Literal[tuple(Benefit.Kind.values)]  # type: ignore[valid-type]
    # cap, amount, ratio, rate, cap_per_year, cap_total: a value, or dated values [{from, value, quote}]
    cap: Decimal | Dated | None = None
    amount: Decimal | Dated | None = None
    ratio: Decimal | Dated | None = None
    rate: Decimal | Dated | None = None
    unit: str | None = None
    quantity_fact: str | None = None
    ratio_range: tuple[Decimal, Decimal] | None = None
    tiers: list[amount_rules.Band] | None = None
    tier_fact: str | None = None
    tiers_marginal: bool = False
    cap_ratio: Decimal | None = None
    cap_base_fact: str | None = None
    cap_per_year: Decimal | Dated | None = None
    cap_total: Decimal | Dated | None = None
    schedule: amount_rules.Schedule | None = None
    exclusion_groups: list[str] = []
    cap_group: str | None = None  # a key of the document's cap_groups
    per_item: str | None = None  # an item kind: evaluated and paid once per item of the enterprise
    base_fact: str | None = None
    instalments: int | None = None
    recurrence: Literal[tuple(Benefit.Recurrence.values)] = "one_time"  # type: ignore[valid-type]
    requires_recognition: bool = False
    recognition_phrase: str | None = None
    amount_quote: str | None = None
    stacking_group: str | None = None
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    condition: dict[str, Any] | None = None


class ClauseSpec(_Strict):
    number: str = Field(min_length=1)
    heading: str | None = None
    kind: Literal[tuple(Clause.Kind.values)]  # type: ignore[valid-type]
    title: str | None = None
    text: str = Field(min_length=1)
    figures_not_benefits: list[FigureSpec] = []
    benefits: list[BenefitSpec] = []


class PolicyFileSpec(_Strict):
    document: DocumentSpec
    headings: list[HeadingSpec] = []
    exclusions: list[ExclusionSpec] = []
    cap_groups: list[CapGroupSpec] = []
    clauses: list[ClauseSpec] = Field(min_length=1)
    fidelity: FidelityFileSpec | None = None  # what check_fidelity needs of this text (policies/fidelity.py)


# --- reports -----------------------------------------------------------------------------------------------


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, {self.removed} removed"


@dataclass
class FileReport:
    path: Path
    subject: str  # the document key, or "fact catalog"
    tallies: dict[str, Tally] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def tally(self, what: str) -> Tally:
        return self.tallies.setdefault(what, Tally())

    @property
    def changed(self) -> bool:
        return any(t.created or t.updated or t.removed for t in self.tallies.values())


class LoadError(Exception):
    """A file that was not loaded (nothing of it was written); `messages` each name file, clause and field."""

    def __init__(self, path: Path, messages: list[str]):
        self.path = path
        self.messages = messages
        super().__init__("\n".join(messages))


# --- entry points ------------------------------------------------------------------------------------------


def fixtures_dir() -> Path:
    return Path(getattr(settings, "POLICY_FIXTURES_DIR", None) or Path(settings.BASE_DIR) / "fixtures")


def default_paths() -> list[Path]:
    """The region tree and the catalog first (documents and conditions need them), then every document."""
    root = fixtures_dir()
    return (
        sorted((root / "regions").glob("*.yaml"))
        + sorted((root / "items").glob("*.yaml"))
        # the builtin core first: other files' formulas may read its facts
        + sorted((root / "facts").glob("*.yaml"), key=lambda path: (path.name != "core.yaml", path.name))
        + sorted((root / "policies").glob("*.yaml"))
    )


def catalog_paths() -> list[Path]:
    """What conditions need before any document: the region tree, the item kinds, the fact catalog."""
    return [path for path in default_paths() if path.parent.name in ("regions", "items", "facts")]


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for its *.yaml files."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return files


def declarers_first(paths: list[Path]) -> list[Path]:
    """The files in the given order, except that a policy file naming an exclusion group another file
    declares comes after that file (an exclusion may span documents). Unreadable files keep their place
    (their error is reported when loaded)."""
    declares: dict[Path, set[str]] = {}
    names: dict[Path, set[str]] = {}
    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        if not isinstance(data, dict) or "document" not in data:
            continue
        declares[path] = {g.get("key") for g in data.get("exclusions") or [] if isinstance(g, dict)}
        names[path] = {
            key
            for clause in data.get("clauses") or []
            if isinstance(clause, dict)
            for benefit in clause.get("benefits") or []
            if isinstance(benefit, dict)
            for key in benefit.get("exclusion_groups") or []
        }
    ordered: list[Path] = []
    placed: set[Path] = set()

    def place(path: Path, visiting: set[Path]) -> None:
        if path in placed or path in visiting:
            return
        visiting.add(path)
        for other, keys in declares.items():
            if other != path and keys & names.get(path, set()):
                place(other, visiting)
        placed.add(path)
        ordered.append(path)

    for path in paths:
        place(path, set())
    return ordered


def load_files(paths: list[Path]) -> tuple[list[FileReport], list[LoadError]]:
    """Load each file in its own transaction; carry on after a bad file so every error is reported at once."""
    reports, errors = [], []
    for path in declarers_first(paths):
        try:
            reports.append(load_file(path))
        except LoadError as error:
            errors.append(error)
    return reports, errors


def read_yaml(path: Path) -> Any:
    """A fixture file's data; an unreadable file or invalid YAML is a LoadError naming the file (every
    loader reads its files through this)."""
    name = display_name(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoadError(path, [f"{name}: cannot read file ({exc.strerror})"]) from exc
    except yaml.YAMLError as exc:
        raise LoadError(path, [f"{name}: not valid YAML: {exc}"]) from exc


def write_reports(command: BaseCommand, reports: list[FileReport], errors: list[LoadError]) -> None:
    """What a load command prints: each file's tallies and warnings, then a CommandError naming every
    file that was not loaded (nothing of those written), else the count loaded."""
    for report in reports:
        command.stdout.write(f"{display_name(report.path)} → {report.subject}")
        for what, tally in report.tallies.items():
            command.stdout.write(f"  {what}: {tally}")
        for warning in report.warnings:
            command.stderr.write(command.style.WARNING(f"  warning: {warning}"))
    if errors:
        lines = [message for error in errors for message in error.messages]
        failed = ", ".join(display_name(error.path) for error in errors)
        raise CommandError(
            f"{len(errors)} file(s) not loaded, nothing of them written ({failed}):\n" + "\n".join(lines)
        )
    command.stdout.write(command.style.SUCCESS(f"{len(reports)} file(s) loaded"))


def load_file(path: Path) -> FileReport:
    name = display_name(path)
    data = read_yaml(path)
    if isinstance(data, list):
        return _load_catalog(path, name, data)
    if isinstance(data, dict) and "document" in data:
        return _load_policy(path, name, data)
    if isinstance(data, dict) and "regions" in data:
        return _load_regions(path, name, data)
    if isinstance(data, dict) and "item_kinds" in data:
        return _load_item_kinds(path, name, data)
    raise LoadError(
        path,
        [f"{name}: expected a list of facts, a mapping with regions, or one with document/headings/clauses"],
    )


def _validated(model: type[BaseModel], path: Path, name: str, data: Any) -> Any:
    """The file read by its schema, or a LoadError naming each problem."""
    try:
        return model.model_validate(data)
    except SchemaError as exc:
        raise LoadError(
            path, [f"{name}: {_loc(problem['loc'])}: {problem['msg']}" for problem in exc.errors()]
        ) from exc


def _defined_twice(name: str, what: str, codes: list[str]) -> list[str]:
    return [
        f"{name}: {what} {code}: code: defined more than once" for code, n in Counter(codes).items() if n > 1
    ]


# --- item kinds --------------------------------------------------------------------------------------------


def _load_item_kinds(path: Path, name: str, data: dict) -> FileReport:
    """Upsert the kinds of a file; never delete one (facts and enterprises' items name them)."""
    spec = _validated(ItemKindFileSpec, path, name, data)
    messages = _defined_twice(name, "item kind", [kind.code for kind in spec.item_kinds])
    others = dict(ItemKind.objects.exclude(source_file=path.name).values_list("code", "source_file"))
    messages += [
        f"{name}: item kind {kind.code}: code: already defined in {others[kind.code]}"
        for kind in spec.item_kinds
        if kind.code in others and _defined_elsewhere(kind.code, others[kind.code], path)
    ]
    if messages:
        raise LoadError(path, messages)
    report = FileReport(path, "item kinds")
    with transaction.atomic():
        for item in spec.item_kinds:
            kind = ItemKind.objects.filter(code=item.code).first() or ItemKind(code=item.code)
            values = item.model_dump(exclude={"code"})
            values.update(description=item.description or "", source_file=path.name)
            _assign(kind, values, blank=())
            report.tally("item kinds").add(services.save_item_kind(kind=kind, reason=f"load {path.name}"))
    return report


# --- the region tree ---------------------------------------------------------------------------------------


def _load_regions(path: Path, name: str, data: dict) -> FileReport:
    """Upsert the tree; parents must come before their children. Regions are never deleted here
    (documents and enterprises name them)."""
    spec = _validated(RegionFileSpec, path, name, data)
    messages = _defined_twice(name, "region", [region.code for region in spec.regions])
    seen: set[str] = set()
    for region in spec.regions:
        if region.parent is not None and region.parent not in seen:
            messages.append(f"{name}: region {region.code}: parent: {region.parent} is not listed before it")
        seen.add(region.code)
    if messages:
        raise LoadError(path, messages)
    report = FileReport(path, "region tree")
    with transaction.atomic():
        by_code = {region.code: region for region in Region.objects.all()}
        for order, item in enumerate(spec.regions, start=1):
            region = by_code.get(item.code) or Region(code=item.code)
            values = {
                "name_zh": item.name_zh,
                "name_en": item.name_en,
                "level": item.level,
                "parent_id": by_code[item.parent].pk if item.parent else None,
                "order": order,
            }
            report.tally("regions").add(services.save_region(region=region, values=values))
            by_code[item.code] = region
    return report


def display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(path)


# --- the fact catalog --------------------------------------------------------------------------------------


def _load_catalog(path: Path, name: str, data: list) -> FileReport:
    specs, messages = [], []
    for index, item in enumerate(data):
        code = item.get("code") if isinstance(item, dict) else None
        where = f"{name}: fact {code or f'#{index + 1}'}"
        try:
            specs.append(FactSpec.model_validate(item))
        except SchemaError as exc:
            messages += [f"{where}: {_loc(problem['loc'])}: {problem['msg']}" for problem in exc.errors()]
    messages += _defined_twice(name, "fact", [spec.code for spec in specs])
    if messages:
        raise LoadError(path, messages)

    report = FileReport(path, "fact catalog")
    # formula facts after the facts they read (within the file: in dependency order)
    by_code = {spec.code: spec for spec in specs}
    formula_codes = formulas.order([spec.code for spec in specs if spec.formula], by_code)
    specs = [spec for spec in specs if not spec.formula] + [by_code[code] for code in formula_codes]
    with transaction.atomic():
        for spec in specs:
            fact = FactDefinition.objects.filter(code=spec.code).first() or FactDefinition(code=spec.code)
            if fact.pk and _defined_elsewhere(spec.code, fact.source_file, path):
                messages.append(f"{name}: fact {spec.code}: code: already defined in {fact.source_file}")
                continue
            values = spec.model_dump(exclude={"code"})
            values.update(
                unit=spec.unit or "",
                description=spec.description or "",
                source_file=path.name,
                item_kind=spec.item_kind or "",
                formula=spec.formula or "",
            )
            _assign(fact, values, blank=())
            try:
                report.tally("facts").add(
                    services.save_fact_definition(fact=fact, reason=f"load {path.name}")
                )
            except ValidationError as exc:
                messages += _validation_messages(f"{name}: fact {spec.code}", exc)
        if messages:
            transaction.set_rollback(True)
    if messages:
        raise LoadError(path, messages)
    return report


def _defined_elsewhere(code: str, source_file: str, path: Path) -> bool:
    """Codes are unique across catalog files (facts: a list; item kinds: `item_kinds`); an entry that
    moved to this file from another one may follow."""
    other = path.parent / source_file
    if not source_file or source_file == path.name or not other.is_file():
        return False
    data = yaml.safe_load(other.read_text(encoding="utf-8")) or []
    entries = data if isinstance(data, list) else data.get("item_kinds") or []
    return any(isinstance(item, dict) and item.get("code") == code for item in entries)


# --- policy documents --------------------------------------------------------------------------------------


def _load_policy(path: Path, name: str, data: dict) -> FileReport:
    try:
        spec = PolicyFileSpec.model_validate(data)
    except SchemaError as exc:
        raise LoadError(path, [_schema_message(name, data, problem) for problem in exc.errors()]) from exc
    messages = _check_file(name, spec)
    report = FileReport(path, spec.document.key)
    messages += _check_against_source(name, spec, report)
    if messages:
        raise LoadError(path, messages)
    try:
        with transaction.atomic():
            _write_policy(path, name, spec, report, messages)
            if messages:
                transaction.set_rollback(True)
    except DatabaseError as exc:  # validation should have caught it; still name the file, not a traceback
        raise LoadError(path, [f"{name}: could not be written ({exc.__class__.__name__}: {exc})"]) from exc
    if messages:
        raise LoadError(path, messages)
    return report


def _check_file(name: str, spec: PolicyFileSpec) -> list[str]:
    """What the schema cannot see: duplicate stable keys, headings that are not declared, quotes of
    the applicability and the exclusions in the clauses they cite, amount rules and dated values."""
    messages = []
    document = spec.document
    texts = {clause.number: clause.text for clause in spec.clauses}
    if document.applicability is not None:
        messages += [
            f"{name}: document: applicability: {problem}"
            for problem in quote_problems(document.applicability, texts, None, where="applicability")
        ]
    for entry in document.supersedes:
        if not any(found_in(entry.quote, text) for text in [*texts.values(), document.preamble or ""]):
            messages.append(f"{name}: document: supersedes: “{entry.quote}” is not in the text")
    declared = {group.key for group in spec.exclusions}
    for key, n in Counter(group.key for group in spec.exclusions).items():
        if n > 1:
            messages.append(f"{name}: exclusion {key}: key: appears {n} times")
    for group in spec.exclusions:
        if group.clause not in texts:
            messages.append(f"{name}: exclusion {group.key}: clause: {group.clause} is not in this file")
        elif not found_in(group.quote, texts[group.clause]):
            messages.append(f"{name}: exclusion {group.key}: quote: not in clause {group.clause}")
    named = [
        (f"clause {clause.number}, benefit {benefit.key}", benefit.cap_group)
        for clause in spec.clauses
        for benefit in clause.benefits
        if benefit.cap_group is not None
    ]
    messages += [
        f"{name}: {problem}"
        for problem in lint_cap_groups([group.model_dump() for group in spec.cap_groups], texts, named)
    ]
    caps = cap_groups_of(spec)
    elsewhere = set(ExclusionGroup.objects.exclude(document__key=document.key).values_list("key", flat=True))
    for clause in spec.clauses:
        for benefit in clause.benefits:
            where = f"{name}: clause {clause.number}, benefit {benefit.key}"
            for key in benefit.exclusion_groups:
                if key not in declared and key not in elsewhere:
                    messages.append(f"{where}: exclusion_groups: {key} is declared in no loaded file")
            if benefit.cap_group is not None and benefit.cap_group not in caps:
                continue  # reported by lint_cap_groups
            try:
                rule_data, _columns = benefit_columns(benefit, caps)
                amount_rules.parse(rule_data)
            except (SchemaError, ValueError) as exc:
                problems = exc.errors() if isinstance(exc, SchemaError) else [{"loc": (), "msg": str(exc)}]
                messages += [f"{where}: amount: {_loc(p['loc']) or '—'}: {p['msg']}" for p in problems]
                continue
            for field_name, entries in rule_data.get("dated", {}).items():
                for entry in entries:
                    start = datetime.date.fromisoformat(str(entry["from"]))
                    if (document.effective_from and start < document.effective_from) or (
                        document.effective_to and start > document.effective_to
                    ):
                        messages.append(
                            f"{where}: {field_name}: dated value from {start} is outside the document's dates"
                        )
    headings = [heading.number for heading in spec.headings]
    for number, n in Counter(headings).items():
        if n > 1:
            messages.append(f"{name}: heading {number}: number: appears {n} times")
    for number, n in Counter(clause.number for clause in spec.clauses).items():
        if n > 1:
            messages.append(f"{name}: clause {number}: number: appears {n} times")
    for clause in spec.clauses:
        if clause.heading is not None and clause.heading not in headings:
            messages.append(
                f"{name}: clause {clause.number}: heading: {clause.heading} is not among the headings"
            )
        for key, n in Counter(benefit.key for benefit in clause.benefits).items():
            if n > 1:
                messages.append(f"{name}: clause {clause.number}, benefit {key}: key: appears {n} times")
    return messages


def _check_against_source(name: str, spec: PolicyFileSpec, report: FileReport) -> list[str]:
    """Each clause text (and the preamble) must be in the source text, whitespace aside."""
    folder = seeds_dir()
    if not folder.is_dir():
        report.warnings.append(f"seeds folder {folder} not found: verbatim check of clause texts skipped")
        return []
    found = source_path(spec.document.source_file)  # the seeds, then the corpus
    if found is None:
        report.warnings.append(f"{spec.document.source_file} is not in {folder}: verbatim check skipped")
        return []
    source = found.read_text(encoding="utf-8")
    messages = [
        f"{name}: clause {clause.number}: text: not found verbatim in {spec.document.source_file}"
        for clause in spec.clauses
        if not found_in(clause.text, source)
    ]
    if spec.document.preamble and not found_in(spec.document.preamble, source):
        messages.append(f"{name}: document: preamble: not found verbatim in {spec.document.source_file}")
    return messages


def _write_policy(
    path: Path, name: str, spec: PolicyFileSpec, report: FileReport, messages: list[str]
) -> None:
    reason = f"load {path.name}"
    document = PolicyDocument.objects.filter(key=spec.document.key).first() or PolicyDocument()
    document_values = spec.document.model_dump()
    document_values["applicability"] = jsonable(document_values["applicability"])
    document_values["supersedes"] = [
        {key: value for key, value in entry.items() if value is not None}
        for entry in document_values["supersedes"]
    ]
    _assign(document, document_values, blank=("number", "preamble", "notes", "jurisdiction"))
    try:
        report.tally("document").add(services.save_document(document=document, reason=reason))
    except ValidationError as exc:
        messages += _validation_messages(f"{name}: document", exc)
        return

    _write_exclusions(document, spec, name, reason, report, messages)

    headings = {heading.number: heading for heading in document.headings.all()}
    for order, heading_spec in enumerate(spec.headings, start=1):
        heading = headings.pop(heading_spec.number, None) or Heading(
            document=document, number=heading_spec.number
        )
        heading.title, heading.order = heading_spec.title, order
        try:
            report.tally("headings").add(services.save_heading(heading=heading, reason=reason))
        except ValidationError as exc:
            messages += _validation_messages(f"{name}: heading {heading_spec.number}", exc)
    by_number = {heading.number: heading for heading in document.headings.all()}

    clauses = {clause.number: clause for clause in document.clauses.all()}
    written: list[tuple[Clause, ClauseSpec, str]] = []
    for order, clause_spec in enumerate(spec.clauses, start=1):
        clause = clauses.pop(clause_spec.number, None) or Clause(document=document, number=clause_spec.number)
        values = clause_spec.model_dump(exclude={"number", "heading", "benefits"})
        values["figures_not_benefits"] = [figure.model_dump() for figure in clause_spec.figures_not_benefits]
        _assign(clause, values, blank=("title",))
        clause.order = order
        clause.heading = by_number.get(clause_spec.heading) if clause_spec.heading else None
        where = f"{name}: clause {clause_spec.number}"
        try:
            report.tally("clauses").add(services.save_clause(clause=clause, reason=reason))
        except ValidationError as exc:
            messages += _validation_messages(where, exc)
            continue
        written.append((clause, clause_spec, where))
    # Benefits after every clause: a condition may quote any clause of the document.
    for clause, clause_spec, where in written:
        _write_benefits(clause, clause_spec, where, reason, report, messages, cap_groups_of(spec))

    for clause in clauses.values():  # no longer in the file
        benefit_count = clause.benefits.count()
        try:
            services.delete_object(instance=clause, reason=f"{reason}: clause no longer in the file")
        except ValidationError as exc:
            messages += _validation_messages(f"{name}: clause {clause.number}", exc)
            continue
        report.tally("benefits").removed += benefit_count
        report.tally("clauses").removed += 1
    for heading in headings.values():
        services.delete_object(instance=heading, reason=f"{reason}: heading no longer in the file")
        report.tally("headings").removed += 1


def _write_benefits(
    clause: Clause,
    clause_spec: ClauseSpec,
    where: str,
    reason: str,
    report: FileReport,
    messages: list[str],
    cap_groups: Mapping[str, dict],
) -> None:
    benefits = {benefit.key: benefit for benefit in clause.benefits.all()}
    for benefit_spec in clause_spec.benefits:
        benefit = benefits.pop(benefit_spec.key, None) or Benefit(clause=clause, key=benefit_spec.key)
        rule_data, values = benefit_columns(benefit_spec, cap_groups)
        values["amount_rule"] = amount_rules.to_json(amount_rules.parse(rule_data))
        values["condition"] = jsonable(values["condition"])
        _assign(
            benefit,
            values,
            blank=("base_fact", "recognition_phrase", "amount_quote", "stacking_group", "per_item"),
        )
        try:
            report.tally("benefits").add(services.save_benefit(benefit=benefit, reason=reason))
        except ValidationError as exc:
            messages += _validation_messages(f"{where}, benefit {benefit_spec.key}", exc)
    for benefit in benefits.values():
        try:
            services.delete_object(instance=benefit, reason=f"{reason}: benefit no longer in the file")
        except ValidationError as exc:
            messages += _validation_messages(f"{where}, benefit {benefit.key}", exc)
            continue
        report.tally("benefits").removed += 1


def cap_groups_of(spec: PolicyFileSpec) -> dict[str, dict]:
    """The document's cap groups by key, as each benefit's rule holds them."""
    return {group.key: jsonable(group.model_dump()) for group in spec.cap_groups}


def benefit_columns(spec: BenefitSpec, cap_groups: Mapping[str, dict] | None = None) -> tuple[dict, dict]:
    """(amount rule data, model column values) of a fixture benefit: the flat amount keys go into the
    rule; a dated cap, amount or ratio keeps its first value in the column and every value in the rule;
    a cap group named by key is copied from the document's `cap_groups` into the rule (whole)."""
    values = spec.model_dump(exclude={"key"}, by_alias=True)
    if values.get("cap_group") is not None:
        key = values["cap_group"]
        if not cap_groups or key not in cap_groups:
            raise ValueError(f"cap_group: {key} is not among the document's cap_groups")
        values["cap_group"] = cap_groups[key]
    rule: dict[str, Any] = {}
    dated: dict[str, list] = {}
    for name in amount_rules.DATED_FIELDS:
        given = values.get(name)
        if isinstance(given, list):
            dated[name] = [jsonable(entry) for entry in given]
            values[name] = Decimal(str(given[0]["value"])) if given[0]["value"] is not None else None
    for name in amount_rules.RULE_KEYS:
        value = values.pop(name, None)
        if value not in (None, False, [], ()):
            rule[name] = jsonable(value)
    for name in ("cap", "amount", "ratio"):
        values.setdefault(name, None)
    if dated:
        rule["dated"] = dated
    return rule, values


def _write_exclusions(
    document: PolicyDocument,
    spec: PolicyFileSpec,
    name: str,
    reason: str,
    report: FileReport,
    messages: list[str],
) -> None:
    stored = {group.key: group for group in document.exclusion_groups.all()}
    for item in spec.exclusions:
        group = stored.pop(item.key, None) or ExclusionGroup.objects.filter(key=item.key).first()
        if group is not None and group.document_id != document.pk:
            messages.append(f"{name}: exclusion {item.key}: key: already declared by {group.document.key}")
            continue
        group = group or ExclusionGroup(key=item.key, document=document)
        group.name, group.rule, group.clause_number, group.quote = (
            item.name,
            item.rule,
            item.clause,
            item.quote,
        )
        try:
            report.tally("exclusions").add(services.save_exclusion_group(group=group, reason=reason))
        except ValidationError as exc:
            messages += _validation_messages(f"{name}: exclusion {item.key}", exc)
    for group in stored.values():
        services.delete_object(instance=group, reason=f"{reason}: exclusion no longer in the file")
        report.tally("exclusions").removed += 1


def _assign(instance: Any, values: dict, *, blank: tuple[str, ...]) -> None:
    """Copy file values onto a model; text fields the file leaves null are stored as ""."""
    for attribute, value in values.items():
        if attribute in blank and value is None:
            value = ""
        setattr(instance, attribute, value)


# --- error messages ----------------------------------------------------------------------------------------


def _loc(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _schema_message(name: str, data: dict, problem: dict) -> str:
    """Name the clause (and benefit) by its number (and key), not by its position in the list."""
    loc = list(problem["loc"])
    where = name
    if len(loc) >= 2 and loc[0] == "clauses" and isinstance(loc[1], int):
        clause = _item(data.get("clauses"), loc[1])
        where += f": clause {clause.get('number', f'#{loc[1] + 1}')}"
        loc = loc[2:]
        if len(loc) >= 2 and loc[0] == "benefits" and isinstance(loc[1], int):
            benefit = _item(clause.get("benefits"), loc[1])
            where += f", benefit {benefit.get('key', f'#{loc[1] + 1}')}"
            loc = loc[2:]
    elif len(loc) >= 2 and loc[0] == "headings" and isinstance(loc[1], int):
        where += f": heading {_item(data.get('headings'), loc[1]).get('number', f'#{loc[1] + 1}')}"
        loc = loc[2:]
    elif loc and loc[0] == "document":
        where += ": document"
        loc = loc[1:]
    return f"{where}: {_loc(tuple(loc)) or '(whole entry)'}: {problem['msg']}"


def _item(items: Any, index: int) -> dict:
    if isinstance(items, list) and index < len(items) and isinstance(items[index], dict):
        return items[index]
    return {}


def _validation_messages(where: str, error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [
            f"{where}: {field}: {message}"
            for field, errors in error.message_dict.items()
            for message in errors
        ]
    return [f"{where}: {message}" for message in error.messages]
