"""Products (产品): what the sales team sells, with list price and unit cost.

The manager keeps the list (products.edit); everyone with sales.view reads it. The
cost gives the margin shown here and the profit of the sales appraisal (P4.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from mktapp.core.lists import Column, Filter, ListPage, ListSpec, actions_column, contains, flag
from mktapp.core.permissions import can
from mktapp.extensions import db
from mktapp.models import utcnow
from mktapp.models.sales import Product
from mktapp.sales.pipeline import NotAllowed, PipelineError


class ProductError(PipelineError):
    pass


def margin(product: Product) -> Decimal | None:
    """(price − cost) / price as a percentage, or None without a price."""
    price = Decimal(product.list_price or 0)
    if price <= 0:
        return None
    return ((price - Decimal(product.unit_cost or 0)) / price * 100).quantize(Decimal("0.1"))


@dataclass
class ProductInput:
    code: str
    name: str
    specification: str = ""
    unit: str = ""
    list_price: Decimal | None = None
    unit_cost: Decimal | None = None
    description: str = ""


def _check(data: ProductInput, product: Product | None) -> None:
    code = (data.code or "").strip()
    if not code:
        raise ProductError(_("Enter the product code."), "code")
    if not (data.name or "").strip():
        raise ProductError(_("Enter the product name."), "name")
    if data.list_price is None or data.list_price <= 0:
        raise ProductError(_("The list price must be more than zero."), "list_price")
    if data.unit_cost is None or data.unit_cost < 0:
        raise ProductError(_("The unit cost cannot be negative."), "unit_cost")
    clash = select(Product.id).where(func.lower(Product.code) == code.lower())
    if product is not None and product.id is not None:
        clash = clash.where(Product.id != product.id)
    if db.session.scalar(clash) is not None:
        raise ProductError(_("Another product has the code %(code)s.", code=code), "code")


def _apply(product: Product, data: ProductInput) -> None:
    product.code = data.code.strip()
    product.name = data.name.strip()
    product.specification = (data.specification or "").strip()
    product.unit = (data.unit or "").strip()
    product.list_price = data.list_price
    product.unit_cost = data.unit_cost
    product.description = (data.description or "").strip()


def _allowed(actor) -> None:
    if not can(actor, "products.edit"):
        raise NotAllowed(_("Only the marketing manager keeps the product list."))


def create_product(actor, data: ProductInput) -> Product:
    _allowed(actor)
    _check(data, None)
    product = Product()
    _apply(product, data)
    db.session.add(product)
    db.session.flush()
    return product


def update_product(actor, product: Product, data: ProductInput) -> Product:
    _allowed(actor)
    _check(data, product)
    _apply(product, data)
    db.session.flush()
    return product


def archive_product(actor, product: Product) -> None:
    _allowed(actor)
    if product.archived_at is None:
        product.archived_at = utcnow()


# --- the list ------------------------------------------------------------------------------


def _margin_cell(product: Product) -> float | None:
    value = margin(product)
    return float(value) if value is not None else None


PRODUCTS = ListSpec(
    "product",
    [
        Column("code", _l("Product code"), lambda p: p.code, sort=Product.code),
        Column("name", _l("Product name"), lambda p: p.name, sort=Product.name),
        Column("specification", _l("Specification"), lambda p: p.specification),
        Column("unit", _l("Unit"), lambda p: p.unit),
        Column(
            "price", _l("List price"), lambda p: p.list_price, sort=Product.list_price, cls="num"
        ),
        Column("cost", _l("Unit cost"), lambda p: p.unit_cost, sort=Product.unit_cost, cls="num"),
        Column("margin", _l("Margin"), cls="num", export=False),
        Column("margin_pct", _l("Margin (%)"), _margin_cell, screen=False),
        Column("description", _l("Description"), lambda p: p.description, screen=False),
        actions_column(),  # only to those who edit
    ],
    filters=[Filter("archived", flag, default=False)],
    default_sort="code",
    tie=Product.id,
    tie_follows_sort=False,
    sorts={"updated": Product.updated_at},
)
ProductQuery = PRODUCTS.Query


def _filtered(query):
    stmt = select(Product).where(
        Product.archived_at.is_not(None) if query.archived else Product.archived_at.is_(None)
    )
    if query.q:
        stmt = stmt.where(contains(query.q, Product.code, Product.name, Product.specification))
    return stmt


def list_products(query, page_size: int) -> ListPage:
    return PRODUCTS.page(_filtered(query), query, page_size)


def export_rows(query, limit: int = 100_000) -> list[Product]:
    return PRODUCTS.export_rows(_filtered(query), query, limit)
