"""Reading uploaded spreadsheets (.xlsx, .csv), bounded by what is built while reading.

    for row in read_rows(data, filename):          # lists of stripped strings
        ...

Every import reads its file through here, so one set of limits holds for all of them:
the limits below bound what reading builds (columns, cells, the size of one cell, the
text in all), not only the size of the file, since a few kilobytes of .xlsx or .csv can
stand for gigabytes of cells. A file past a limit is refused while it is read with
SpreadsheetRefused, whose str() is the message for the user (a DomainError, 422).

- .xlsx: before openpyxl opens the workbook, its zip directory is checked (number of
  parts, each part's unpacked size, the total, how tightly a large part is packed) and
  every part is scanned as bytes for its rows and cells (openpyxl's loader reads each
  sheet, not only the first, and builds a row whole before handing it on): a workbook
  is held to the limits in every sheet. Then the first sheet is streamed in read-only
  mode, row by row, ignoring the sheet's declared size (a cell claimed at column XFD
  must not widen every row).
- .csv (UTF-8 or GB18030; comma, tab or semicolon): the columns of a record are counted
  on the raw line before the csv module builds it, and csv.field_size_limit bounds one
  cell.

An import may pass stricter Limits (fewer rows, a smaller file); the defaults are the
most any import reads.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flask_babel import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from mktapp.core.errors import DomainError

MAX_FILE_BYTES = 5 * 1024 * 1024  # the uploaded file itself
MAX_ROWS = 10_000  # rows below the header row
MAX_COLUMNS = 200
MAX_CELLS = 500_000  # cells read in all (empty ones inside a row included)
MAX_CELL_CHARS = 32_767  # one cell (Excel's own limit)
MAX_TEXT_CHARS = 10_000_000  # the text of all the cells together
XLSX_MAX_PARTS = 1_000  # files inside the .xlsx (a zip)
XLSX_MAX_PART_BYTES = 32 * 1024 * 1024  # one part, unpacked
XLSX_MAX_TOTAL_BYTES = 64 * 1024 * 1024  # all parts, unpacked
XLSX_MAX_RATIO = 100  # unpacked / packed, checked for parts above XLSX_RATIO_FROM bytes
XLSX_RATIO_FROM = 1024 * 1024
CSV_SNIFF_CHARS = 4096
CSV_DELIMITERS = (",", "\t", ";")

EXTENSIONS = (".xlsx", ".csv")


@dataclass(frozen=True)
class Limits:
    """What one import reads at most; an import may ask for less than the defaults."""

    max_bytes: int = MAX_FILE_BYTES
    max_rows: int = MAX_ROWS
    max_columns: int = MAX_COLUMNS
    max_cells: int = MAX_CELLS
    max_cell_chars: int = MAX_CELL_CHARS
    max_text_chars: int = MAX_TEXT_CHARS


DEFAULT_LIMITS = Limits()


class SpreadsheetRefused(DomainError):
    """A file that is not read (not a spreadsheet, unreadable, or past a limit)."""


# --- messages ------------------------------------------------------------------------------


def _too_big(limits: Limits) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _(
            "The file is too big: at most %(mb)s MB can be imported at once.",
            mb=max(1, limits.max_bytes // 2**20),
        )
    )


def _too_many_rows(limits: Limits) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _("The file has more than %(n)s rows; split it into smaller files.", n=limits.max_rows)
    )


def _too_many_columns(limits: Limits, row: int) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _(
            "The file has more than %(n)s columns (row %(row)s). Keep only the columns to "
            "import and upload it again.",
            n=limits.max_columns,
            row=row,
        )
    )


def _too_many_cells(limits: Limits) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _(
            "The file holds more than %(n)s cells; split it into smaller files.",
            n=f"{limits.max_cells:,}",
        )
    )


def _cell_too_long(limits: Limits, row: int) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _(
            "A cell in row %(row)s holds more than %(n)s characters. Shorten it and upload "
            "the file again.",
            row=row,
            n=f"{limits.max_cell_chars:,}",
        )
    )


def _too_much_text(limits: Limits) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _(
            "The file holds more than %(n)s characters of text; split it into smaller files.",
            n=f"{limits.max_text_chars:,}",
        )
    )


def _unreadable_xlsx() -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _("This is not a readable Excel workbook (.xlsx). Save it again as .xlsx and retry.")
    )


def _unpacks_too_big(mb: int) -> SpreadsheetRefused:
    return SpreadsheetRefused(
        _(
            "The workbook unpacks to more than %(mb)s MB. Keep only the list to import in it "
            "(no other sheets or pictures), or save it as CSV, and upload it again.",
            mb=mb,
        )
    )


# --- reading ----------------------------------------------------------------------------------


def read_rows(data: bytes, filename: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[list[str]]:
    """The rows of the file's first sheet as lists of stripped strings (the header row
    first; no trailing empty cells), or SpreadsheetRefused with the reason, raised before
    the first row for a file that cannot be read and while reading for one past a limit."""
    if not data:
        raise SpreadsheetRefused(_("The file is empty."))
    if len(data) > limits.max_bytes:
        raise _too_big(limits)
    ext = os.path.splitext(filename or "")[1].lower()
    if ext == ".xlsx":
        rows = _xlsx_rows(data, limits)
    elif ext == ".csv":
        rows = _csv_rows(data, limits)
    else:
        raise SpreadsheetRefused(_("Upload an Excel workbook (.xlsx) or a CSV file (.csv)."))
    return _bounded(rows, limits)


def _bounded(rows: Iterable[tuple], limits: Limits) -> Iterator[list[str]]:
    """Rows as text, counted against the limits as they come."""
    cells = chars = 0
    try:
        for number, values in enumerate(rows, start=1):
            if number > limits.max_rows + 1:
                raise _too_many_rows(limits)
            if len(values) > limits.max_columns:
                raise _too_many_columns(limits, number)
            cells += len(values)
            if cells > limits.max_cells:
                raise _too_many_cells(limits)
            row = [cell_text(value) for value in values]
            while row and not row[-1]:
                row.pop()
            for text in row:
                if len(text) > limits.max_cell_chars:
                    raise _cell_too_long(limits, number)
                chars += len(text)
            if chars > limits.max_text_chars:
                raise _too_much_text(limits)
            yield row
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # the workbook is closed now, not when the reader is collected


def cell_text(value) -> str:
    """A cell's value as the text an import reads: numbers without a needless ".0", dates
    as ISO dates (a date-time as its day), everything else stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if hasattr(value, "date") else value.isoformat()
    return str(value).strip()


