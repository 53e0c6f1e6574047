"""Import and export of enterprise profiles for staff: CSV (UTF-8 or GB18030) and Excel (.xlsx).

One row per enterprise: basic data, the figures of one year (数据年度), the new self-use factory
areas bought or leased that year, and any stored catalog fact (column "中文名 [code]" or "code").
Headers may be the Chinese labels or the codes; export writes the Chinese labels.

Import is validated row by row first (`preview_import`: the dry run). Confirming (`apply_import`)
validates again and writes **all rows or none**: one invalid row and nothing is written.
Matching is by 统一社会信用代码: a known code updates that enterprise, an unknown one creates it.
On update an empty cell means "no change" (an import never erases data); on create it means unknown.

Neither step makes a query per row: the file's stored enterprises are read (and, to import, locked)
in one query per LOOKUP_BATCH credit codes, every row is validated in memory against them, and the
rows are written WRITE_BATCH at a time by profile_batches.save_profiles (bulk writes and history, version
and history only for what changed, post_save for each row written so that matching marks it).
"""

from __future__ import annotations

import copy
import csv
import datetime
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises import catalog as fact_catalog
from enterprises import profile_batches, spreadsheets, taxonomy
from enterprises.models import Enterprise, FactValue, Project, Source, YearlyFigure
from enterprises.validators import credit_code_problem, validate_non_negative
from policies import facttypes
from policies.models import FactDefinition, Region

TEXT, DATE, YEAR, INT, MONEY, AREA, BOOL, CHOICE, CHOICES = (
    "text", "date", "year", "int", "money", "area", "bool", "choice", "choices",
)  # fmt: skip


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    kind: str = TEXT


ENTERPRISE_COLUMNS = [
    Column("credit_code", "统一社会信用代码"),
    Column("name", "企业名称"),
    Column("district", "所在区", CHOICE),
    Column("town", "街镇"),
    Column("address", "地址"),
    Column("registered_region", "注册地（区县、街镇或园区）", CHOICE),
    Column("operating_region", "实际经营地", CHOICE),
    Column("registered_on", "成立日期", DATE),
    Column("legal_form", "组织形式", CHOICE),
    Column("industry_code", "国民经济行业分类代码"),
    Column("industry_tracks", "重点产业领域", CHOICES),
    Column("industry_subtracks", "细分赛道", CHOICES),
    Column("scale", "企业规模", CHOICE),
    Column("is_foreign_invested", "外资企业", BOOL),
    Column("above_scale", "规模以上工业企业", BOOL),
    Column("above_scale_since", "首次纳入规上统计年份", YEAR),
    Column("listing_exchange", "上市交易所", CHOICE),
    Column("listed_on", "上市日期", DATE),
]
YEAR_COLUMN = Column("year", "数据年度", YEAR)
FIGURE_COLUMNS = [
    Column("output_value", "工业总产值（元）", MONEY),
    Column("revenue", "营业收入（元）", MONEY),
    Column("rd_expense", "研发费用（元）", MONEY),
    Column("employees", "从业人员（人）", INT),
    Column("tax_paid", "纳税额（元）", MONEY),
]
AREA_COLUMNS = [
    Column("factory_purchase", "新购置自用厂房面积（平方米）", AREA),
    Column("factory_lease", "新租赁自用厂房面积（平方米）", AREA),
]
FIXED_COLUMNS = [*ENTERPRISE_COLUMNS, YEAR_COLUMN, *FIGURE_COLUMNS, *AREA_COLUMNS]
FACT_HEADER = re.compile(r"^(?P<label>.*)\[(?P<code>[a-z0-9_]+)\]\s*$")


def _choice_maps() -> dict[str, dict[str, str]]:
    """column code -> {accepted spelling: stored value}: values and Chinese labels both work."""
    tracks = FactDefinition.objects.filter(code="industry_tracks").first()
    maps = {
        "district": {name: name for name, _label in taxonomy.DISTRICT_CHOICES},
        "legal_form": {},
        "scale": {},
        "listing_exchange": {},
        "industry_tracks": {},
        "industry_subtracks": {},
        "registered_region": {},
        "operating_region": {},
    }
    names = Counter(Region.objects.values_list("name_zh", flat=True))
    for code, name in Region.objects.values_list("code", "name_zh"):
        for column in ("registered_region", "operating_region"):
            maps[column][code] = code
            if names[name] == 1:  # a name two regions share is read only by its code
                maps[column][name] = code
    for column, choices in (
        ("legal_form", Enterprise.LegalForm.choices),
        ("scale", Enterprise.Scale.choices),
        ("listing_exchange", Enterprise.Exchange.choices),
        ("industry_subtracks", list(taxonomy.SUBTRACK_LABELS.items())),
        ("industry_tracks", [(c["value"], c["label_zh"]) for c in (tracks.choices if tracks else [])]),
    ):
        for value, label in choices:
            maps[column][str(value)] = str(value)
            maps[column][str(label)] = str(value)
    return maps


