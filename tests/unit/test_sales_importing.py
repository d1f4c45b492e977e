"""Import of leads (P4.1): reading files, guessing columns, the per-row report, one
transaction, refusing formulas and oversized files."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from mktapp.extensions import db
from mktapp.models import AuditLog, User
from mktapp.models.sales import Contact, Customer
from mktapp.sales import importing
from mktapp.sales.customers import CustomerInput, create_customer

HEADERS = ["客户名称", "联系人", "职务", "手机", "邮箱", "省份", "城市", "来源", "等级", "备注"]


def xlsx(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def test_guess_mapping_from_chinese_and_english_headers():
    assert importing.guess_mapping(HEADERS) == [
        "name",
        "contact_name",
        "contact_title",
        "phone",
        "email",
        "province",
        "city",
        "source",
        "grade",
        "notes",
    ]
    assert importing.guess_mapping(["Company", "Contact Name", "Mobile", "E-mail", "Whatever"]) == [
        "name",
        "contact_name",
        "phone",
        "email",
        "",
    ]


def test_csv_in_utf8_with_bom_and_gb18030():
    text = "客户名称,手机\n南京天成机电有限公司,13800001111\n"
    for data in (("\ufeff" + text).encode("utf-8"), text.encode("gb18030")):
        table = importing.read_table(data, "名单.csv")
        assert table.headers == ["客户名称", "手机"]
        assert table.rows == [["南京天成机电有限公司", "13800001111"]]


def test_formula_in_a_cell_refuses_the_file():
    data = xlsx([["甲公司", "张三", "", "=1+1", "", "", "", "", "", ""]])
    with pytest.raises(importing.ImportRefused, match="D2"):
        importing.read_table(data, "leads.xlsx")
    with pytest.raises(importing.ImportRefused):
        importing.read_table('客户名称\n=HYPERLINK("x")\n'.encode(), "leads.csv")


def test_bad_files_are_refused_with_a_reason():
    with pytest.raises(importing.ImportRefused):
        importing.read_table(b"not a zip", "leads.xlsx")
    with pytest.raises(importing.ImportRefused):
        importing.read_table(b"%PDF-1.4", "leads.pdf")
    with pytest.raises(importing.ImportRefused):
        importing.read_table(b"x" * (importing.MAX_BYTES + 1), "leads.csv")
    with pytest.raises(importing.ImportRefused):
        importing.read_table("客户名称\n".encode(), "leads.csv")


def test_too_many_rows_is_refused(monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    with pytest.raises(importing.ImportRefused, match="3"):
        importing.read_table(
            ("客户名称\n" + "".join(f"公司{i}\n" for i in range(5))).encode(), "a.csv"
        )


def test_report_lists_invalid_rows_and_duplicates_by_row_number(app_ctx, demo):
    create_customer(user("sales1"), CustomerInput(name="上海已存在贸易有限公司"))
    db.session.flush()
    table = importing.read_table(
        xlsx(
            [
                [
                    "苏州新客户电子有限公司",
                    "王伟",
                    "经理",
                    "13900000001",
                    "wang@example.cn",
                    "江苏",
                    "苏州",
                    "展会名片",
                    "A",
                    "",
                ],
                ["", "无名", "", "", "", "", "", "", "", ""],
                ["上海已存在贸易", "李", "", "", "", "", "", "", "", ""],
                ["苏州新客户电子", "重复", "", "", "", "", "", "", "", ""],
                ["坏邮箱公司", "", "", "", "bad@", "", "", "", "Z", ""],
                ["来源不明公司", "", "", "", "", "", "", "火星", "", ""],
            ]
        ),
        "cards.xlsx",
    )
    report = importing.analyse(table, importing.guess_mapping(table.headers))
    assert [r.line for r in report.valid] == [2]
    invalid = {r.line: " ".join(r.problems) for r in report.invalid}
    assert set(invalid) == {3, 6, 7}
    assert "等级" in invalid[6] or "grade" in invalid[6]
    dups = {r.line: r.duplicate for r in report.duplicates}
    assert dups[4] == "上海已存在贸易有限公司"
    assert "2" in dups[5]


def test_mapping_without_name_is_refused():
    table = importing.Table(["a", "b"], [["x", "y"]])
    with pytest.raises(importing.ImportRefused):
        importing.analyse(table, ["phone", ""])
    with pytest.raises(importing.ImportRefused):
        importing.analyse(table, ["name", "name"])


def test_run_import_inserts_customers_contacts_and_audit_in_one_go(app_ctx, demo):
    rows = [
        [f"测试导入公司{i}", f"联系人{i}", "", f"1380000{i:04d}", "", "浙江", "杭州", "", "B", ""]
        for i in range(30)
    ]
    table = importing.read_table(xlsx(rows), "x.xlsx")
    report = importing.analyse(table, importing.guess_mapping(table.headers))
    count = importing.run_import(user("market1"), report, "fair", "2026 杭州展", None, "x.xlsx")
    db.session.commit()
    assert count == 30
    customers = db.session.scalars(
        select(Customer).where(Customer.name.like("测试导入公司%"))
    ).all()
    assert len(customers) == 30 and all(
        c.owner_id is None and c.source == "fair" for c in customers
    )
    assert customers[0].source_detail == "2026 杭州展" and customers[0].grade == "B"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.customer_id.in_([c.id for c in customers]))
        )
        == 30
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.record_type == "Customer", AuditLog.note.contains("x.xlsx"))
        )
        == 30
    )


def test_a_failure_midway_leaves_nothing_imported(app_ctx, demo, monkeypatch):
    rows = [[f"事务测试公司{i}", "某人", "", "", "", "", "", "", "", ""] for i in range(5)]
    table = importing.read_table(xlsx(rows), "x.xlsx")
    report = importing.analyse(table, importing.guess_mapping(table.headers))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(importing, "_tell", broken)
    with pytest.raises(RuntimeError):
        importing.run_import(user("market1"), report, "fair", "", demo["sales1"], "x.xlsx")
    db.session.rollback()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.name.like("事务测试公司%"))
        )
        == 0
    )


def test_sales_rep_imports_to_own_list(app_ctx, demo):
    table = importing.read_table("客户名称\n温州合众鞋业有限公司\n".encode(), "a.csv")
    report = importing.analyse(table, ["name"])
    importing.run_import(user("sales2"), report, "web", "", demo["sales1"], "a.csv")
    customer = db.session.scalar(select(Customer).where(Customer.name == "温州合众鞋业有限公司"))
    assert customer.owner_id == demo["sales2"]


def test_stored_upload_belongs_to_its_user(app_ctx, demo):
    data = "客户名称\n东莞盛世五金有限公司\n".encode()
    token, _table = importing.store_upload(user("sales1"), data, "list.csv")
    assert importing.load_upload(user("sales1"), token) is not None
    assert importing.load_upload(user("sales2"), token) is None
    assert importing.load_upload(user("sales1"), "../../etc/passwd") is None
    importing.discard_upload(user("sales1"), token)
    assert importing.load_upload(user("sales1"), token) is None
