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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as SchemaError

from policies import services
from policies.fidelity import FidelityFileSpec, found_in, seeds_dir
from policies.models import Benefit, Clause, FactDefinition, Heading, PolicyDocument

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


class HeadingSpec(_Strict):
    number: str = Field(min_length=1)
    title: str = Field(min_length=1)


class FigureSpec(_Strict):
    phrase: str = Field(min_length=1)
    why: str = Field(min_length=1)


class BenefitSpec(_Strict):
    key: str = Field(min_length=1, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    kind: Literal[tuple(Benefit.Kind.values)]  # type: ignore[valid-type]
    cap: Decimal | None = None
    amount: Decimal | None = None
    ratio: Decimal | None = None
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
    clauses: list[ClauseSpec] = Field(min_length=1)
    fidelity: FidelityFileSpec | None = None  # numbering rules of the source text (policies/fidelity.py)


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
    """The catalog first (conditions need it), then every policy document."""
    root = fixtures_dir()
    return sorted((root / "facts").glob("*.yaml")) + sorted((root / "policies").glob("*.yaml"))


def expand(paths: list[Path]) -> list[Path]:
    """Files as given; a directory stands for its *.yaml files."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    return files


def load_files(paths: list[Path]) -> tuple[list[FileReport], list[LoadError]]:
    """Load each file in its own transaction; carry on after a bad file so every error is reported at once."""
    reports, errors = [], []
    for path in paths:
        try:
            reports.append(load_file(path))
        except LoadError as error:
            errors.append(error)
    return reports, errors


def load_file(path: Path) -> FileReport:
    name = display_name(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LoadError(path, [f"{name}: cannot read file ({exc.strerror})"]) from exc
    except yaml.YAMLError as exc:
        raise LoadError(path, [f"{name}: not valid YAML: {exc}"]) from exc
    if isinstance(data, list):
        return _load_catalog(path, name, data)
    if isinstance(data, dict) and "document" in data:
        return _load_policy(path, name, data)
    raise LoadError(path, [f"{name}: expected a list of facts or a mapping with document/headings/clauses"])


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
    duplicates = [code for code, n in Counter(spec.code for spec in specs).items() if n > 1]
    messages += [f"{name}: fact {code}: code: defined more than once" for code in duplicates]
    if messages:
        raise LoadError(path, messages)

    report = FileReport(path, "fact catalog")
    with transaction.atomic():
        for spec in specs:
            fact = FactDefinition.objects.filter(code=spec.code).first() or FactDefinition(code=spec.code)
            if fact.pk and _defined_elsewhere(spec.code, fact.source_file, path):
                messages.append(f"{name}: fact {spec.code}: code: already defined in {fact.source_file}")
                continue
            values = spec.model_dump(exclude={"code"})
            values.update(unit=spec.unit or "", description=spec.description or "", source_file=path.name)
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
    """Codes are unique across catalog files; a fact that moved to this file from another one may follow."""
    other = path.parent / source_file
    if not source_file or source_file == path.name or not other.is_file():
        return False
    data = yaml.safe_load(other.read_text(encoding="utf-8")) or []
    return any(isinstance(item, dict) and item.get("code") == code for item in data)


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
    """What the schema cannot see: duplicate stable keys, headings that are not declared."""
    messages = []
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
    source_path = folder / spec.document.source_file
    if not folder.is_dir():
        report.warnings.append(f"seeds folder {folder} not found: verbatim check of clause texts skipped")
        return []
    if not source_path.is_file():
        report.warnings.append(f"{spec.document.source_file} is not in {folder}: verbatim check skipped")
        return []
    source = source_path.read_text(encoding="utf-8")
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
    _assign(document, spec.document.model_dump(), blank=("number", "preamble", "notes"))
    try:
        report.tally("document").add(services.save_document(document=document, reason=reason))
    except ValidationError as exc:
        messages += _validation_messages(f"{name}: document", exc)
        return

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
        _write_benefits(clause, clause_spec, where, reason, report, messages)

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
    clause: Clause, clause_spec: ClauseSpec, where: str, reason: str, report: FileReport, messages: list[str]
) -> None:
    benefits = {benefit.key: benefit for benefit in clause.benefits.all()}
    for benefit_spec in clause_spec.benefits:
        benefit = benefits.pop(benefit_spec.key, None) or Benefit(clause=clause, key=benefit_spec.key)
        values = benefit_spec.model_dump(exclude={"key"})
        values["condition"] = _jsonable(values["condition"])
        _assign(benefit, values, blank=("base_fact", "recognition_phrase", "amount_quote", "stacking_group"))
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


def _jsonable(value: Any) -> Any:
    """YAML reads 2024-01-01 as a date; conditions are JSON, where dates are ISO strings."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


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
