"""Hostile spreadsheets uploaded to the lead import are refused quickly, with a message on
the upload form, without building what they stand for: a workbook with one cell at column
XFD, a CSV file with a 20,000-column header, a workbook whose shared string unpacks
1000:1. A normal file is still imported."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models.sales import Customer

ROWS = 10_000  # the import's row limit: the size that made these files cost the most
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_with_a_cell_at_xfd(row: int) -> bytes:
    """A list of leads whose sheet says it is 16,384 columns wide: one cell at XFD."""
    book = Workbook()
    sheet = book.active
    sheet.append(["客户名称", "手机"])
    for _ in range(ROWS):
        sheet.append(["甲公司"])
    sheet[f"XFD{row}"] = "x"
    return _saved(book)


def csv_with_a_wide_header(columns: int = 20_000) -> bytes:
    header = ",".join(["客户名称", *(f"c{i}" for i in range(columns - 1))])
    return (header + "\n" + "甲公司\n" * ROWS).encode()


def xlsx_with_an_inflating_shared_string(megabytes: int = 30, rows: int = 1000) -> bytes:
    """Every row holds the first shared string, ~30 MB of one letter packed into ~30 KB."""
    book = Workbook()
    book.active.append(["客户名称"])
    plain = zipfile.ZipFile(io.BytesIO(_saved(book)))
    cells = "".join(
        f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>' for r in range(2, rows + 2)
    )
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1"><c r="A1" t="s"><v>1</v></c></row>'
        f"{cells}</sheetData></worksheet>"
    ).encode()
    types = plain.read("[Content_Types].xml").replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>',
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as packed:
        for name in plain.namelist():
            data = plain.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = sheet
            elif name == "[Content_Types].xml":
                data = types
            packed.writestr(name, data)
        with packed.open("xl/sharedStrings.xml", "w") as part:  # written in pieces
            part.write(f'<sst xmlns="{MAIN_NS}"><si><t>'.encode())
            piece = b"x" * 65536
            for _ in range(megabytes * 16):
                part.write(piece)
            part.write("</t></si><si><t>客户名称</t></si></sst>".encode())
    return out.getvalue()


def upload(c, data: bytes, name: str):
    return c.post(
        "/sales/customers/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def customers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Customer))


HOSTILE = {
    "a cell at XFD in the header row": (lambda: xlsx_with_a_cell_at_xfd(1), "名单.xlsx", "列"),
    "a cell at XFD in the last row": (
        lambda: xlsx_with_a_cell_at_xfd(ROWS + 1),
        "名单.xlsx",
        "列",
    ),
    "a 20,000-column CSV header": (csv_with_a_wide_header, "名单.csv", "列"),
    "a shared string inflating 1000:1": (xlsx_with_an_inflating_shared_string, "名单.xlsx", "压缩"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_is_refused_within_a_second_and_100_mb(app, login, case):
    make, name, word = HOSTILE[case]
    data = make()
    assert len(data) < 300_000  # small files: what they stand for is the problem
    c = login("market1")
    before = customers(app)

    started = time.perf_counter()
    response = upload(c, data, name)
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert elapsed < 1.0, f"{case}: {elapsed:.2f} s"
    # The reason, in Chinese, where the upload form shows its errors.
    form = page[page.index('<form class="card import-upload"') :]
    form = form[: form.index("</form>")]
    error = form[form.index('<p class="error"') :]
    error = error[: error.index("</p>")]
    assert word in error, error

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        again = upload(c, data, name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert again.status_code == 422
    assert peak - base < 100 * 2**20, f"{case}: {(peak - base) / 2**20:.0f} MB"
    assert customers(app) == before


def test_a_normal_list_is_still_imported(app, login):
    c = login("market1")
    book = Workbook()
    book.active.append(["公司名称", "联系人", "手机"])
    book.active.append(["温州海鸥阀门有限公司", "郑海", "13700000011"])
    book.active.append(["台州明远汽配有限公司", "", ""])
    response = upload(c, _saved(book), "名单.xlsx")
    assert response.status_code == 303
    token = response.headers["Location"].rsplit("/", 1)[1]
    mapping = {"col0": "name", "col1": "contact_name", "col2": "phone"}
    options = {"source": "fair", "source_detail": "", "owner_id": ""}
    before = customers(app)
    done = c.post(f"/sales/customers/import/{token}/run", data={**mapping, **options})
    assert done.status_code == 303
    assert customers(app) == before + 2
    csv_file = "客户名称;手机\n丽水青山茶业有限公司;13700000012\n".encode("gb18030")
    assert upload(c, csv_file, "名单.csv").status_code == 303
