"""Load application calls (申报通知 / 申报指南) from YAML: fixtures/calls/*.yaml, and in the demo
fixtures/demo/calls.yaml.

One file is one transaction: a file with any error changes nothing, and each error names the file, the
call and the field. Calls are matched by key and their materials by key within the call (attachments
point at materials, so materials are updated in place); departments, windows and levels are rewritten.
A call whose entry is unchanged since the last load is not written (a second run reports unchanged).
Quotes must occur verbatim (whitespace aside) in the call's source text when that text is available.
Times are wall-clock times in Asia/Shanghai; "24:00" is the end of that day, as calls print it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as SchemaError

from applications.models import Attachment, Call, CallDepartment, CallIntakeLevel, CallMaterial, CallWindow
from policies.fidelity import found_in, source_path
from policies.loader import FileReport, LoadError, display_name, read_yaml
from policies.models import Benefit, PolicyDocument

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2}))?$")


def parse_time(text: str, *, end: bool = False) -> dt.datetime:
    """'2026-07-05 24:00' → 2026-07-06 00:00 Asia/Shanghai; a bare date is its start (its end when `end`)."""
    match = TIME.match(str(text).strip())
    if match is None:
        raise ValueError(f"expected 'YYYY-MM-DD HH:MM' (Asia/Shanghai), got {text!r}")
    year, month, day, hour, minute = match.groups()
    date = dt.date(int(year), int(month), int(day))
    if hour is None:
        hour, minute = ("24", "00") if end else ("0", "00")
    hour, minute = int(hour), int(minute)
    if hour == 24 and minute == 0:
        return dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
    if hour > 23 or minute > 59:
        raise ValueError(f"no such time of day: {text!r}")
    return dt.datetime.combine(date, dt.time(hour, minute), tzinfo=SHANGHAI)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class DepartmentSpec(_Strict):
    name: str = Field(min_length=1)
    contact: str = ""
    phone: str = ""
    address: str = ""
    quote: str = ""


class WindowSpec(_Strict):
    opens: str
    closes: str
    quote: str = ""

    @field_validator("opens", "closes", mode="before")
    @classmethod
    def _text(cls, value):
        return str(value)

    @model_validator(mode="after")
    def _ordered(self):
        opens, closes = parse_time(self.opens), parse_time(self.closes, end=True)
        if closes <= opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        return self


class LevelSpec(_Strict):
    name: str = Field(min_length=1)
    department: str = ""
    deadline: str | None = None
    quote: str = ""

    @field_validator("deadline", mode="before")
    @classmethod
    def _text(cls, value):
        if value is None:
            return None
        parse_time(str(value), end=True)
        return str(value)


class MaterialSpec(_Strict):
    key: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    description: str = ""
    required: bool = True
    file_types: list[Literal[tuple(Attachment.Kind.values)]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(Attachment.Kind.values), min_length=1
    )
    template_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    per_item: bool = False
    quote: str = ""


class CallSpec(_Strict):
    key: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    kind: Literal[tuple(Call.Kind.values)] = "notice"  # type: ignore[valid-type]
    title: str = Field(min_length=1)
    issuer: str = Field(min_length=1)
    demo: bool = False
    document: str | None = None  # the policy document's key (benefits may then be "clause/benefit")
    source_file: str = ""  # the call's own text, when one exists (quotes are checked against it)
    url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    benefits: list[str] = Field(min_length=1)
    methods: list[Literal[tuple(Call.Method.values)]] = Field(min_length=1)  # type: ignore[valid-type]
    conditions: str = ""
    departments: list[DepartmentSpec] = []
    windows: list[WindowSpec] = []
    levels: list[LevelSpec] = []
    materials: list[MaterialSpec] = []
    notes: str = ""


class CallFileSpec(_Strict):
    calls: list[CallSpec] = Field(min_length=1)


# --- entry points ------------------------------------------------------------------------------------------


def fixtures_root() -> Path:
    return Path(getattr(settings, "POLICY_FIXTURES_DIR", None) or Path(settings.BASE_DIR) / "fixtures")


def default_paths(*, demo: bool = False) -> list[Path]:
    root = fixtures_root()
    paths = sorted((root / "calls").glob("*.yaml"))
    if demo:
        paths += sorted((root / "demo").glob("calls*.yaml"))
    return paths


def load_files(paths: list[Path]) -> tuple[list[FileReport], list[LoadError]]:
    """Each file in its own transaction; carry on after a bad file so every error is reported at once."""
    reports, errors = [], []
    for path in paths:
        try:
            reports.append(load_file(path))
        except LoadError as error:
            errors.append(error)
    return reports, errors


def load_file(path: Path) -> FileReport:
    name = display_name(path)
    data = read_yaml(path)
    try:
        spec = CallFileSpec.model_validate(data)
    except SchemaError as exc:
        raise LoadError(path, [_schema_message(name, data, problem) for problem in exc.errors()]) from exc
    report = FileReport(path, ", ".join(call.key for call in spec.calls))
    messages = _duplicates(name, spec)
    resolved = {}
    for call in spec.calls:
        benefits, problems = _resolve(name, call)
        messages += problems + _check_quotes(name, call, report)
        resolved[call.key] = benefits
    if messages:
        raise LoadError(path, messages)
    with transaction.atomic():
        for call in spec.calls:
            _write(path, call, resolved[call.key], report)
    return report


# --- checks ------------------------------------------------------------------------------------------------


def _duplicates(name: str, spec: CallFileSpec) -> list[str]:
    messages = []
    keys = [call.key for call in spec.calls]
    messages += [
        f"{name}: call {key}: key: defined twice in this file"
        for key in sorted({k for k in keys if keys.count(k) > 1})
    ]
    for call in spec.calls:
        material_keys = [material.key for material in call.materials]
        messages += [
            f"{name}: call {call.key}: materials: key {key} defined twice"
            for key in sorted({k for k in material_keys if material_keys.count(k) > 1})
        ]
        other = Call.objects.filter(key=call.key).exclude(fixture_file="").exclude(fixture_file=name).first()
        if other is not None:
            messages.append(f"{name}: call {call.key}: key: already loaded from {other.fixture_file}")
    return messages


def _resolve(name: str, call: CallSpec) -> tuple[list[Benefit], list[str]]:
    where = f"{name}: call {call.key}"
    messages, benefits = [], []
    if call.document and not PolicyDocument.objects.filter(key=call.document).exists():
        messages.append(
            f"{where}: document: no policy document with key {call.document} (load_policies first)"
        )
        return [], messages
    for index, ref in enumerate(call.benefits):
        parts = ref.split("/")
        if len(parts) == 2 and call.document:
            parts = [call.document, *parts]
        if len(parts) != 3:
            messages.append(
                f"{where}: benefits[{index}]: {ref!r}: write document/clause/benefit (or clause/benefit with document)"
            )
            continue
        benefit = Benefit.objects.filter(
            clause__document__key=parts[0], clause__number=parts[1], key=parts[2]
        ).first()
        if benefit is None:
            messages.append(f"{where}: benefits[{index}]: no benefit {'/'.join(parts)}")
        else:
            benefits.append(benefit)
    for index, level in enumerate(call.levels):
        if level.deadline and call.windows:
            first_open = min(parse_time(window.opens) for window in call.windows)
            if parse_time(level.deadline, end=True) <= first_open:
                messages.append(
                    f"{where}: levels[{index}].deadline: {level.deadline} is before the call opens"
                )
    return benefits, messages


def _quotes(call: CallSpec) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for group in ("departments", "windows", "levels", "materials"):
        for index, entry in enumerate(getattr(call, group)):
            if entry.quote:
                found.append((f"{group}[{index}].quote", entry.quote))
    return found


def _check_quotes(name: str, call: CallSpec, report: FileReport) -> list[str]:
    where = f"{name}: call {call.key}"
    quotes = _quotes(call)
    if not call.source_file:
        if quotes and not call.demo:
            return [f"{where}: source_file: quotes need the text they come from"]
        return []
    found = source_path(call.source_file)
    if found is None:
        report.warnings.append(
            f"{call.source_file} not found: verbatim check of the quotes of {call.key} skipped"
        )
        return []
    source = found.read_text(encoding="utf-8")
    return [
        f"{where}: {field}: not found verbatim in {call.source_file}"
        for field, quote in quotes
        if not found_in(quote, source)
    ]


# --- writing -----------------------------------------------------------------------------------------------


def _digest(call: CallSpec, benefits: list[Benefit]) -> str:
    payload = call.model_dump() | {"benefit_ids": sorted(benefit.pk for benefit in benefits)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _write(path: Path, spec: CallSpec, benefits: list[Benefit], report: FileReport) -> None:
    tally = report.tally("calls")
    digest = _digest(spec, benefits)
    call = Call.objects.filter(key=spec.key).first()
    if call is not None and call.fixture_digest == digest:
        tally.add("unchanged")
        return
    tally.add("created" if call is None else "updated")
    call = call or Call(key=spec.key)
    call.kind, call.title, call.issuer, call.is_demo = spec.kind, spec.title, spec.issuer, spec.demo
    call.document = PolicyDocument.objects.filter(key=spec.document).first() if spec.document else None
    call.methods, call.conditions, call.notes = list(spec.methods), spec.conditions, spec.notes
    call.source_file, call.url = spec.source_file, spec.url
    call.fixture_file, call.fixture_digest = display_name(path), digest
    call.full_clean(exclude=["benefits"])
    call.save()
    call.benefits.set(benefits)
    call.departments.all().delete()
    call.windows.all().delete()
    call.levels.all().delete()
    for order, department in enumerate(spec.departments):
        CallDepartment.objects.create(call=call, order=order, **department.model_dump())
    for window in spec.windows:
        CallWindow.objects.create(
            call=call,
            opens_at=parse_time(window.opens),
            closes_at=parse_time(window.closes, end=True),
            quote=window.quote,
        )
    for order, level in enumerate(spec.levels):
        CallIntakeLevel.objects.create(
            call=call,
            order=order,
            name=level.name,
            department=level.department,
            deadline=parse_time(level.deadline, end=True) if level.deadline else None,
            quote=level.quote,
        )
    kept = []
    for order, material in enumerate(spec.materials):
        row, created = CallMaterial.objects.update_or_create(
            call=call, key=material.key, defaults=material.model_dump(exclude={"key"}) | {"order": order}
        )
        report.tally("materials").add("created" if created else "updated")
        kept.append(row.pk)
    report.tally("materials").removed += (
        call.materials.exclude(pk__in=kept).delete()[1].get("applications.CallMaterial", 0)
    )


def _schema_message(name: str, data: object, problem: dict) -> str:
    """Name the call by its key, not by its position in the list."""
    loc = list(problem["loc"])
    where = name
    if len(loc) >= 2 and loc[0] == "calls" and isinstance(loc[1], int):
        calls = data.get("calls") if isinstance(data, dict) else None
        entry = (
            calls[loc[1]]
            if isinstance(calls, list) and loc[1] < len(calls) and isinstance(calls[loc[1]], dict)
            else {}
        )
        where += f": call {entry.get('key', f'#{loc[1] + 1}')}"
        loc = loc[2:]
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return f"{where}: {text or '(whole entry)'}: {problem['msg']}"