# --- .xlsx ----------------------------------------------------------------------------------------

# The start of a row, a cell (with its column when `r` comes first, as every writer puts
# it) or a shared string, in any namespace prefix; a document type (never in a workbook).
_XML_MARK = re.compile(
    rb'<(?:[A-Za-z_][\w.-]{0,20}:)?(row|c|si)[\s/>](?:\s*r="([A-Z]{1,3})[0-9])?|<!(DOCTYPE|ENTITY)'
)
_SCAN_CHUNK = 1 << 16
_SCAN_OVERLAP = 64  # longer than any mark


def _check_zip(archive: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    """The parts of the workbook, once their number and unpacked sizes are acceptable."""
    parts = archive.infolist()
    if len(parts) > XLSX_MAX_PARTS:
        raise SpreadsheetRefused(
            _(
                "The workbook holds more than %(n)s parts. Keep only the list to import in it, "
                "or save it as CSV, and upload it again.",
                n=XLSX_MAX_PARTS,
            )
        )
    total = 0
    for part in parts:
        size = part.file_size  # zipfile stops (bad CRC) a part that unpacks to more
        if size > XLSX_MAX_PART_BYTES:
            raise _unpacks_too_big(XLSX_MAX_PART_BYTES // 2**20)
        if size > XLSX_RATIO_FROM and size > XLSX_MAX_RATIO * max(part.compress_size, 1):
            raise SpreadsheetRefused(
                _(
                    "The workbook is packed unusually tightly (a part grows %(ratio)s times "
                    "when unpacked), so it is not read. Open it in Excel, save it again and "
                    "upload it, or save it as CSV.",
                    ratio=size // max(part.compress_size, 1),
                )
            )
        total += size
    if total > XLSX_MAX_TOTAL_BYTES:
        raise _unpacks_too_big(XLSX_MAX_TOTAL_BYTES // 2**20)
    return parts


def _scan_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: Limits) -> None:
    """Count the rows, cells and shared strings of one part as bytes, stopping at a limit:
    openpyxl builds each row (and, at loading, a sheet without a declared size) whole."""
    rows = cells = in_row = strings = 0
    tail = b""
    with archive.open(part) as stream:
        while True:
            chunk = stream.read(_SCAN_CHUNK)
            buffer = tail + chunk
            cut = len(buffer) if not chunk else max(0, len(buffer) - _SCAN_OVERLAP)
            for mark in _XML_MARK.finditer(buffer):
                if mark.start() >= cut:
                    break
                kind, column, declaration = mark.groups()
                if declaration:
                    raise _unreadable_xlsx()
                if kind == b"row":
                    rows += 1
                    in_row = 0
                    if rows > limits.max_rows + 1:
                        raise _too_many_rows(limits)
                elif kind == b"c":
                    in_row += 1
                    cells += 1
                    if in_row > limits.max_columns or (
                        column and _column_number(column) > limits.max_columns
                    ):
                        raise _too_many_columns(limits, max(rows, 1))
                    if cells > limits.max_cells:
                        raise _too_many_cells(limits)
                else:
                    strings += 1
                    if strings > limits.max_cells:
                        raise _too_many_cells(limits)
            if not chunk:
                return
            tail = buffer[cut:]


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def _xlsx_rows(data: bytes, limits: Limits) -> Iterator[tuple]:
    """The first sheet's rows as openpyxl reads them (values), after the zip's checks."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for part in _check_zip(archive, limits):
                _scan_part(archive, part, limits)
    except SpreadsheetRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as error:
        # RuntimeError: an encrypted part; NotImplementedError (a RuntimeError): an
        # unknown compression; BadZipFile also when a part unpacks to more than declared.
        raise _unreadable_xlsx() from error
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # noqa: BLE001 (any failure to parse the upload: unreadable)
        raise _unreadable_xlsx() from error
    return _sheet_rows(book)


def _sheet_rows(book) -> Iterator[tuple]:
    try:
        if not book.worksheets:
            raise _unreadable_xlsx()
        sheet = book.worksheets[0]
        # Rows as wide as their own last cell, not as the size the sheet declares.
        sheet.reset_dimensions()
        yield from sheet.iter_rows(values_only=True)
    except SpreadsheetRefused:
        raise
    except Exception as error:  # noqa: BLE001 (any failure to parse the upload: unreadable)
        raise _unreadable_xlsx() from error
    finally:
        book.close()


# --- .csv -----------------------------------------------------------------------------------------


def _csv_rows(data: bytes, limits: Limits) -> Iterator[list[str]]:
    """The records of a UTF-8 or GB18030 CSV file (its delimiter and quote sniffed)."""
    if b"\x00" in data:
        raise SpreadsheetRefused(_("This is not a text CSV file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetRefused(_("The CSV file is neither UTF-8 nor GB18030 text."))
    return _csv_records(text, guess_delimiter(text[:CSV_SNIFF_CHARS]), '"', False, limits)


def guess_delimiter(sample: str) -> str:
    """The delimiter (comma, tab or semicolon) found most on every one of the first lines,
    a comma when in doubt. In linear time: csv.Sniffer takes up to a second on some."""
    lines = sample.splitlines()
    if len(lines) > 1 and len(sample) >= CSV_SNIFF_CHARS:
        lines.pop()  # cut short by the sample
    lines = [line for line in lines[:10] if line.strip()]

    def score(candidate: str) -> tuple[int, int, int]:
        counts = [line.count(candidate) for line in lines] or [0]
        return min(counts), sum(counts), -CSV_DELIMITERS.index(candidate)

    best = max(CSV_DELIMITERS, key=score)
    return best if score(best)[1] else ","


def _csv_records(text, delimiter, quote, skip_space, limits) -> Iterator[list[str]]:
    # The module-wide setting, the same for every import (so threads do not disagree):
    # a longer cell stops the reader as it reaches the limit.
    csv.field_size_limit(MAX_CELL_CHARS + 1)
    lines = _columns_bounded(io.StringIO(text, newline=""), delimiter, quote, skip_space, limits)
    reader = csv.reader(
        lines, delimiter=delimiter, quotechar=quote, doublequote=True, skipinitialspace=skip_space
    )
    try:
        yield from reader
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise _cell_too_long(limits, reader.line_num) from error
        raise SpreadsheetRefused(
            _("The CSV file cannot be read: %(error)s", error=str(error))
        ) from error


def _columns_bounded(lines, delimiter, quote, skip_space, limits) -> Iterator[str]:
    """The lines, refused as soon as a record has more than max_columns cells.

    Counts the delimiters outside quotes as csv reads them (a quote opens a quoted cell
    only at the start of a cell; "" inside is a quote), by jumps between delimiters and
    quotes, so that a line of 20,000 cells costs 200 steps and builds nothing."""
    in_quotes = False
    at_start = True
    cells = 1
    record = 1
    for line in lines:
        if not in_quotes and quote not in line and line.count(delimiter) < limits.max_columns:
            record += 1  # a record of one line, not too wide
            yield line
            continue
        i, end = 0, len(line)
        while i < end:
            if in_quotes:
                j = line.find(quote, i)
                if j < 0:
                    break
                if j + 1 < end and line[j + 1] == quote:  # "" inside a quoted cell
                    i = j + 2
                    continue
                in_quotes = False
                i = j + 1
                continue
            if at_start:
                if skip_space:
                    while i < end and line[i] == " ":
                        i += 1
                at_start = False
                if i < end and line[i] == quote:
                    in_quotes = True
                    i += 1
                    continue
            j = line.find(delimiter, i)
            if j < 0:
                break
            cells += 1
            if cells > limits.max_columns:
                raise _too_many_columns(limits, record)
            i = j + 1
            at_start = True
        if not in_quotes:  # the record ends with the line
            cells, at_start = 1, True
            record += 1
        yield line


def column_letter(number: int) -> str:
    """The spreadsheet name of a column (1 -> A), for messages about cells."""
    return get_column_letter(number)
