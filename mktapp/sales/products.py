"""Products (产品): what the sales team sells, with list price and unit cost.

The manager keeps the list (products.edit); everyone with sales.view reads it. The
cost gives the margin shown here and the profit of the sales appraisal (P4.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from math import ceil

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from mktapp.core.paging import Paging
from mktapp.core.permissions import can
from mktapp.extensions import db
from mktapp.models import utcnow
from mktapp.models.sales import Product
from mktapp.sales.pipeline import PipelineError, _like


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
        from mktapp.sales.pipeline import NotAllowed

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

SORTS = {
    "code": Product.code,
    "name": Product.name,
    "price": Product.list_price,
    "cost": Product.unit_cost,
    "updated": Product.updated_at,
}


@dataclass
class ProductQuery:
    q: str = ""
    sort: str = "code"
    dir: str = "asc"
    page: int = 1
    archived: bool = False

    @classmethod
    def from_args(cls, args) -> ProductQuery:
        try:
            page = max(1, min(100_000, int(args.get("page", 1))))
        except (TypeError, ValueError):
            page = 1
        sort = args.get("sort") or "code"
        return cls(
            q=(args.get("q") or "").strip()[:100],
            sort=sort if sort in SORTS else "code",
            dir="desc" if args.get("dir") == "desc" else "asc",
            page=page,
            archived=args.get("archived") == "1",
        )

    def args(self, **changes) -> dict:
        values = {
            "q": self.q,
            "sort": self.sort,
            "dir": self.dir,
            "page": self.page,
            "archived": "1" if self.archived else "",
        }
        values.update(changes)
        defaults = {"sort": "code", "dir": "asc", "page": 1}
        return {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}

    @property
    def filtered(self) -> bool:
        return bool(self.q or self.archived)


@dataclass
class ProductPage(Paging):
    rows: list[Product]
    total: int
    page: int
    page_size: int


def _filtered(query: ProductQuery):
    stmt = select(Product).where(
        Product.archived_at.is_not(None) if query.archived else Product.archived_at.is_(None)
    )
    if query.q:
        pattern = _like(query.q)
        stmt = stmt.where(
            or_(
                Product.code.ilike(pattern, escape="\\"),
                Product.name.ilike(pattern, escape="\\"),
                Product.specification.ilike(pattern, escape="\\"),
            )
        )
    column = SORTS[query.sort]
    order = column.asc() if query.dir == "asc" else column.desc()
    return stmt.order_by(order, Product.id)


def list_products(query: ProductQuery, page_size: int) -> ProductPage:
    stmt = _filtered(query)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, ceil(total / page_size))
    page = min(query.page, pages)
    rows = list(db.session.scalars(stmt.limit(page_size).offset((page - 1) * page_size)))
    return ProductPage(rows, total, page, page_size)


def export_rows(query: ProductQuery, limit: int = 100_000) -> list[Product]:
    return list(db.session.scalars(_filtered(query).limit(limit)))
