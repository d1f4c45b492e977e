"""The sales chapter's record pickers (core/pickers): customers and products.

Registered with the app when the sales blueprint is (`register`, from routes_customers);
a form field names them: PickerField(source="customers").
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, lazyload

from mktapp.core import pickers
from mktapp.core.i18n import money
from mktapp.core.permissions import visible
from mktapp.models.sales import Customer, Product
from mktapp.sales.customers import name_key


def _customers(user):
    """The customers this user may see and link to (not archived), with their owners."""
    return visible(select(Customer).where(Customer.archived_at.is_(None)), user, Customer).options(
        joinedload(Customer.owner).lazyload("*"), lazyload(Customer.contacts)
    )


def _customer_detail(customer: Customer) -> str:
    place = customer.province
    if customer.city and customer.city != customer.province:
        place = f"{place} {customer.city}".strip()
    owner = customer.owner.display_name if customer.owner else _("Pool")
    return " · ".join(p for p in (place, owner) if p)


def _customer_key(q: str):
    # "上海恒通" finds "上海恒通机电有限公司" and "上海 恒通（集团）" alike.
    key = name_key(q)
    return Customer.name_key.contains(key, autoescape=True) if key else None


CUSTOMERS = pickers.PickerSource(
    name="customers",
    model=Customer,
    query=_customers,
    label=lambda c: c.name,
    columns=(Customer.name,),
    extra=_customer_key,
    detail=_customer_detail,
    browse=(Customer.updated_at.desc(),),  # nothing typed: the latest worked on first
    permissions=("sales.view",),
)


def _products(user):
    """The catalogue (not archived): every sales user may quote any product."""
    return select(Product).where(Product.archived_at.is_(None))


def _product_detail(product: Product) -> str:
    return " · ".join(p for p in (product.specification, money(product.list_price)) if p)


PRODUCTS = pickers.PickerSource(
    name="products",
    model=Product,
    query=_products,
    label=lambda p: f"{p.code} {p.name}",
    columns=(Product.name, Product.code),
    extra=lambda q: (Product.code + " " + Product.name).icontains(q, autoescape=True),
    detail=_product_detail,
    browse=(Product.code,),
    permissions=("sales.view",),
)


def register(state) -> None:
    """Called once when the sales blueprint is registered on an app."""
    pickers.register(state.app, CUSTOMERS)
    pickers.register(state.app, PRODUCTS)
