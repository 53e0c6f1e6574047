"""Cells of exported spreadsheets that a spreadsheet program cannot run as formulas.

A text a user typed (an enterprise name, a remark) may start with = + - @, a tab or a carriage
return, which Excel, WPS and LibreOffice read as a formula in a CSV file (`=HYPERLINK(...)` then
leaks data or opens a link). CSV cells starting so get a leading apostrophe (OWASP's advice: the cell
shows as text); XLSX cells of text are written with the string type, never as formulas, and keep
their exact value. Numbers and dates are not text and pass unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def from_csv_cell(text: str) -> str:
    """The text csv_cell neutralised, as it was: what an exported file gives back on re-import."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def csv_row(values: Iterable[Any]) -> list[Any]:
    return ["" if value is None else csv_cell(value) for value in values]


def xlsx_row(sheet, values: Iterable[Any]) -> list[Any]:
    """Cells for `sheet.append`: text as string cells (openpyxl would make "=..." a formula)."""
    from openpyxl.cell import WriteOnlyCell

    row = []
    for value in values:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            row.append(cell)
        else:
            row.append(value)
    return row