# ---------------------------------------------------------------- reading files


def read_table(content: bytes, filename: str) -> list[list[Any]]:
    """Rows of cells from a .csv or .xlsx file (first sheet)."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:  # noqa: BLE001 - any unreadable workbook is the same user error
            raise ValidationError(_("无法读取Excel文件：%(error)s") % {"error": error}) from None
        sheet = workbook.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        return rows
    if filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValidationError(_("无法识别CSV文件编码（请使用UTF-8或GBK）。"))
        return list(csv.reader(io.StringIO(text)))
    raise ValidationError(_("只支持 .csv 和 .xlsx 文件。"))


# ---------------------------------------------------------------- parsing one cell


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse(
    column: Column, raw: Any, choice_maps: dict[str, dict[str, str]], today: datetime.date | None = None
) -> Any:
    """The typed value of a non-blank cell; ValidationError with a Chinese message otherwise."""
    today = today or timezone.localdate()
    text = raw.strip() if isinstance(raw, str) else raw
    if column.kind == TEXT:
        return spreadsheets.from_csv_cell(str(text))  # an exported "'=..." comes back as "=..."
    if column.kind == DATE:
        text = facttypes.parse_date(text)
        if text is None:
            raise ValidationError(_("日期格式应为 YYYY-MM-DD：%(value)s") % {"value": raw})
        if text > today:
            raise ValidationError(_("日期不能晚于今天：%(value)s") % {"value": text.isoformat()})
        return text
    if column.kind in (YEAR, INT, MONEY, AREA):
        number = facttypes.parse_number(text)
        if number is None:
            raise ValidationError(_("应为数字：%(value)s") % {"value": raw})
        validate_non_negative(number)
        if column.kind in (YEAR, INT):
            if number != number.to_integral_value():
                raise ValidationError(_("应为整数：%(value)s") % {"value": raw})
            number = int(number)
            if column.kind == YEAR and not 1949 <= number <= today.year:
                raise ValidationError(_("年份应在1949年至今年之间：%(value)s") % {"value": raw})
        return number
    if column.kind == BOOL:
        value = facttypes.parse_bool(text)
        if value is not None:
            return value
        raise ValidationError(_("应为“是”或“否”：%(value)s") % {"value": raw})
    allowed = choice_maps[column.code]
    if column.kind == CHOICE:
        if str(text) not in allowed:
            raise ValidationError(_("不是可选值：%(value)s") % {"value": raw})
        return allowed[str(text)]
    items = [item.strip() for item in re.split(r"[;；,，、]", str(text)) if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise ValidationError(_("未知的产业领域或赛道：%(values)s") % {"values": "、".join(unknown)})
    return sorted({allowed[item] for item in items})


# ---------------------------------------------------------------- validating rows


@dataclass
class RowResult:
    line: int
    credit_code: str
    name: str
    action: str = "create"  # create | update
    errors: list[str] = field(default_factory=list)
    enterprise: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    areas: dict[str, Decimal] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    year: int | None = None


@dataclass
class ImportPreview:
    rows: list[RowResult]
    errors: list[str]  # about the file as a whole (headers, format)

    @property
    def ok(self) -> bool:
        return not self.errors and all(not row.errors for row in self.rows)

    @property
    def error_count(self) -> int:
        return len(self.errors) + sum(len(row.errors) for row in self.rows)


def _columns_for(
    headers: list[Any], stored: dict[str, FactDefinition]
) -> tuple[list[Column | FactDefinition | None], list[str]]:
    by_name: dict[str, Column] = {}
    for column in FIXED_COLUMNS:
        by_name[column.code] = column
        by_name[column.label] = column
    mapped: list[Column | FactDefinition | None] = []
    errors = []
    for header in headers:
        name = str(header or "").strip()
        match = FACT_HEADER.match(name)
        code = match.group("code") if match else name
        if name in by_name:
            mapped.append(by_name[name])
        elif code in stored:
            mapped.append(stored[code])
        elif not name:
            mapped.append(None)
        else:
            mapped.append(None)
            errors.append(_("未知的列：“%(name)s”。") % {"name": name})
    if by_name["credit_code"] not in mapped:
        errors.append(_("缺少“统一社会信用代码”列。"))
    return mapped, errors


# progress(stage, done, total): stage "validate" (called every PROGRESS_EVERY rows and at the end) or
# "write" (after every WRITE_BATCH rows and at the end)
Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 100
WRITE_BATCH = 500  # rows written together (profile_batches.save_profiles): a constant number of queries each
LOOKUP_BATCH = 900  # credit codes or ids per IN (...) list


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


@dataclass
class _Reading:
    """What every row of a file is read and validated with (read once per check)."""

    columns: list[Column | FactDefinition | None]
    choice_maps: dict[str, dict[str, str]]
    rules: profile_batches.CatalogRules
    stored: dict[str, Enterprise]  # the file's stored enterprises by credit code (locked when importing)
    today: datetime.date


@dataclass
class _Check:
    preview: ImportPreview
    reading: _Reading | None = None


def preview_import(content: bytes, filename: str, *, progress: Progress = _no_progress) -> ImportPreview:
    """The dry run: every row parsed and validated, nothing written."""
    return _check(content, filename, progress=progress, lock=False).preview


def _check(content: bytes, filename: str, *, progress: Progress, lock: bool) -> _Check:
    """Parse and validate every row against the stored enterprises of the file, read in one query per
    LOOKUP_BATCH credit codes (and locked, in id order, with `lock`): no query per row."""
    try:
        table = read_table(content, filename)
    except ValidationError as error:
        return _Check(ImportPreview(rows=[], errors=error.messages))
    table = [row for row in table if any(not _blank(cell) for cell in row)]
    if not table:
        return _Check(ImportPreview(rows=[], errors=[_("文件是空的。")]))
    stored_facts = {
        row.code: row for row in FactDefinition.objects.filter(derived=FactDefinition.Derivation.STORED)
    }
    columns, errors = _columns_for(table[0], stored_facts)
    if errors:
        return _Check(ImportPreview(rows=[], errors=errors))
    reading = _Reading(
        columns=columns,
        choice_maps=_choice_maps(),
        rules=profile_batches.CatalogRules.load(),
        stored=_stored_enterprises(_credit_codes(table[1:], columns), lock=lock),
        today=timezone.localdate(),
    )
    total = len(table) - 1
    results = []
    for line, cells in enumerate(table[1:], start=2):
        results.append(_validate_row(line, cells, reading))
        if len(results) % PROGRESS_EVERY == 0:
            progress("validate", len(results), total)
    progress("validate", total, total)
    _check_across_rows(results)
    return _Check(ImportPreview(rows=results, errors=[]), reading=reading)


def _credit_code(raw: Any) -> str:
    """A row's credit code as the row is matched by (blank: "")."""
    if _blank(raw):
        return ""
    return str(raw.strip() if isinstance(raw, str) else raw).strip().upper()


