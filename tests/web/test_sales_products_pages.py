"""Products: the list (search, sort, export, empty state), the manager's form and its bad
input, who may edit."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import load_workbook
from sqlalchemy import delete, func, select, update

from mktapp.extensions import db
from mktapp.models.sales import Product

EN = {"Accept-Language": "en"}
GOOD = {
    "code": "ZH-TEST",
    "name": "测试产品",
    "specification": "规格 A",
    "unit": "台",
    "list_price": "1,000.00",
    "unit_cost": "600",
    "description": "",
}


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Product.id)))


def test_everyone_in_sales_reads_the_list_with_margins(login):
    html = login("sales1").get("/sales/products", headers=EN).get_data(as_text=True)
    assert "ZH-MP86" in html and "38.9%" in html  # (28800 - 17600) / 28800
    assert "New product" not in html and "/edit" not in html


def test_search_sort_and_fragment(login):
    client = login("sales1")
    frag = client.get(
        "/sales/products?q=会议平板&sort=price&dir=desc", htmx="product_rows", headers=EN
    )
    html = frag.get_data(as_text=True)
    assert "<html" not in html and "1–2 of 2 products" in html
    assert html.index("ZH-MP86") < html.index("ZH-MP65")
    none = client.get("/sales/products?q=nothing-like-this", headers=EN).get_data(as_text=True)
    assert "No product matches." in none


def test_empty_product_list_says_what_to_do(app, login):
    with app.app_context():
        # the demo's contracts name catalogue products (a foreign key PostgreSQL enforces)
        from mktapp.models import ContractLine

        db.session.execute(update(ContractLine).values(product_id=None))
        db.session.execute(delete(Product))
        db.session.commit()
    html = login("manager").get("/sales/products", headers=EN).get_data(as_text=True)
    assert "No products yet." in html and "New product" in html


def test_export_has_every_filtered_product(login):
    response = login("manager").get("/sales/products.xlsx?q=ZH-M", headers=EN)
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Product code"
    assert sorted(r[0] for r in rows[1:]) == ["ZH-MIC8", "ZH-MNT", "ZH-MP65", "ZH-MP86"]


def test_sales_rep_cannot_add_or_edit_products(app, login):
    client = login("sales1")
    assert client.get("/sales/products/new").status_code == 403
    assert client.post("/sales/products/new", data=GOOD).status_code == 403
    with app.app_context():
        pid = db.session.scalar(select(Product.id))
    assert client.post(f"/sales/products/{pid}/edit", data=GOOD).status_code == 403
    assert client.post(f"/sales/products/{pid}/archive").status_code == 403


def test_manager_adds_edits_and_archives_a_product(app, login):
    client = login("manager")
    assert client.post("/sales/products/new", data=GOOD).status_code == 303
    with app.app_context():
        product = db.session.scalars(select(Product).where(Product.code == "ZH-TEST")).one()
        assert product.list_price == Decimal("1000.00") and product.unit_cost == Decimal("600.00")
        pid = product.id
    edit = client.post(f"/sales/products/{pid}/edit", data={**GOOD, "list_price": "1200"})
    assert edit.status_code == 303
    assert client.post(f"/sales/products/{pid}/archive").status_code == 303
    row = '<span class="claim-number">ZH-TEST</span>'
    assert row not in client.get("/sales/products", headers=EN).get_data(as_text=True)
    assert row in client.get("/sales/products?archived=1").get_data(as_text=True)


def test_bad_product_input_is_shown_next_to_the_field_and_nothing_is_saved(app, login):
    client = login("manager")
    before = count(app)
    cases = [
        ({"list_price": "0"}, "The list price must be more than zero."),
        ({"list_price": "abc"}, "Enter the amount as a number"),
        ({"unit_cost": "-5"}, "cannot be negative"),
        ({"code": ""}, "Enter the product code."),
        ({"name": ""}, "Enter the product name."),
        ({"code": "zh-mp86"}, "Another product has the code"),
    ]
    for change, message in cases:
        response = client.post(
            "/sales/products/new", data={**GOOD, **change}, headers=EN, htmx=True
        )
        assert response.status_code == 422, change
        html = response.get_data(as_text=True)
        assert message in html, (change, message)
        assert 'aria-invalid="true"' in html
        # the form's banner says what to do; no empty alert box stands above it
        assert "Please correct the fields marked below" in html, change
        assert not re.search(r'role="alert">\s*</', html), change
    assert count(app) == before
