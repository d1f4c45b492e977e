"""Importing leads through the pages: upload, mapping with preview, report, import; bad
files answered 422 with the reason and nothing saved."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models.sales import Customer

TOKEN = re.compile(r"/sales/customers/import/([A-Za-z0-9_-]+)")


def workbook(rows, headers=("公司名称", "联系人", "手机", "省份", "城市", "备注")) -> bytes:
    book = Workbook()
    book.active.append(list(headers))
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def customers(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Customer))


def upload(c, data: bytes, name: str):
    return c.post(
        "/sales/customers/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_market_specialist_imports_leads_into_the_pool(app, login):
    c = login("market1")
    rows = [
        ("嘉兴星辰纺织有限公司", "陈静", "13700000001", "浙江", "嘉兴", "展会上留名片"),
        ("", "无名氏", "13700000002", "", "", ""),
        ("上海恒通精密机械有限公司", "重复", "", "上海", "上海", ""),
        ("湖州远航竹业有限公司", "林涛", "13700000003", "浙江", "湖州", ""),
    ]
    response = upload(c, workbook(rows), "工博会名片.xlsx")
    assert response.status_code == 303
    token = TOKEN.search(response.headers["Location"]).group(1)
    page = c.get(f"/sales/customers/import/{token}").get_data(as_text=True)
    assert "嘉兴星辰纺织有限公司" in page  # preview
    assert '<option value="name" selected>' in page  # guessed mapping
    mapping = {
        "col0": "name",
        "col1": "contact_name",
        "col2": "phone",
        "col3": "province",
        "col4": "city",
        "col5": "notes",
    }
    options = {"source": "fair", "source_detail": "2026 工博会", "owner_id": ""}
    report = c.post(f"/sales/customers/import/{token}", data={**mapping, **options})
    html = report.get_data(as_text=True)
    assert report.status_code == 200
    assert "导入 2 个客户" in html
    assert re.search(r'<td class="num">3</td>', html)  # the row without a name, by row number
    assert "上海恒通精密机械有限公司</a>" in html  # the duplicate, linked
    before = customers(app)
    done = c.post(f"/sales/customers/import/{token}/run", data={**mapping, **options})
    assert done.status_code == 303 and done.headers["Location"].endswith("/sales/customers/pool")
    assert customers(app) == before + 2
    pool = c.get("/sales/customers/pool").get_data(as_text=True)
    assert "嘉兴星辰纺织有限公司" in pool and "湖州远航竹业有限公司" in pool
    assert c.get(f"/sales/customers/import/{token}").status_code == 303  # the file is gone


def test_formula_file_is_refused_with_422_and_nothing_kept(app, login, tmp_path):
    before = customers(app)
    response = upload(
        login("sales1"), workbook([("甲公司", "张三", "=SUM(1,2)", "", "", "")]), "f.xlsx"
    )
    assert response.status_code == 422
    assert "公式" in response.get_data(as_text=True)
    assert customers(app) == before


def test_malformed_and_wrong_type_files_are_422(login):
    c = login("sales1")
    assert upload(c, b"PK\x03\x04garbage", "bad.xlsx").status_code == 422
    wrong = upload(c, b"%PDF-1.4", "cards.pdf")
    assert wrong.status_code == 422 and ".xlsx" in wrong.get_data(as_text=True)
    empty = c.post("/sales/customers/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422


def test_mapping_without_the_name_column_is_422(app, login):
    c = login("sales1")
    token = TOKEN.search(
        upload(c, workbook([("丙公司", "李四", "13800000000", "", "", "")]), "a.xlsx").headers[
            "Location"
        ]
    ).group(1)
    before = customers(app)
    response = c.post(
        f"/sales/customers/import/{token}/run",
        data={"col0": "", "col1": "contact_name", "source": "fair"},
    )
    assert response.status_code == 422
    assert "客户名称" in response.get_data(as_text=True)
    assert customers(app) == before


def test_another_users_upload_cannot_be_used(login):
    token = TOKEN.search(
        upload(login("sales1"), workbook([("丁公司", "", "", "", "", "")]), "a.xlsx").headers[
            "Location"
        ]
    ).group(1)
    assert login("sales2").get(f"/sales/customers/import/{token}").status_code == 303


def test_service_agent_may_not_import(login):
    assert login("service1").get("/sales/customers/import").status_code == 403