def _credit_codes(rows: list[list[Any]], columns: list) -> set[str]:
    """The credit code of every row (the last non-blank credit-code cell, as _validate_row reads it)."""
    positions = [index for index, column in enumerate(columns) if column is ENTERPRISE_COLUMNS[0]]
    codes = set()
    for cells in rows:
        code = ""
        for index in positions:
            if index < len(cells) and not _blank(cells[index]):
                code = _credit_code(cells[index])
        if code:
            codes.add(code)
    return codes


def _stored_enterprises(codes: set[str], *, lock: bool) -> dict[str, Enterprise]:
    """credit code -> stored enterprise; with `lock`, each row locked (FOR UPDATE) in id order, as the
    single-row services lock before writing (and the matching evaluation locks id ranges in order)."""
    ordered = sorted(codes)
    found: dict[str, Enterprise] = {}
    if not lock:
        for chunk in _chunks(ordered, LOOKUP_BATCH):
            found.update(
                (e.credit_code, e) for e in Enterprise.objects.filter(credit_code__in=chunk).order_by()
            )
        return found
    ids = []
    for chunk in _chunks(ordered, LOOKUP_BATCH):
        ids += Enterprise.objects.filter(credit_code__in=chunk).values_list("pk", flat=True).order_by()
    for chunk in _chunks(sorted(ids), LOOKUP_BATCH):
        locked = Enterprise.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
        found.update((e.credit_code, e) for e in locked)
    return found


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# where a parsed cell goes: the enterprise, the year, the figures or the areas
_ROLE = {
    **{column: "enterprise" for column in ENTERPRISE_COLUMNS},
    YEAR_COLUMN: "year",
    **{column: "figures" for column in FIGURE_COLUMNS},
    **{column: "areas" for column in AREA_COLUMNS},
}


