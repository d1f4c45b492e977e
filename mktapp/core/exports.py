"""Spreadsheet exports (.xlsx through openpyxl) with typed cells.

    return xlsx_response("budget-2026.xlsx", sheets=[("预算执行", header_row, rows)])

Decimal becomes a number with a ¥ format, dates real dates, datetimes local
date-times; the header row is bold and frozen and columns are sized to fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from urllib.parse import quote

from flask import Response

MONEY_FORMAT = '"¥"#,##0.00;[Red]-"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _width(value: Any) -> float:
    text = value if isinstance(value, str) else str(value if value is not None else "")
    return sum(2.0 if ord(ch) > 0x2E80 else 1.1 for ch in text)


def _sheet_title(title: str, used: set[str]) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(title))[:31] or "Sheet"
    name, n = clean, 2
    while name in used:
        suffix = f" ({n})"
        name, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(name)
    return name


def workbook_bytes(sheets: Iterable[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(_sheet_title(title, used))
        widths = [_width(h) for h in header]
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = bold
        for row in rows:
            values = []
            for value in row:
                if isinstance(value, datetime) and value.tzinfo is not None:
                    value = value.replace(tzinfo=None)
                elif isinstance(value, str | int | float | Decimal | date) or value is None:
                    pass
                else:
                    value = str(value)
                values.append(value)
            sheet.append(values)
            excel_row = sheet.max_row
            for index, value in enumerate(values, start=1):
                cell = sheet.cell(row=excel_row, column=index)
                if isinstance(value, Decimal):
                    cell.number_format = MONEY_FORMAT
                elif isinstance(value, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(value, date):
                    cell.number_format = DATE_FORMAT
                if index > len(widths):
                    widths.append(0)
                shown = f"¥{value:,.2f}" if isinstance(value, Decimal) else value
                widths[index - 1] = max(widths[index - 1], _width(shown))
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
        sheet.freeze_panes = "A2"
    if not book.worksheets:
        book.create_sheet("Sheet")
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(
    filename: str, sheets: Iterable[tuple[str, Sequence[Any], Iterable[Sequence[Any]]]]
) -> Response:
    """A download of an .xlsx file with one worksheet per (title, header_row, rows)."""
    data = workbook_bytes(sheets)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    response = Response(data, mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
