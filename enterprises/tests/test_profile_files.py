"""CSV/Excel import (dry run, row errors, all-or-nothing) and export in the same columns."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from enterprises import profile_files
from enterprises.models import Enterprise, FactValue, Project, YearlyFigure
from enterprises.tests.factories import EnterpriseFactory, UserFactory
from enterprises.validators import credit_code_for

pytestmark = pytest.mark.django_db
HEADER = [
    "统一社会信用代码",
    "企业名称",
    "所在区",
    "国民经济行业分类代码",
    "重点产业领域",
    "企业规模",
    "成立日期",
    "数据年度",
    "工业总产值（元）",
    "新租赁自用厂房面积（平方米）",
    "行业组织或产业联盟 [is_industry_association]",
]
GOOD = [
    [
        credit_code_for(501),
        "上海导入一号机械有限公司",
        "闵行区",
        "3421",
        "高端装备",
        "中型",
        "2012-05-01",
        "2025",
        "120,000,000",
        "5000",
        "否",
    ],
    [
        credit_code_for(502),
        "上海导入二号医药有限公司",
        "浦东新区",
        "2720",
        "biomedicine;人工智能",
        "small",
        "2019-01-01",
        "2025",
        "",
        "",
        "",
    ],
]


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_good_file_previews_then_imports(fact_catalog):
    content = csv_bytes([HEADER, *GOOD])
    preview = profile_files.preview_import(content, "企业.csv")
    assert preview.ok, [row.errors for row in preview.rows]
    assert [row.action for row in preview.rows] == ["create", "create"]
    assert not Enterprise.objects.exists()  # the dry run writes nothing
    actor = UserFactory()
    profile_files.apply_import(content, "企业.csv", actor=actor)
    first = Enterprise.objects.get(credit_code=GOOD[0][0])
    assert (first.scale, first.industry_tracks, first.source) == (
        "medium",
        ["high_end_equipment"],
        "register",
    )
    assert first.figures.get(year=2025).output_value == Decimal("120000000")
    assert first.projects.get(kind="factory_lease").area_m2 == Decimal("5000")
    assert FactValue.objects.get(enterprise=first).value is False
    assert first.history.first().history_user == actor
    second = Enterprise.objects.get(credit_code=GOOD[1][0])
    assert second.industry_tracks == ["artificial_intelligence", "biomedicine"]
    assert not second.figures.exists()


def test_reimport_updates_and_blank_cells_change_nothing(fact_catalog):
    profile_files.apply_import(csv_bytes([HEADER, *GOOD]), "a.csv", actor=None)
    changed = [GOOD[0][0], "", "", "", "", "大型", "", "2025", "", "6000", ""]
    preview = profile_files.apply_import(csv_bytes([HEADER, changed]), "b.csv", actor=None)
    assert preview.ok and preview.rows[0].action == "update"
    first = Enterprise.objects.get(credit_code=GOOD[0][0])
    assert (
        first.scale == "large" and first.name == "上海导入一号机械有限公司" and first.industry_code == "3421"
    )
    assert first.projects.get(kind="factory_lease").area_m2 == Decimal("6000")  # same reference: updated
    assert first.figures.get(year=2025).output_value == Decimal("120000000")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({0: credit_code_for(503)[:17] + ("0" if credit_code_for(503)[17] != "0" else "1")}, "校验位错误"),
        ({3: "9911"}, "未知的国民经济行业分类代码"),
        ({4: "太空采矿"}, "未知的产业领域或赛道"),
        ({9: "-20"}, "不能为负数"),
        ({9: "很大"}, "应为数字"),
        ({6: "2999-01-01"}, "日期不能晚于今天"),
        ({7: "2999"}, "年份应在1949年至今年之间"),
        ({5: "巨型"}, "不是可选值"),
        ({1: ""}, "新增企业须填写名称"),
        ({10: "也许"}, "应为“是”或“否”"),
    ],
)
def test_row_errors_are_reported_and_nothing_is_written(fact_catalog, cells, expected):
    bad = list(GOOD[1])
    for index, value in cells.items():
        bad[index] = value
    content = csv_bytes([HEADER, GOOD[0], bad])
    preview = profile_files.preview_import(content, "x.csv")
    assert not preview.rows[0].errors
    assert any(expected in error for error in preview.rows[1].errors), preview.rows[1].errors
    result = profile_files.apply_import(content, "x.csv", actor=None)
    assert not result.ok
    assert not Enterprise.objects.exists()  # all or nothing: the good row is not written either


def test_duplicate_credit_code_in_the_file(fact_catalog):
    preview = profile_files.preview_import(csv_bytes([HEADER, GOOD[0], GOOD[0]]), "x.csv")
    assert "与第2行重复" in preview.rows[1].errors[0]


def test_unknown_column_and_missing_code_column(fact_catalog):
    assert (
        "未知的列"
        in profile_files.preview_import(csv_bytes([[*HEADER, "股东人数"], GOOD[0] + ["3"]]), "x.csv").errors[
            0
        ]
    )
    assert (
        "缺少“统一社会信用代码”列"
        in profile_files.preview_import(csv_bytes([["企业名称"], ["甲"]]), "x.csv").errors[0]
    )
    assert "只支持" in profile_files.preview_import(b"hello", "x.txt").errors[0]


def test_gbk_csv_and_excel_are_read(fact_catalog):
    assert profile_files.preview_import(csv_bytes([HEADER, *GOOD], encoding="gb18030"), "x.csv").ok
    rows = [HEADER, [*GOOD[0][:7], 2025, 120000000, 5000, "否"]]
    preview = profile_files.preview_import(xlsx_bytes(rows), "x.xlsx")
    assert preview.ok, [row.errors for row in preview.rows]


def test_export_round_trips_through_import(fact_catalog):
    profile_files.apply_import(csv_bytes([HEADER, *GOOD]), "a.csv", actor=None)
    exported = profile_files.export_csv(Enterprise.objects.order_by("pk"), year=2025)
    cells = {cell for line in exported.decode("utf-8-sig").splitlines() for cell in line.split(",")}
    assert not {"True", "False"} & cells and {"是", "否"} & cells  # 是/否 for people (issue 14, step 8)
    first = Enterprise.objects.get(credit_code=GOOD[0][0])
    first.industry_tracks, first.registered_on, first.scale = ["biomedicine"], None, "micro"
    first.save()
    first.figures.update(output_value=1)
    first.projects.update(area_m2=1)
    preview = profile_files.apply_import(exported, "export.csv", actor=None)
    assert preview.ok, [row.errors for row in preview.rows]
    assert [row.action for row in preview.rows] == ["update", "update"]
    first.refresh_from_db()
    assert first.figures.get(year=2025).output_value == Decimal("120000000")
    assert first.projects.get(kind="factory_lease").area_m2 == Decimal("5000")
    assert first.industry_tracks == ["high_end_equipment"] and first.registered_on.isoformat() == "2012-05-01"
    assert first.scale == "medium"
    workbook = load_workbook(io.BytesIO(profile_files.export_xlsx(Enterprise.objects.all(), year=2025)))
    header = [cell.value for cell in next(workbook.active.iter_rows())]
    assert (
        header[:2] == ["统一社会信用代码", "企业名称"]
        and "行业组织或产业联盟 [is_industry_association]" in header
    )
    assert profile_files.preview_import(
        profile_files.export_xlsx(Enterprise.objects.all(), year=2025), "x.xlsx"
    ).ok


def test_command_dry_run_and_failure(fact_catalog, tmp_path, capsys):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([HEADER, *GOOD]))
    call_command("import_enterprises", str(good), "--dry-run")
    assert "未写入" in capsys.readouterr().out and not Enterprise.objects.exists()
    call_command("import_enterprises", str(good))
    assert Enterprise.objects.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes([HEADER, [credit_code_for(600), "新企业", "", "", "", "", "", "2025", "", "-1", ""]])
    )
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("import_enterprises", str(bad))
    assert Enterprise.objects.count() == 2


def test_staff_export(client, fact_catalog):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename="view_enterprise"))
    client.force_login(staff)
    EnterpriseFactory()
    export = client.get(reverse("enterprises:export") + "?format=xlsx&year=2025")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxml")
    assert client.get(reverse("enterprises:export") + "?year=abc").status_code == 400  # named, not guessed


def test_existing_enterprise_update_is_validated_against_its_stored_data(fact_catalog):
    existing = EnterpriseFactory(registered_on="2015-01-01", listing_exchange="sse")
    rows = [["统一社会信用代码", "上市日期"], [existing.credit_code, "2014-01-01"]]
    preview = profile_files.preview_import(csv_bytes(rows), "x.csv")
    assert preview.rows[0].action == "update"
    assert any("上市日期不能早于成立日期" in error for error in preview.rows[0].errors)
    assert not YearlyFigure.objects.exists() and not Project.objects.exists()