def _validate_row(line: int, cells: list[Any], reading: _Reading) -> RowResult:
    result = RowResult(line=line, credit_code="", name="")
    for column, raw in zip(reading.columns, cells, strict=False):
        if column is None or _blank(raw):
            continue
        try:
            if isinstance(column, FactDefinition):
                result.facts[column.code] = fact_catalog.coerce_fact_value(column, raw)
                continue
            value = _parse(column, raw, reading.choice_maps, reading.today)
            role = _ROLE[column]
            if role == "enterprise":
                result.enterprise[column.code] = value
            elif role == "year":
                result.year = value
            elif role == "figures":
                result.figures[column.code] = value
            else:
                result.areas[column.code] = value
        except ValidationError as error:
            label = column.label if isinstance(column, Column) else column.label_zh
            result.errors.extend(f"{label}：{message}" for message in error.messages)
    result.credit_code = _credit_code(result.enterprise.get("credit_code"))
    result.enterprise["credit_code"] = result.credit_code
    result.name = result.enterprise.get("name", "")
    problem = credit_code_problem(result.credit_code) if result.credit_code else _("不能为空。")
    if problem:
        result.errors.append(f"统一社会信用代码：{problem}")
        return result
    if (result.figures or result.areas) and result.year is None:
        result.errors.append(_("数据年度：填写年度经营数据或厂房面积时须注明年度。"))
    existing = reading.stored.get(result.credit_code)
    result.action = "update" if existing else "create"
    if not existing and not result.name:
        result.errors.append(_("企业名称：新增企业须填写名称。"))
    if not result.errors:
        _model_errors(result, existing, reading.rules)
    return result


def _model_errors(
    result: RowResult, existing: Enterprise | None, rules: profile_batches.CatalogRules
) -> None:
    """Run the models' own validation on what the row would store. The credit code's uniqueness is
    known from the stored enterprises read for the whole file (and duplicates in it are row errors),
    so the enterprise is validated without a query (profile_batches.clean_enterprise)."""
    enterprise = copy.copy(existing) if existing else Enterprise()  # the stored one stays as stored
    for name, value in result.enterprise.items():
        setattr(enterprise, name, value)
    checks: list[tuple[str, Any, list[str]]] = [("", enterprise, ["credit_code"] if existing else [])]
    if result.year is not None:
        checks.append((_("年度经营数据"), YearlyFigure(year=result.year, **result.figures), ["enterprise"]))
        for kind, area in result.areas.items():
            checks.append((_("厂房面积"), Project(kind=kind, year=result.year, area_m2=area), ["enterprise"]))
    for prefix, instance, exclude in checks:
        try:
            if instance is enterprise:
                profile_batches.clean_enterprise(enterprise, rules=rules, exclude=exclude)
            else:  # without its enterprise, which every constraint of these models names: no query
                instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                label = instance._meta.get_field(name).verbose_name if name != "__all__" else prefix
                result.errors.extend(f"{label}：{message}" for message in messages)


def _check_across_rows(results: list[RowResult]) -> None:
    first_line: dict[str, int] = {}
    for result in results:
        if not result.credit_code:
            continue
        if result.credit_code in first_line:
            result.errors.append(
                _("统一社会信用代码：与第%(line)d行重复。") % {"line": first_line[result.credit_code]}
            )
        else:
            first_line[result.credit_code] = result.line


# ---------------------------------------------------------------- writing


@transaction.atomic
def apply_import(
    content: bytes,
    filename: str,
    *,
    actor: AbstractBaseUser | None,
    source: str = Source.REGISTER,
    progress: Progress = _no_progress,
) -> ImportPreview:
    """Validate again and write every row, or nothing when any row has an error.

    The stored enterprises of the file are locked first and the rows validated against them, then
    written WRITE_BATCH rows at a time by profile_batches.save_profiles: a row that changes nothing writes
    nothing; a changed enterprise gets history rows for what changed and version + 1."""
    check = _check(content, filename, progress=progress, lock=True)
    preview = check.preview
    if not preview.ok or check.reading is None:
        return preview
    total = len(preview.rows)
    for start in range(0, total, WRITE_BATCH):
        batch = preview.rows[start : start + WRITE_BATCH]
        _write_batch(batch, check.reading, actor=actor, source=source)
        progress("write", start + len(batch), total)
    return preview


def _write_batch(
    rows: list[RowResult], reading: _Reading, *, actor: AbstractBaseUser | None, source: str
) -> None:
    """Write checked rows: what each row's services would write, in one profile_batches.save_profiles call."""
    title = _("导入")
    profiles = [
        _profile(row, reading.stored.get(row.credit_code), source=source, title=title) for row in rows
    ]
    profile_batches.save_profiles(profiles=profiles, actor=actor, rules=reading.rules)


