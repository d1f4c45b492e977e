""".xlsx exports: xlsx_response(filename, sheets=[(title, header_row, rows)]).

Cells keep their types, so a spreadsheet can add them up: Decimal is a number
shown as ¥#,##0.00, dates are dates, datetimes are local date-times, booleans
and integers stay what they are, everything else is text. The header row is bold
and frozen, and columns are wide enough to read.

    return xlsx_response("报销申请.xlsx", [(_("Claims"), [_("No."), ...], rows)])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

MONEY_FORMAT = '"¥"#,##0.00;-"¥"#,##0.00'
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Characters a sheet title may not hold, and its length limit.
_BAD_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})
# Text that a spreadsheet would run as a formula is written with a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _local(value: datetime) -> datetime:

    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(current_app.config.get("TIMEZONE", "Asia/Shanghai")))
    return value.replace(tzinfo=None)


def _cell_value(value: Any) -> tuple[Any, str | None]:
    """(what to write, its number format) for one Python value."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, Decimal):
        return (value if value.is_finite() else str(value)), MONEY_FORMAT
    if isinstance(value, datetime):
        return _local(value), DATETIME_FORMAT
    if isinstance(value, date):
        return value, DATE_FORMAT
    if isinstance(value, int | float):
        return value, None
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text, None


def _width(value: Any) -> int:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    # CJK characters take two columns.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def build_workbook(sheets: Iterable[tuple[Any, Sequence[Any], Iterable[Sequence[Any]]]]) -> bytes:
    """The .xlsx bytes of some sheets, each (title, header row, rows)."""
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEF2F9")
    for title, header, rows in sheets:
        sheet = book.create_sheet(str(title).translate(_BAD_TITLE)[:31] or "Sheet")
        widths = [_width(str(h)) for h in header]
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(vertical="center")
        for row in rows:
            values, formats = [], []
            for i, raw in enumerate(row):
                value, fmt = _cell_value(raw)
                values.append(value)
                formats.append(fmt)
                if i < len(widths):
                    widths[i] = max(widths[i], 12 if fmt else _width(value))
                else:
                    widths.append(_width(value))
            sheet.append(values)
            line = sheet.max_row
            for col, fmt in enumerate(formats, start=1):
                if fmt:
                    sheet.cell(row=line, column=col).number_format = fmt
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))
        sheet.freeze_panes = "A2"
    if not book.worksheets:
        book.create_sheet("Sheet")
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_response(
    filename: str, sheets: Iterable[tuple[Any, Sequence[Any], Iterable[Sequence[Any]]]]
):
    """A download of the workbook; `filename` may be Chinese (RFC 5987 name plus an ASCII one)."""
    data = build_workbook(sheets)
    response = current_app.response_class(data, mimetype=XLSX_MIME)
    fallback = "".join(
        ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename
    )
    if not fallback.endswith(".xlsx"):
        fallback += ".xlsx"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
