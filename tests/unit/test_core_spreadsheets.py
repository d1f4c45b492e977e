"""The reader every import uses (core.spreadsheets): rows of text from .xlsx and .csv,
and the limits that bound what reading builds (columns, cells, one cell, all the text,
each part of a workbook) stopping a file while it is read."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from mktapp.core import spreadsheets as sheets
from mktapp.core.spreadsheets import Limits, SpreadsheetRefused, read_rows

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@pytest.fixture(autouse=True)
def _english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        yield


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet(sheet_xml: bytes) -> bytes:
    """A workbook made by openpyxl whose first sheet is replaced by `sheet_xml`."""
    plain = zipfile.ZipFile(io.BytesIO(xlsx([["客户名称"]])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        for name in plain.namelist():
            data = plain.read(name)
            packed.writestr(name, sheet_xml if name == "xl/worksheets/sheet1.xml" else data)
    return out.getvalue()


def test_xlsx_rows_are_text_without_trailing_empty_cells():
    data = xlsx(
        [
            ["客户名称", "数量", "日期", None],
            ["  甲公司 ", 3.0, date(2026, 12, 1), None],
            ["乙公司", 2.5, datetime(2026, 12, 2, 9, 30)],
        ]
    )
    assert list(read_rows(data, "名单.xlsx")) == [
        ["客户名称", "数量", "日期"],
        ["甲公司", "3", "2026-12-01"],
        ["乙公司", "2.5", "2026-12-02"],
    ]


def test_csv_with_quotes_line_breaks_and_each_delimiter():
    text = '客户名称,备注\n"甲公司","一,二\n三"\n乙公司,"说 ""好"""\n'
    assert list(read_rows(text.encode(), "a.csv")) == [
        ["客户名称", "备注"],
        ["甲公司", "一,二\n三"],
        ["乙公司", '说 "好"'],
    ]
    for delimiter in ("\t", ";"):
        text = (
            f"客户名称{delimiter}电话{delimiter}备注, 说明\n甲公司{delimiter}138{delimiter}a, b\n"
        )
        assert list(read_rows(text.encode("gb18030"), "a.csv"))[1] == ["甲公司", "138", "a, b"]


def test_a_row_wider_than_the_limit_is_refused_where_it_is():
    limits = Limits(max_columns=3)
    assert list(read_rows(b"a,b,c\n1,2,3\n", "a.csv", limits))
    with pytest.raises(SpreadsheetRefused, match=r"more than 3 columns \(row 2\)"):
        list(read_rows(b"a,b,c\n1,2,3,4\n", "a.csv", limits))
    with pytest.raises(SpreadsheetRefused, match=r"more than 3 columns \(row 1\)"):
        list(read_rows(xlsx([["a", "b", "c", "d"]]), "a.xlsx", limits))
    # Cells without a column reference are counted all the same.
    cells = "".join("<c t='inlineStr'><is><t>x</t></is></c>" for _ in range(4))
    sheet = f'<worksheet xmlns="{NS}"><sheetData><row>{cells}</row></sheetData></worksheet>'
    with pytest.raises(SpreadsheetRefused, match="columns"):
        read_rows(with_sheet(sheet.encode()), "a.xlsx", limits)


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=["a", ",", '"', "\n", "\r", " "], max_size=30),
    width=st.integers(min_value=1, max_value=5),
)
def test_the_column_count_before_reading_agrees_with_the_csv_module(text, width):
    widest = max((len(r) for r in csv.reader(io.StringIO(text, newline=""))), default=0)
    lines = io.StringIO(text, newline="")
    bounded = sheets._columns_bounded(lines, ",", '"', False, Limits(max_columns=width))
    try:
        assert "".join(bounded) == text
        refused = False
    except SpreadsheetRefused:
        refused = True
    assert refused == (widest > width)


def test_one_cell_too_long_all_the_text_and_too_many_cells_are_refused():
    with pytest.raises(SpreadsheetRefused, match="row 2 holds more than 5 characters"):
        list(read_rows(b"a\n123456\n", "a.csv", Limits(max_cell_chars=5)))
    big = "a\n" + "x" * (sheets.MAX_CELL_CHARS + 10) + "\n"
    with pytest.raises(SpreadsheetRefused, match="row 2 holds more than"):
        list(read_rows(big.encode(), "a.csv"))
    with pytest.raises(SpreadsheetRefused, match="more than 10 characters of text"):
        list(read_rows(xlsx([["abcdef"], ["ghijkl"]]), "a.xlsx", Limits(max_text_chars=10)))
    with pytest.raises(SpreadsheetRefused, match="more than 5 cells"):
        list(read_rows(b"a,b\n1,2\n3,4\n", "a.csv", Limits(max_cells=5)))
    with pytest.raises(SpreadsheetRefused, match="more than 2 rows"):
        list(read_rows(b"a\n1\n2\n3\n", "a.csv", Limits(max_rows=2)))


def test_a_workbook_is_checked_as_a_zip_before_it_is_read(monkeypatch):
    data = xlsx([["客户名称"], ["甲公司"]])
    monkeypatch.setattr(sheets, "XLSX_MAX_PART_BYTES", 1000)
    with pytest.raises(SpreadsheetRefused, match="unpacks to more than"):
        read_rows(data, "a.xlsx")
    monkeypatch.setattr(sheets, "XLSX_MAX_PART_BYTES", 10**9)
    monkeypatch.setattr(sheets, "XLSX_MAX_PARTS", 3)
    with pytest.raises(SpreadsheetRefused, match="more than 3 parts"):
        read_rows(data, "a.xlsx")
    monkeypatch.setattr(sheets, "XLSX_MAX_PARTS", 1000)
    monkeypatch.setattr(sheets, "XLSX_RATIO_FROM", 100)
    monkeypatch.setattr(sheets, "XLSX_MAX_RATIO", 2)
    with pytest.raises(SpreadsheetRefused, match="packed unusually tightly"):
        read_rows(data, "a.xlsx")


def test_a_part_larger_than_it_claims_or_with_a_doctype_is_not_read():
    data = bytearray(xlsx([["客户名称"], ["甲公司" * 50]]))
    name = b"xl/worksheets/sheet1.xml"
    size = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(name.decode()).file_size
    # The central directory claims half the unpacked size: zipfile stops there (bad CRC).
    header = data.find(b"PK\x01\x02")
    while header != -1:
        length = int.from_bytes(data[header + 28 : header + 30], "little")
        if data[header + 46 : header + 46 + length] == name:
            data[header + 24 : header + 28] = (size // 2).to_bytes(4, "little")
        header = data.find(b"PK\x01\x02", header + 4)
    with pytest.raises(SpreadsheetRefused, match="not a readable Excel workbook"):
        read_rows(bytes(data), "a.xlsx")
    doctype = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet xmlns="' + NS.encode() + b'"/>'
    with pytest.raises(SpreadsheetRefused, match="not a readable Excel workbook"):
        read_rows(with_sheet(doctype), "a.xlsx")


def test_the_delimiter_is_guessed_in_linear_time_from_the_first_lines():
    assert sheets.guess_delimiter("a,b,c\n1,2,3\n") == ","
    assert sheets.guess_delimiter("a\tb\n1\t2\n") == "\t"
    assert sheets.guess_delimiter("名称;电话;备注, 说明\n甲;138;a, b\n") == ";"
    assert sheets.guess_delimiter("名称\n甲\n") == ","
    assert sheets.guess_delimiter('""\n' * 1365) == ","  # half a second for csv.Sniffer