def _profile(
    row: RowResult, stored: Enterprise | None, *, source: str, title: str
) -> profile_batches.ProfileWrite:
    """A row as the single-row services wrote it: the enterprise (created or updated), the figures of
    its year, one project per area with the reference import:<kind>:<year>, the stored facts of its
    year (undated without one), everything with `source`."""
    figures = {row.year: {**row.figures, "source": source}} if row.year is not None and row.figures else {}
    projects = {
        f"import:{kind}:{row.year}": {
            "kind": kind,
            "year": row.year,
            "area_m2": area,
            "source": source,
            "title": title,
        }
        for kind, area in row.areas.items()
    }
    return profile_batches.ProfileWrite(
        enterprise=stored or Enterprise(),
        changes={**row.enterprise, "source": source},
        figures=figures,
        projects=projects,
        facts={(code, row.year): value for code, value in row.facts.items()},
        fact_source=source,
    )


# ---------------------------------------------------------------- export


def export_rows(enterprises: Iterable[Enterprise], *, year: int) -> tuple[list[str], list[list[Any]]]:
    """Header and rows in the import format, with the figures and areas of `year`."""
    stored = list(FactDefinition.objects.filter(derived=FactDefinition.Derivation.STORED).order_by("code"))
    headers = [column.label for column in FIXED_COLUMNS] + [f"{row.label_zh} [{row.code}]" for row in stored]
    enterprises = list(enterprises)
    ids = [enterprise.pk for enterprise in enterprises]
    figures = {
        row.enterprise_id: row for row in YearlyFigure.objects.filter(enterprise_id__in=ids, year=year)
    }
    areas: dict[tuple[int, str], Decimal] = {}
    for project in Project.objects.filter(
        enterprise_id__in=ids,
        year=year,
        kind__in=[c.code for c in AREA_COLUMNS],
        is_new=True,
        self_use=True,
        area_m2__isnull=False,
    ):
        key = (project.enterprise_id, project.kind)
        areas[key] = areas.get(key, Decimal(0)) + project.area_m2
    facts: dict[tuple[int, int], Any] = {}
    dated_or_not = FactValue.objects.filter(enterprise_id__in=ids, valid_from__isnull=True).filter(
        Q(year=year) | Q(year__isnull=True)
    )
    for value in dated_or_not:
        key = (value.enterprise_id, value.fact_id)
        if value.year is not None or key not in facts:  # the year's value wins over the undated one
            facts[key] = value.value
    labels = _choice_labels()
    rows = []
    for enterprise in enterprises:
        row = [
            _export_cell(column, getattr(enterprise, column.code), labels) for column in ENTERPRISE_COLUMNS
        ]
        figure = figures.get(enterprise.pk)
        row.append(year)
        row += [getattr(figure, column.code) if figure else None for column in FIGURE_COLUMNS]
        row += [areas.get((enterprise.pk, column.code)) for column in AREA_COLUMNS]
        for definition in stored:
            value = fact_catalog.from_json(definition.type, facts.get((enterprise.pk, definition.pk)))
            if isinstance(value, bool):
                value = "是" if value else "否"  # as the fixed columns; the import reads both words
            row.append(";".join(sorted(value)) if isinstance(value, frozenset) else value)
        rows.append(row)
    return headers, rows


def _choice_labels() -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    for column, spellings in _choice_maps().items():
        labels[column] = {value: spelling for spelling, value in spellings.items() if spelling != value}
    return labels


def _export_cell(column: Column, value: Any, labels: dict[str, dict[str, str]]) -> Any:
    if value in (None, "", []):
        return None
    if column.kind == BOOL:
        return "是" if value else "否"
    if column.kind == CHOICE:
        return labels.get(column.code, {}).get(value, value)
    if column.kind == CHOICES:
        return ";".join(labels.get(column.code, {}).get(item, item) for item in value)
    return value


def export_csv(enterprises: Iterable[Enterprise], *, year: int) -> bytes:
    headers, rows = export_rows(enterprises, year=year)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(spreadsheets.csv_row(row))  # no cell a spreadsheet would run as a formula
    return buffer.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def export_xlsx(enterprises: Iterable[Enterprise], *, year: int) -> bytes:
    from openpyxl import Workbook

    headers, rows = export_rows(enterprises, year=year)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业")
    sheet.append(headers)
    for row in rows:
        values = [cell.isoformat() if isinstance(cell, datetime.date) else cell for cell in row]
        sheet.append(spreadsheets.xlsx_row(sheet, values))  # text stays text, never a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
